// plan/planner.hpp — deployment planning on top of the estimate: which GPU, how many, which
// `vllm serve` flags, at what cost; reverse solves; several models on shared GPUs; sweeps.
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
//  * The planner works on typed values only; the requests are decoded and the answers written by
//    api/plan_json.hpp, strictly like parse_estimate_request.
//  * Reverse solves search the forward model (binary search over estimate()), so the value found
//    fits and the next step (one block more context, one more sequence, 0.001 less utilization,
//    the next smaller GPU count) does not; the check is part of the answer.
//  * Placement packs instances so that, on every GPU, the process footprints (budget T*u plus the
//    CUDA context and CUDA graphs outside the budget) sum to at most the GPU's memory. Versions
//    that charge co-located instances each other's memory (V0 0.6.4, V1 0.7-0.9.1, §3) get
//    cumulative utilizations in start order.
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
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/util/result.hpp"

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

// ---------------------------------------------------------------------------------------------
// Plan

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
};

struct gpu_price {
  double usd_per_gpu_hour = 0;
  std::string source;                      // "request" or "catalog"
  std::optional<cloud_instance> instance;  // the catalog instance the price comes from
};

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

// ---------------------------------------------------------------------------------------------
// Reverse solves for one GPU setup

enum class solve_kind : std::uint8_t {
  max_model_len,               // largest max_model_len that starts (and holds the batch)
  max_concurrency,             // largest --max-num-seqs whose sequences all fit at the context
  min_gpu_memory_utilization,  // smallest --gpu-memory-utilization (step 0.001) that fits
  min_gpus                     // fewest GPUs of the type that fit
};
const char* solve_kind_name(solve_kind k);

struct solve_request {
  plan_request setup;  // gpu or gpu_memory_gib required; num_gpus or tp/pp (default 1 GPU)
  std::vector<solve_kind> solves;  // empty: all
};

struct solved {
  solve_kind kind = solve_kind::max_model_len;
  bool found = false;
  double value = 0;        // tokens, sequences, fraction or GPUs
  double next = 0;         // the next step beyond the value (checked: does not fit)
  bool next_fits = false;  // false when found (the check)
  std::string next_limiting_factor;
  std::string reason;                   // why, when not found; what limits it, when found
  std::optional<plan_option> at_value;  // the setup at the value
  // max_model_len only: the largest context that starts, ignoring the batch (vLLM's own
  // "estimated maximum model length") when a batch was asked for.
  std::optional<std::uint64_t> starts_value;
};

struct solve_result {
  plan_option setup;  // the fixed setup at the request's workload
  std::vector<solved> solves;
};

result<solve_result> solve(const solve_request& r, const model_db& db, const gpu_catalog& gpus);

// ---------------------------------------------------------------------------------------------
// Several models on shared GPUs

struct pool_entry {
  std::string gpu;  // catalog id
  std::uint64_t count = 1;
};

struct placement_request {
  std::vector<plan_request> models;  // each instance's model and workload (estimate fields)
  std::vector<pool_entry> pool;      // the GPUs, in order (their indices are CUDA_VISIBLE_DEVICES)
};
// An error about one model of a placement: "models[i]: ..." with the field under it.
error in_placement_model(std::size_t i, error e);

struct placed_instance {
  std::size_t model_index = 0;
  std::string model_name;
  std::string gpu;                         // catalog id
  std::vector<std::uint64_t> gpu_indices;  // into the pool's GPUs
  std::uint64_t tp = 1;
  double min_gpu_memory_utilization = 0;  // alone on the GPU
  double gpu_memory_utilization = 0;      // the flag to pass (with headroom shared out)
  std::uint64_t footprint_bytes = 0;      // per GPU, at gpu_memory_utilization
  std::uint64_t start_order = 0;
  plan_option option;  // the estimate at gpu_memory_utilization
};

struct pool_gpu {
  std::string gpu;
  std::uint64_t total_bytes = 0;
  std::uint64_t used_bytes = 0;
  std::vector<std::size_t> instances;  // into placement_result::instances
};

struct placement_result {
  bool fits = false;
  std::string reason;
  std::string budget_mode;  // per_instance | global
  std::vector<pool_gpu> gpus;
  std::vector<placed_instance> instances;
  std::vector<std::string> notes;
};

result<placement_result> place(const placement_request& r, const model_db& db,
                               const gpu_catalog& gpus);

// ---------------------------------------------------------------------------------------------
// Sweeps (arrays for plots)

struct sweep_request {
  plan_request setup;  // the estimate fields; gpu optional (without it: the seed's figures)
  std::vector<std::uint64_t> context_lengths;  // empty: powers of two 1024.. model max
  std::vector<std::uint64_t> batch_sizes;      // empty: powers of two 1..1024
};

struct sweep_point {
  std::uint64_t x = 0;
  estimate_result est;
  std::string error;  // the rule the point breaks (then `est` is empty)
};

struct sweep_result {
  plan_option setup;
  bool has_gpu = false;
  std::optional<std::uint64_t> workload_batch;     // the request's max_batch_size, if any
  std::optional<std::uint64_t> max_model_len_fit;  // solved boundary (has_gpu)
  std::optional<std::uint64_t> max_concurrency_fit;
  std::vector<sweep_point> context;
  std::vector<sweep_point> batch;
};

result<sweep_result> sweep(const sweep_request& r, const model_db& db, const gpu_catalog& gpus);

}  // namespace vllm_mem
