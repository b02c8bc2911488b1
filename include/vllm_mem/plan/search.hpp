// plan/search.hpp — the search that plan, solve, sweep and placement share (internal to
// src/plan; their contracts are in plan.hpp, solve.hpp, sweep.hpp and placement.hpp).
//
//  * Setups: a setup is its request (setup_of: the client's request on a GPU, with parallel sizes
//    and a precision trade; with_context / with_batch / with_utilization: at another workload
//    value), tried per GPU type over GPU counts (candidate_counts, split_gpus).
//  * Assessment: assess_setup and evaluate run the estimate of a setup and read whether it fits;
//    finish_option and dress add the texts a returned option carries (reason, `vllm serve`
//    command, price, notes). For speed (a search tries hundreds of setups) the model is resolved
//    once per request and the texts are written only for the setups returned.
//  * Reverse solves: `solver` bisects over the forward model at one setup; solve_min_gpus walks
//    the GPU counts.
//  * Text helpers for the answers' messages.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/gpu_catalog.hpp"
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/plan/setup.hpp"
#include "vllm_mem/plan/solve.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem::plan_detail {

inline constexpr int kUtilSteps = 1000;  // gpu_memory_utilization resolution: 0.001

error bad(const std::string& field, const std::string& message);

// ---------------------------------------------------------------------------------------------
// Texts

// printf's "%.*f", by std::to_chars with a precision (specified to give printf's digits).
std::string fmt(int decimals, double v);
std::string usd(double v);  // "$12.34"
// "2x H100-80GB (tensor parallel 2)": the option's GPUs and split.
std::string setup_text(const plan_option& o);
// "$4.50/hour ($3285.00/month)", or "no price known".
std::string cost_text(const plan_option& o);
// `vllm serve` with the estimate's flags (a placeholder name for a 4-bit checkpoint); `env`
// (assignments) and the estimate's VLLM_USE_V1=0 stay in front.
std::string serve_command(const std::string& model, const std::string& vllm_args, bool four_bit,
                          const std::string& env = "");

// ---------------------------------------------------------------------------------------------
// Requests and setups

// Replaces the placeholder context by the model's maximum (vLLM's default max_model_len).
status finish_context(plan_request& r, const model_arch& a);

// A value the estimate decoder would refuse (parse_estimate_request's bounds), for the values a
// search sets (context, batch): the decoder's error, as /estimate-gpu-memory would answer the
// setup's body.
status within_decoder_bounds(const estimate_request& q);

// A precision trade: what it sets instead of the requested precision.
struct precision_variant {
  const char* label;  // trades_precision
  bool fp8_kv;
  const char* quantization;  // nullptr: the requested weights
  bool four_bit;
};

// Whether vLLM runs the variant on the GPU, with what to know about it (appended to `notes`).
// `g` null: a GPU given by memory only (not checked).
bool variant_supported(const gpu_entry* g, const precision_variant& v,
                       std::vector<std::string>& notes);

// The request of a setup: the client's, on GPU `g` (null: as the request gives it), with the
// parallel sizes and the precision trade `v` (null: the requested precision).
setup_request setup_of(const plan_request& r, const gpu_entry* g, std::uint64_t tp,
                       std::uint64_t pp, const precision_variant* v);
// The setup at another workload value.
setup_request with_context(setup_request s, std::uint64_t len);
setup_request with_batch(setup_request s, std::uint64_t n);
setup_request with_utilization(setup_request s, double u);

// Tensor x pipeline split of n GPUs: the largest tensor parallel size vLLM accepts that fits in a
// node, the rest as pipeline stages.
std::optional<std::pair<std::uint64_t, std::uint64_t>> split_gpus(const model_arch& a,
                                                                  std::uint64_t n,
                                                                  std::uint64_t per_node);
// GPU counts to try: powers of two within a node, the full node, then whole nodes (2 to 8
// nodes, then doubling, so that the list stays short for any max_gpus).
std::vector<std::uint64_t> candidate_counts(std::uint64_t max_gpus, std::uint64_t per_node);

// ---------------------------------------------------------------------------------------------
// Assessing a setup

// One request's search: the request (context finished), its model resolved once and the
// catalogs.
struct planner_ctx {
  const plan_request& r;
  const resolved_model& model;  // r.base's model: the same for every setup (estimate.hpp)
  const model_arch& arch;
  const model_db& db;
  const gpu_catalog& gpus;
};

struct setup_key {
  const gpu_entry* gpu;
  std::uint64_t tp, pp;
};

// The option of a setup given as its request (a probe of the solver, an instance of a
// placement), with its reason, into `o` (a default-constructed option; on an error, only its
// request is set); `model` resolved from the request's model fields. A value the decoder would
// refuse is that error, as when the body was posted.
status evaluate(plan_option& o, setup_request q, std::optional<std::uint64_t> batch,
                const resolved_model& model, const gpu_catalog& gpus);

// Adds the GPU, command, price and notes to an evaluated option.
void dress(plan_option& o, const planner_ctx& c, const gpu_entry* g, const precision_variant* v,
           std::vector<std::string> variant_notes);

// The setup assessed into `o`: its estimate and fit, not yet its texts. In place: an option is
// large to move.
status assess_setup(plan_option& o, const planner_ctx& c, const setup_key& k,
                    const precision_variant* v);
// Completes an assessed setup into an option: its reason, command, price and notes.
void finish_option(plan_option& o, const planner_ctx& c, const setup_key& k,
                   const precision_variant* v);
// assess_setup, then finish_option.
result<plan_option> make_option(const planner_ctx& c, const setup_key& k,
                                const precision_variant* v);

// The one setup a solve or a sweep is about: the request with its context finished, its model
// (what ctx() refers to: not to be copied once in use) and its GPU (null: by memory, or none).
struct fixed_setup {
  plan_request r;
  resolved_model model;
  const gpu_entry* g = nullptr;
  planner_ctx ctx(const model_db& db, const gpu_catalog& gpus) const {
    return {r, model, model.arch, db, gpus};
  }
};
// Prepares `st` for the request and estimates its setup into `setup` (a default-constructed
// option), in place.
status prepare_fixed_setup(fixed_setup& st, plan_option& setup, const plan_request& request,
                           const model_db& db, const gpu_catalog& gpus);

// ---------------------------------------------------------------------------------------------
// Reverse solves at one setup

struct solver {
  const planner_ctx& c;
  const gpu_entry* gpu;
  setup_request body;  // the setup at the workload

  // The setup at a probed value. The setup itself was evaluated before any probe, so a rule
  // the probe breaks (V0: max_num_batched_tokens below max_model_len) or a probe whose bytes
  // pass 2^60 (checked_math.hpp) means "does not fit".
  result<plan_option> at(setup_request q, std::optional<std::uint64_t> batch) const;
  // Largest context that fits (with `batch`) by bisection over the forward model.
  result<solved> max_model_len(std::optional<std::uint64_t> batch) const;
  // Largest --max-num-seqs whose sequences all fit at the context.
  result<solved> max_concurrency() const;
  // Smallest gpu_memory_utilization (step 0.001) that fits.
  result<solved> min_utilization(std::optional<std::uint64_t> batch) const;
};

// Fewest GPUs of one type (candidate counts up to max_gpus) that fit.
result<solved> solve_min_gpus(const planner_ctx& c, const gpu_entry* g, std::uint64_t max_gpus);

}  // namespace vllm_mem::plan_detail
