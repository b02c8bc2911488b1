// vllm/profile.hpp — what changes between vLLM versions, as data the startup model reads.
//
// Contract: `parse_vllm_version` accepts "0.6.4", "0.10.1.1", "v0.19.0", "0.7"; `make_profile`
// returns the accounting rules of that version and engine (vllm-memory-model.md §3–§8, §11),
// together with the constants calibrated on the dev cases (docs/accuracy.md says where each
// comes from). From 0.20 the rules come from a table with one row per version range
// (docs/vllm-versions.md); versions above the newest row use its rules and are flagged
// `beyond_newest`. `calibrated` says whether real startups of the range were scored.
// Pure, thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct vllm_version {
  std::uint32_t major = 0, minor = 19, patch = 0;
  std::string text() const;
  friend auto operator<=>(const vllm_version&, const vllm_version&) = default;
};

// The newest version whose range has scored real startups (profile_rows' `calibrated`).
inline constexpr std::string_view kNewestCalibratedVersion = "0.29.0";
inline constexpr std::string_view kNewestProfileVersion = "0.34.0";
// The version answered when a request names none.
inline constexpr std::string_view kDefaultVersion = "0.34.0";
inline constexpr std::string_view kOldestSupportedVersion = "0.4.0";

result<vllm_version> parse_vllm_version(std::string_view text, const std::string& field);

enum class engine_kind : std::uint8_t { v0, v1 };

// How the KV budget treats memory that is not this instance's (§3).
enum class budget_mode : std::uint8_t {
  free_delta,       // V0 <= 0.6.3: T*u - (free_at_init - free_after_profile)
  global,           // V0 0.6.4, V1 0.7-0.9.1: T*u - (torch peak + all non-torch memory on the GPU)
  per_instance,     // V0 >= 0.6.5, V1 0.9.2-0.26: T*u - (W + P + N_t) (- G_est from 0.20)
  free_delta_2026,  // 0.27-0.33: ceil(T*u) - (free-memory delta + transient peak) - G_est
  extensible_kv,    // >= 0.34: min(ceil(T*u) - R, F_init - R - margin) - P_tr, R incl. G
};

// Which model runner a V1-engine version runs for an architecture by default (§6.4 of the
// docs/research/vllm-0.20-0.34.md; vllm/config/vllm.py use_v2_model_runner).
enum class runner_rule : std::uint8_t {
  v1_only,        // <= 0.21: GPUModelRunner (MRv1)
  qwen3_dense,    // 0.22: MRv2 for dense, unquantized Qwen3 generation models
  whitelist_023,  // 0.23-0.25.0: + Llama and Mistral
  dense,          // 0.25.1-0.28: every dense, non-hybrid generation model
  all,            // >= 0.29: every model (CUDA)
};
enum class model_runner : std::uint8_t { v0, v1, v2 };  // v0: the V0 engine's runner
const char* model_runner_name(model_runner r);

enum class kv_tokens_report : std::uint8_t {
  blocks_times_block_size,  // V0, V1 <= 0.9: num_blocks * B
  blocks_per_group,         // V1 0.10-0.20: (num_blocks // groups) * min B
  concurrency_times_len,    // >= 0.21: int(concurrency * max_model_len)
};
const char* budget_mode_name(budget_mode b);

struct vllm_profile {
  vllm_version version;
  engine_kind engine = engine_kind::v1;
  bool extrapolated = false;   // newer than the newest calibrated version
  bool beyond_newest = false;  // newer than the newest profile: its rules, flagged
  bool calibrated = true;      // real startups of this version range were scored
  std::string_view range;      // the profile row ("0.4-0.19" for the calibrated model)
  budget_mode budget = budget_mode::per_instance;
  bool hybrid_kv_manager = true;  // V1 >= 0.10: sliding-window layers keep window-sized KV
  kv_tokens_report tokens_report = kv_tokens_report::blocks_per_group;
  bool concurrency_blocks_over_ceil = true;  // V1 >= 0.10: blocks / ceil(X/B); else tokens / X
  bool cuda_graph_in_budget = false;         // >= 0.20: estimate subtracted before KV
  bool requested_ceil = false;               // >= 0.20: requested = ceil(T*u)
  double default_utilization = 0.9;          // 0.92 from 0.20; 1.0 (whole GPU) from 0.34
  runner_rule runner = runner_rule::v1_only;
  bool mrv2_graph_estimate = false;        // MRv2 charges a real estimate (>= 0.29)
  bool huge_gpu_tier = false;              // >= 0.28: >= 160 GiB gets 16384 batched tokens
  bool startup_free_check = true;          // V1 >= 0.9.2: free memory >= T*u at start
  bool max_len_error_has_estimate = true;  // the "estimated maximum model length" sentence
  bool chunked_prefill_always = true;      // V1
  // V0 >= 0.6.4 checks max_model_len against each pipeline stage's share of the blocks
  // (blocks // pp * B); earlier V0 against all of them (raise_if_cache_size_invalid's 3-argument
  // form: max_seq_len = block_size * num_gpu_blocks), although the scheduler splits them.
  bool v0_check_splits_blocks_by_pp = true;
  std::uint32_t cudagraph_modes = 1;  // FULL_AND_PIECEWISE (>= 0.11) captures 2 sets
  // >= 0.11: --limit-mm-per-prompt at 0 for every modality of a tower leaves the tower out of
  // the model (its weights are not loaded): the multimodal models' __init__ build `visual` /
  // `vision_tower` only when multimodal_config.get_limit_per_prompt(...) is non-zero (qwen2_5_vl,
  // qwen3_vl, llava, ...), later for every model through SupportsMultiModal._mark_tower_model.
  bool zero_mm_limit_drops_tower = false;
  // Hybrid models: prefix caching on by default with mamba_cache_mode "align" (two state pages
  // per request) instead of "none" (one). vLLM PR #50991 (merged 2026-08-04, after 0.27.1):
  // taken as 0.28.0.
  bool mamba_align_default = false;

