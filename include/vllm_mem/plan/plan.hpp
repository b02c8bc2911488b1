// plan/plan.hpp — deployment planning on top of the estimate: which GPU, how many, which
// `vllm serve` flags, at what cost.
//
// Contract:
//  * The options are the setups tried on each allowed GPU type (GPU counts in powers of two up to
//    a node, then whole nodes, up to max_gpus; in a node the largest tensor parallel size the
//    model takes, pipeline stages across nodes) up to the first that fits, best first: fitting
//    (and within the budget), at the requested precision, priced before unpriced and cheaper
//    first, then fewer GPUs, less memory and more concurrency.
//  * Precision trades (fp8 KV cache, fp8 or 4-bit weights) are options only where they fit on
//    fewer GPUs than the requested precision needs, and where the GPU runs them in vLLM.
//  * When nothing fits, the suggestions say what would: more GPUs (up to 64), a shorter context
//    or fewer sequences on the closest setup, a precision trade, a larger budget; `summary` says
//    the answer in one paragraph.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vllm_mem/ingest/gpu_catalog.hpp"
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/plan/setup.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

// The setup a suggestion names, and the value it changes.
struct suggestion_details {
  std::string gpu;  // catalog id ("" for a gpu_memory_gib GPU)
  std::uint64_t num_gpus = 0;
  std::optional<std::uint64_t> tensor_parallel_size, pipeline_parallel_size;
  std::optional<std::uint64_t> max_model_len, max_batch_size;
  std::optional<std::string> trades_precision;
};

struct plan_suggestion {
  std::string kind;  // more_gpus | shorter_context | fewer_sequences | precision | budget
  std::string text;
  suggestion_details details;
};

struct plan_result {
  std::string model_name;
  std::string resolved_model_id;
  std::string model_source;
  std::uint64_t max_model_len = 0;
  std::optional<std::uint64_t> batch;
  bool context_from_model = false;
  std::vector<plan_option> options;  // best first
  std::vector<plan_suggestion> suggestions;
  std::vector<std::pair<std::string, std::string>> skipped_gpus;  // id, why
  std::string summary;
  std::vector<std::string> warnings;
};

result<plan_result> plan(const plan_request& r, const model_db& db, const gpu_catalog& gpus);

}  // namespace vllm_mem
