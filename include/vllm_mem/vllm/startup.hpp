// vllm/startup.hpp — what vLLM prints when it starts: weights, profile peak, non-torch memory, CUDA
// graphs, the KV budget, blocks, tokens, concurrency, and whether it starts at all.
//
// Contract: `simulate_startup` takes a resolved model and a fully resolved deployment (every
// vLLM default already applied) and returns the figures of pipeline stage 0 / tensor rank 0
// (the rank vLLM logs), with the engine-wide block, token and concurrency figures taken as the
// minimum over pipeline stages as vLLM does (vllm-memory-model.md §4.6). Bytes are exact
// integers; the KV budget may be negative. Formulas cite vllm-memory-model.md; the activation,
// non-torch and CUDA-graph terms are the calibrated heuristics of docs/accuracy.md.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/model/quantization.hpp"
#include "vllm_mem/model/weights.hpp"
#include "vllm_mem/util/result.hpp"
#include "vllm_mem/vllm/kv_groups.hpp"
#include "vllm_mem/vllm/lora.hpp"
#include "vllm_mem/vllm/profile.hpp"
#include "vllm_mem/vllm/speculative.hpp"

namespace vllm_mem {

// How the GPUs of one engine talk (NCCL's transport): NVLink/NVSwitch (or another P2P fabric), or
// PCIe. It decides the non-torch term with tensor/pipeline parallelism (profile.hpp).
enum class interconnect_kind : std::uint8_t { nvlink, pcie };
const char* interconnect_name(interconnect_kind k);

// --limit-mm-per-prompt (vllm/config/multimodal.py MultiModalConfig.limit_per_prompt): the most
// images and videos one prompt may carry; absent: the version's default (1 in V0, unbounded in
// effect in V1, where the encoder budget binds first).
struct mm_limits {
  std::optional<std::uint64_t> image, video;
  // Every modality the tower serves at 0: vLLM builds no tower (its weights are not loaded) and
  // profiles no encoder. A tower with temporal patches serves video too.
  bool tower_off(const vision_spec& v) const {
    return image == 0 && (video ? *video == 0 : v.temporal_patch_size == 0);
  }
};

struct deployment {
  std::uint64_t gpu_total_bytes = 0;  // T: what CUDA reports for one device
  double gpu_memory_utilization = 0.9;
  std::uint64_t tp = 1;
  std::uint64_t pp = 1;
  bool expert_parallel = false;
  interconnect_kind interconnect = interconnect_kind::nvlink;
  std::uint32_t gpu_sm_major = 0;               // the GPU's compute capability major (0: not known)
  std::uint64_t max_model_len = 2048;           // X
  std::uint64_t max_num_seqs = 256;             // S
  std::uint64_t max_num_batched_tokens = 2048;  // M
  bool max_num_batched_tokens_follows_len = false;  // V0 without chunked prefill: max(X, 2048)
  std::uint64_t block_size = 16;                    // B
  bool enforce_eager = false;
  std::uint32_t act_bits = 16;  // model dtype
  quant_spec quant;             // effective weight quantization
  std::uint32_t kv_bits = 16;   // KV cache element width
  // Sparse MLA (an indexer) with an fp8 cache in FlashMLA's fp8_ds_mla layout: 656 bytes per
  // token and layer (512 fp8 latent values, 4 fp32 scales, 64 bf16 RoPE values) instead of 576.
  bool fp8_ds_mla = false;
  // Exact checkpoint tensor bytes (weights.hpp); 0: the computed sizes.
  std::uint64_t checkpoint_bytes = 0;
  lora_config lora;         // --enable-lora and its sizes
  speculative_config spec;  // --speculative-config, resolved (k set)
  mm_limits mm;             // --limit-mm-per-prompt
  vllm_profile profile;
  model_runner runner = model_runner::v1;   // default_runner(profile, ...) unless overridden
  std::uint64_t kv_cache_memory_bytes = 0;  // --kv-cache-memory: absolute KV size; 0: unset
  std::uint64_t cpu_offload_bytes = 0;      // --cpu-offload-gb x 2^30: the most weights on the host
  // Memory other processes hold on each GPU when vLLM starts (a shared GPU). Charged against the
  // budget where vLLM's accounting sees it (§3: global V0 0.6.4 / V1 0.7-0.9.1 as non-torch;
  // the extensible KV cache through free memory), otherwise only physically: vLLM still fills
  // T*u, so T*u + context + this must fit, and V1 >= 0.9.2 refuses to start below it.
  std::uint64_t reserved_bytes = 0;
  // gpu_memory_utilization left unset: from 0.34 the whole GPU, which must then be free.
  bool gpu_memory_utilization_unset = false;
  capture_settings capture;  // cudagraph_mode and capture sizes
  // The architecture was estimated from a parameter count (a size in the name, params_billions):
  // the verdict's error bar also covers its weights and KV geometry.
  bool architecture_estimated = false;
};

enum class limiting_factor : std::uint8_t {
  none,                     // fits; concurrency limited by max_num_seqs, not memory
  kv_cache,                 // fits, but KV capacity caps concurrency below max_num_seqs; or
                            // max_model_len does not fit the KV budget
  weights,                  // the weights alone exceed the memory
  activation,               // weights + profile peak leave no KV budget
  gpu_memory_utilization,   // free memory at start is below T*u
  cuda_graphs,              // graph capture outside the budget exceeds the headroom
  max_position_embeddings,  // max_model_len above the model's derived maximum
  dtype                     // vLLM refuses the dtype for this model (float16 for Gemma 2/3, ...)
};
const char* limiting_factor_name(limiting_factor f);

// fits / marginal / does_not_fit: the startup's outcome with its error bar. marginal when the
// margin lies within the uncertainty, either side of zero.
enum class startup_verdict : std::uint8_t { fits, marginal, does_not_fit };
const char* startup_verdict_name(startup_verdict v);

struct kv_layout {
  std::uint64_t page_bytes = 0;          // one block of one layer (V1 page), rank 0
  std::uint64_t layers = 0;              // attention layers on stage 0
  std::uint64_t bytes_per_token = 0;     // all layers of stage 0, full-length basis (indexer incl.)
  std::uint64_t indexer_layers = 0;      // sparse MLA: layers with an indexer cache, stage 0
  std::uint64_t indexer_page_bytes = 0;  // one block of one indexer layer
  std::uint64_t groups = 1;              // V1 hybrid groups
  std::uint64_t layers_per_group = 0;    // S_g
  std::uint64_t block_size = 0;          // tokens per block as run (hybrids: enlarged)
  // Bytes one sequence holds in the state layers whatever its length (hybrids; padded pages
  // times the pages per request of the version's mamba_cache_mode), stage 0.
  std::uint64_t state_bytes_per_sequence = 0;
  std::vector<layer_group_info> group_list;  // by layer kind, stage 0
};

struct startup_result {
  std::uint64_t total_bytes = 0;      // T
  std::uint64_t requested_bytes = 0;  // T * u
  weight_bytes weights;               // stage 0
  std::uint64_t activation_peak_bytes = 0;
  std::uint64_t non_torch_bytes = 0;
  std::uint64_t cuda_graph_bytes = 0;           // G: the real pool ("Graph capturing ... took")
  std::uint64_t cuda_graph_estimate_bytes = 0;  // G_est: charged in the budget (>= 0.20)
  std::uint64_t activation_logged_bytes = 0;    // as printed: P, or P_tr + G_est from 0.27
  std::uint64_t kv_margin_bytes = 0;            // 0.34 extensible cache: max(1 GiB, 0.75 P_tr)
  bool cuda_graph_in_budget = false;
  std::uint64_t cuda_context_bytes = 0;
  std::int64_t kv_cache_bytes = 0;    // available KV cache memory (stage 0), may be negative
  std::uint64_t num_gpu_blocks = 0;   // engine-wide (min over stages)
  std::uint64_t kv_cache_tokens = 0;  // as the version logs "GPU KV cache size"
  double max_concurrency = 0.0;       // for max_model_len
  bool fits = false;
  std::string error;                    // the message vLLM would raise, empty when it starts
  std::uint64_t max_model_len_fit = 0;  // largest max_model_len that starts (0: none)
  limiting_factor limit = limiting_factor::none;
  kv_layout kv;
  std::uint64_t cuda_graphs = 0;  // graphs captured
  // Per GPU: what is left over past the limit that decides the start (available KV minus one
  // max_model_len request; or the shortfall, negative, of the memory check that fails), and how
  // far the model may be off (profile kv_uncertainty_share x GPU memory, at least 0.1 GiB).
  std::int64_t margin_bytes = 0;
  std::uint64_t uncertainty_bytes = 0;
  startup_verdict verdict = startup_verdict::does_not_fit;
  std::string verdict_advice;  // what to change to be safe, when not a safe fit
};

result<startup_result> simulate_startup(const model_arch& a, const deployment& d);

// Bytes of KV cache one request of `tokens` tokens needs on stage 0 under the version's layout
// (sliding-window layers capped at their window with the hybrid manager).
std::uint64_t kv_bytes_for_request(const model_arch& a, const deployment& d, std::uint64_t tokens);

// Peak bytes of the encoder profile (the vision tower's dummy batch) at max_num_batched_tokens
// `M` and max_num_seqs `S` with activations of `act_bytes` bytes: vLLM's encoder budget where the
// tower states it (capped by `mm`'s image limit), else the per-token fallback (startup.cpp). 0
// without a vision tower or with `mm` switching it off.
double encoder_profile_bytes(const model_arch& a, const vllm_profile& p, const mm_limits& mm,
                             std::uint64_t M, std::uint64_t S, double act_bytes);

}  // namespace vllm_mem