  // Calibrated constants: each is fitted on the dev cases of its era; docs/accuracy.md lists the
  // cases behind every number.
  double sampler_bytes_per_logit = 14.0;  // bytes per element of the [requests, vocab] logits
  double activation_base_gib = 0.18;      // profile-run floor beyond the sampler/forward peak
  double moe_workspace_factor = 0.8;      // share of the fused-MoE workspace that stays allocated
  double vision_activation_factor = 8.0;  // h_vis-sized tensors per token in the encoder profile
  double non_torch_tp1_gib = 0.25;        // non-torch growth during profiling, single GPU
  double non_torch_nccl_gib = 1.8;        // extra with tensor/pipeline parallelism over NVLink
  double non_torch_pcie_gib = 0.2153;     // the same over PCIe (nccl_pcie_device_bytes, code)
  double cuda_context_gib = 0.5;          // CUDA context + kernels (before the snapshot), §2.4
  double graph_base_gib = 0.45;           // CUDA graphs: fixed part
  double graph_per_layer_gib = 0.0135;    // CUDA graphs: per decoder layer on the stage
  double graph_moe_gib = 0.55;            // CUDA graphs: extra for MoE layers (fused-MoE buffers)
  std::uint64_t graph_reference_count = 102;  // graphs captured at the era's default settings
  // Model Runner V2's profile run (gpu/model_runner.py _dummy_sampler_run): logits in the model
  // dtype, sampling without the top-k/top-p sort; no floor. Followed from the code, not fitted.
  double mrv2_sampler_bytes_per_logit = 2.0;
  double mrv2_activation_base_gib = 0.0;
  // How far the available KV cache may be off, as a share of the GPU's memory: the 80th
  // percentile of |predicted - logged| KV GiB / total GiB over the dev cases of the era
  // (docs/accuracy.md "Verdicts and their error bars"). Sets the `marginal` band.
  double kv_uncertainty_share = 0.0024;
};

// NCCL's device buffers for a PCIe ring/tree (docs/research/set2-causes.md §a.1-a.2, NVIDIA/nccl
// src/init.cc DEFAULT_LL_BUFFSIZE 512 KiB + DEFAULT_LL128_BUFFSIZE 4,915,200 B + DEFAULT_BUFFSIZE 4
// MiB per connection): 2 communicators (pynccl + torch's ProcessGroupNCCL) x 4 PCIe channels x 3
// connections (ring recv, tree up and down) = 24 connections, 0.2153 GiB. Over NVLink NCCL opens
// 16-32 channels (and NVLS on NVSwitch), which is the calibrated 1.8-2.0 GiB term; without P2P
// the buffers sit in pinned host memory. Custom all-reduce adds 16 MiB non-torch at most
// (custom_all_reduce.py: meta + buffer of 8 MiB each) and is off on more than two PCIe GPUs.
std::uint64_t nccl_pcie_device_bytes();

// One row per version range from 0.20 (the table GET /versions lists).
struct profile_row {
  vllm_version from;
  std::string_view range;
  budget_mode budget;
  kv_tokens_report tokens;
  runner_rule runner;
  bool mrv2_graph_estimate;
  bool huge_gpu_tier;
  double default_utilization;
  bool calibrated;
  std::string_view set3_rows;  // set-3 startups of the range, and how they are scored
};
const std::vector<profile_row>& profile_rows();

// The runner vLLM picks for this model (architecture name, MoE, quantization) at this version.
model_runner default_runner(const vllm_profile& p, std::string_view model_type, bool moe,
                            bool quantized);

result<vllm_profile> make_profile(const vllm_version& v, engine_kind engine);
engine_kind default_engine(const vllm_version& v);

// vLLM's defaults for the scheduler (§8.2). `big_gpu`: >= 70 GiB and not an A100.
struct scheduler_defaults {
  std::uint64_t max_num_seqs = 256;
  std::uint64_t max_num_batched_tokens = 2048;
  bool chunked_prefill = true;
};
// `huge_gpu`: >= 160 GiB (the 0.28 tier).
scheduler_defaults default_scheduler(const vllm_profile& p, bool big_gpu,
                                     std::uint64_t max_model_len_tokens, bool multimodal,
                                     bool huge_gpu = false);

// vLLM's compilation_config.cudagraph_mode and capture sizes (request flags).
enum class cudagraph_mode : std::uint8_t {
  version_default,
  none,
  piecewise,
  full,
  full_and_piecewise
};
struct capture_settings {
  cudagraph_mode mode = cudagraph_mode::version_default;
  std::uint64_t max_capture_size = 0;  // max_cudagraph_capture_size; 0: vLLM's min(2S, 512)
  std::vector<std::uint64_t> sizes;    // cudagraph_capture_sizes; empty: vLLM's list
};

// Number of CUDA graphs vLLM captures (all modes) for these settings (§5.1). From 0.11 the
// default largest size is min(2 * max_num_seqs * decode_query_len, 512), the decode query being
// 1 + num_speculative_tokens with speculative decoding (vllm/config/vllm.py _set_cudagraph_sizes).
std::uint64_t cuda_graph_count(const vllm_profile& p, std::uint64_t max_num_seqs,
                               std::uint64_t max_num_batched_tokens, const capture_settings& c = {},
                               std::uint64_t decode_query_len = 1);

}  // namespace vllm_mem
