// api/accuracy.hpp — scoring the startup model against real vLLM startup logs.
//
// Contract: `score_cases` runs every case of a cases file (the format of
// ../shared/ground-truth/vllm-startup-cases.dev.json: {id, request, expected}) through the same
// request decoder and estimate as POST /estimate-gpu-memory, and compares the `vllm_startup`
// figures with the logged ones exactly as tools/score_accuracy.py does: relative error of
// weights and KV tokens, absolute error of activation, non-torch, CUDA graph and KV GiB, the
// share of right fit verdicts, and the coverage (cases answered with a vllm_startup object).
// Percentiles use the nearest-rank rule of that script. Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/ingest/catalogs.hpp"

namespace vllm_mem {

struct case_row {
  std::string id;
  std::string model;
  bool covered = false;
  std::string miss;          // the error when not covered
  nlohmann::json predicted;  // the vllm_startup object
  nlohmann::json expected;
};

struct accuracy_summary {
  std::size_t cases = 0;
  double coverage = 0;
  std::size_t weights_n = 0, tokens_n = 0, activation_n = 0, fits_n = 0;
  std::optional<double> weights_rel_median, weights_rel_p90;
  std::optional<double> tokens_rel_median, tokens_rel_p90;
  std::optional<double> activation_abs_median_gib, activation_abs_p90_gib;
  std::optional<double> non_torch_abs_median_gib, cuda_graph_abs_median_gib;
  std::optional<double> kv_gib_abs_median, kv_gib_abs_p90;
  std::optional<double> fits_accuracy;
};

struct accuracy_report {
  std::vector<case_row> rows;
  accuracy_summary summary;
  std::vector<std::string> missed_targets;  // targets of issue 3 not met
};

result<accuracy_report> score_cases(const nlohmann::json& cases, const catalogs& c);

nlohmann::json to_json(const accuracy_summary& s);

}  // namespace vllm_mem
