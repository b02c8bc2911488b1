// plan/setup.hpp — what the planner's units share: a request's workload and search bounds
// (plan_request), the /estimate-gpu-memory request of one setup (setup_request) and the option
// that setup becomes once estimated (plan_option). plan.hpp, solve.hpp, sweep.hpp and
// placement.hpp build on these, over one search (search.hpp, internal to src/plan).
//
// Contract:
//  * Every figure comes from `estimate()` (estimate.hpp) run on an ordinary /estimate-gpu-memory
//    request that the planner builds for the setup (GPU, tensor/pipeline parallel sizes,
//    precision): a `setup_request`, the client's request with those fields set. Its body is
//    returned with each answer (`estimate_request`, written by api/plan_json.hpp), so posting it
//    to /estimate-gpu-memory reproduces the per-GPU `vllm_startup` numbers exactly. No second
//    memory formula exists here.
//  * The workload is `max_model_len` (context per sequence; default: the model's own maximum)
//    and, optionally, `max_batch_size` (sequences served at once, passed to vLLM as
//    --max-num-seqs). A setup `fits` when vLLM starts and, if a batch was asked for, its KV cache
//    holds that many sequences of max_model_len tokens (vLLM's "Maximum concurrency" >= batch).
//  * The planner works on typed values only and includes no JSON library; api/plan_json.hpp
//    decodes the requests (strictly, like parse_estimate_request) and writes the answers.
// Units: bytes internally; GiB (2^30) for memory at the edges, USD for prices (per GPU-hour in
// the catalog; a month is 730 hours). Pure (catalogs passed in), thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/gpu_catalog.hpp"

namespace vllm_mem {

inline constexpr double kHoursPerMonth = 730.0;  // 8760 / 12

// USD per GPU-hour by catalog GPU id, overriding the catalog's prices.
using gpu_prices = std::map<std::string, double>;

// Bounds of the values a search sets: the estimate decoder's (parse_estimate_request), and how far
// "what would fit" looks for more GPUs (8 nodes of 8).
inline constexpr std::uint64_t kMaxContextTokens = 1ULL << 31;
inline constexpr std::uint64_t kMaxBatchSequences = 1ULL << 20;
inline constexpr std::uint64_t kMoreGpusLimit = 64;

// The client's estimate fields as sent. api/plan_json.hpp defines it and keeps them there to write
// each setup's /estimate-gpu-memory body (which repeats what the client wrote, hf_config and all);
// the planner only hands it on.
struct estimate_body;

// The /estimate-gpu-memory request of one setup: the client's request with the setup's values
// set. `request` is what estimate() runs. Its body (api/plan_json.hpp) is the client's fields
// (`client`) with these written over them: `gpu` when the request has one (a setup's GPU is a
// catalog id; then no gpu_memory_gib), tensor_parallel_size and pipeline_parallel_size when above
// 1 (else absent), max_seq_len when the client sent none, and the fields marked `sets_*`.
struct setup_request {
  estimate_request request;
  std::shared_ptr<const estimate_body> client;
  bool sets_kv_cache_dtype = false;  // kv_cache_dtype
  bool sets_quantization = false;    // quantization (quantization_text)
  bool sets_context = false;         // max_model_len and max_seq_len
  bool sets_batch = false;           // max_batch_size (and no max_num_seqs)
  bool sets_utilization = false;     // gpu_memory_utilization
};

// A request's setup and workload (the estimate fields) and how far the search goes; the input of
// plan(), and the setup of a solve, a sweep and each model of a placement.
struct plan_request {
  estimate_request base;  // the estimate fields decoded, max_seq_len filled in
  std::shared_ptr<const estimate_body> client;  // those fields as sent (api/plan_json.hpp)
  bool context_from_model = false;     // no max_model_len / max_seq_len: the model's maximum
  std::optional<std::uint64_t> batch;  // max_batch_size / max_num_seqs, when given
  std::optional<std::uint64_t> num_gpus;
  bool parallel_fixed = false;    // tensor_parallel_size or pipeline_parallel_size given
  std::vector<std::string> gpus;  // allowed catalog ids; empty: all with a CUDA memory reading
  std::uint64_t max_gpus = 8;
  std::uint64_t gpus_per_node = 8;
  std::optional<double> budget_usd_per_hour;
  gpu_prices prices;
  bool precision_trades = true;
  std::uint64_t max_options = 0;  // 0: all
  // From a vllm_command: the flags it did not use, "flag: reason" (api/vllm_command.hpp).
  bool from_vllm_command = false;
  std::vector<std::string> ignored_flags;
};

struct gpu_price {
  double usd_per_gpu_hour = 0;
  std::string source;                      // "request" or "catalog"
  std::optional<cloud_instance> instance;  // the catalog instance the price comes from
};

// A setup, estimated: whether it starts and fits the workload, why, its command and its price.
struct plan_option {
  std::string gpu;  // catalog id ("" for a gpu_memory_gib GPU)
  std::string gpu_name;
  std::uint64_t num_gpus = 1, tp = 1, pp = 1, nodes = 1;
  setup_request request;  // the /estimate-gpu-memory request of this setup
  estimate_result est;
  bool starts = false;
  bool fits = false;
  std::string limiting_factor;
  std::string reason;
  std::string trades_precision;  // "" at the requested precision, else "fp8 KV cache", ...
  std::string vllm_command;
  std::optional<gpu_price> price;
  std::optional<cloud_instance> rent;  // cheapest catalog instance with >= num_gpus GPUs
  std::optional<double> hourly_cost_usd, monthly_cost_usd;
  std::optional<bool> within_budget;
  std::vector<std::string> notes;
};

}  // namespace vllm_mem
