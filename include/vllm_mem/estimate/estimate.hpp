// estimate/estimate.hpp — the seed API's estimate: the typed request, model resolution, result.
//
// Contract:
//  * `estimate_request` holds the decoded request (api/estimate_json.hpp decodes the JSON body):
//    the seed fields with their defaults, vLLM's deployment fields, an optional converted
//    config.json (`hf_config`) and the checkpoint's exact tensor bytes (`safetensors`).
//  * `resolve_model` decides the architecture: hf_config, else params_billions, else the
//    database (exact id, variants, re-uploads, quantized checkpoint names), else a complete
//    request `architecture`, else an estimate from the name; the request `architecture` then
//    overrides field by field. `model_source` says which; it is "safetensors" when the request
//    carries the checkpoint's exact bytes, which then set the weights (weights.hpp).
//  * `estimate` computes the seed fields (per GPU when parallel) and, when a GPU is given, the
//    `vllm_startup` figures. Units: bytes; the response writer (api/estimate_json.hpp) prints
//    decimal GB (1e9) for the seed's `_gb` fields and GiB (2^30) for `vllm_startup`, as vLLM does.
// Pure (the database and catalog are passed in), thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vllm_mem/ingest/gpu_catalog.hpp"
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/ingest/safetensors.hpp"
#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/model/dtype.hpp"
#include "vllm_mem/model/quantization.hpp"
#include "vllm_mem/util/result.hpp"
#include "vllm_mem/vllm/profile.hpp"
#include "vllm_mem/vllm/startup.hpp"

namespace vllm_mem {

struct estimate_request {
  std::string model_name;
  std::uint64_t max_seq_len = 0;
  dtype_choice dtype{false, dtype::float16};
  std::string dtype_text = "float16";
  bool dtype_given = false;  // absent: the seed default, which serves like vLLM's --dtype auto
  std::optional<dtype_choice> kv_cache_dtype;
  std::optional<std::uint64_t> max_batch_size;
  std::optional<std::uint64_t> max_model_len;
  double gpu_memory_utilization = 0.9;
  bool gpu_memory_utilization_given = false;  // unset: the version's default (0.92, 1.0 at 0.34)
  std::uint64_t kv_cache_memory_bytes = 0;    // --kv-cache-memory; 0: unset
  double cpu_offload_gb = 0.0;       // --cpu-offload-gb: GiB of weights per GPU on the host
  double reserved_memory_gib = 0.0;  // GiB per GPU already held by other processes at start
  capture_settings capture;          // cudagraph_mode, capture sizes
  bool max_model_len_auto = false;   // max_model_len "auto" / -1
  std::optional<quant_spec> quantization;
  std::string quantization_text;
  std::optional<double> params_billions;
  std::optional<arch_spec> architecture;
  std::optional<arch_spec> hf_config;  // converted to canonical form at decode time
  std::string hf_config_model_type;
  std::optional<checkpoint_size> safetensors;  // exact checkpoint bytes
  std::string model_origin;  // where hf_config/safetensors were found (set by lookups, not JSON)
  // Deployment (vLLM's flags).
  std::optional<std::string> gpu;
  std::optional<double> gpu_memory_gib;
  std::uint64_t tensor_parallel_size = 1;
  std::uint64_t pipeline_parallel_size = 1;
  std::optional<std::uint64_t> max_num_batched_tokens;
  std::optional<std::uint64_t> block_size;
  bool enforce_eager = false;
  bool enable_expert_parallel = false;
  std::optional<interconnect_kind> interconnect;  // absent: from the GPU (catalog), else NVLink
  lora_config lora;  // enable_lora, max_loras, max_lora_rank, max_cpu_loras, lora_dtype, ...
  mm_limits mm;      // limit_mm_per_prompt
  // speculative_config; num_speculative_tokens 0 = not given (the method's default applies).
  speculative_config speculative;
  std::optional<std::string> speculative_model;             // speculative_config.model
  std::optional<std::uint64_t> draft_tensor_parallel_size;  // ...draft_tensor_parallel_size
  std::optional<vllm_version> version;
  std::optional<engine_kind> engine;
  // From a `vllm_command`: its flags that do not change the estimate, "flag: reason".
  bool from_vllm_command = false;
  std::vector<std::string> ignored_flags;
};

struct resolved_model {
  model_arch arch;
  std::string
      source;  // database | request_architecture | params_billions | name_estimate | hf_config ...
  std::string resolved_id;  // database id, when the database resolved it
  std::string match;        // exact | suffix_variant | reupload | quantized_checkpoint
  const model_entry* entry = nullptr;
  std::vector<std::string> warnings;
};
result<resolved_model> resolve_model(const estimate_request& r, const model_db& db);
// The same, written into `out` (a default-constructed resolved_model): the estimate resolves into
// its own result without a copy.
status resolve_model_into(const estimate_request& r, const model_db& db, resolved_model& out);

struct seed_components {
  std::uint64_t model_params = 0;
  std::uint64_t activation = 0;
  std::uint64_t min_kv_cache = 0;
  std::uint64_t max_kv_cache = 0;
  std::uint64_t cuda_overhead = 0;
  std::uint64_t total_min = 0;
  std::uint64_t total_max = 0;
  std::uint64_t recommended = 0;
};

struct estimate_result {
  std::string model_name;
  resolved_model model;
  seed_components bytes;  // per GPU (rank 0) when parallel
  param_counts params;
  std::uint64_t kv_cache_bytes_per_token = 0;  // per GPU, all layers, full-length basis
  std::uint64_t num_gpus = 1;
  deployment deploy;
  bool has_gpu = false;
  std::string gpu_id;
  startup_result startup;
  std::string vllm_args;
  std::vector<std::string> warnings;
  bool from_vllm_command = false;          // the request came as a vllm_command
  std::vector<std::string> ignored_flags;  // its flags that do not change the estimate
  double gpu_memory_utilization = 0.9;
  std::optional<checkpoint_size> checkpoint;  // the request's exact checkpoint bytes
  std::uint64_t checkpoint_layout_bytes = 0;  // the architecture's bytes in the checkpoint layout
  std::string model_origin;                   // where the model's files were found
};

result<estimate_result> estimate(const estimate_request& r, const model_db& db,
                                 const gpu_catalog& gpus);
// The same estimate, written into `out` (a default-constructed estimate_result), for a model
// already resolved from this request (resolve_model(r, db)): for callers that estimate many
// setups of one model (plan/search.hpp). Resolution reads only model_name, hf_config,
// params_billions, architecture and safetensors, so requests that differ in other fields share
// it; in place, because an estimate_result is large to move.
status estimate(const estimate_request& r, const resolved_model& model, const gpu_catalog& gpus,
                estimate_result& out);

// vLLM's parallelism rules: attention heads divisible by tensor_parallel_size; KV heads divisible
// by it or a divisor of it (replicated); pipeline_parallel_size at most the layer count.
status check_parallel_sizes(const model_arch& a, std::uint64_t tp, std::uint64_t pp);

// Decimal GB rounded to 2 decimals (the seed's unit).
double bytes_to_gb(std::uint64_t bytes);
// GiB rounded to 2 decimals (vLLM's unit).
double bytes_to_gib(double bytes);

}  // namespace vllm_mem
