// model/architecture.hpp — a model's architecture, as written (arch_spec) and as resolved
// (model_arch).
//
// Contract:
//  * `arch_spec` holds only the values a source stated (database entry, request `architecture`
//    object, or a converted Hugging Face config). Keys are the canonical names of
//    data/schema.md; ingest/arch_json.hpp decodes and writes them.
//  * `overlay` applies another spec field by field (request values override database values).
//  * `resolve_arch` fills the defaults vLLM and transformers use for the model_type, checks the
//    invariants (heads divisible by KV heads, MoE fields consistent, bounds that keep byte
//    arithmetic exact in 64 bits) and returns a `model_arch` the physics can use.
// Pure, no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vllm_mem/model/dtype.hpp"
#include "vllm_mem/model/layers.hpp"
#include "vllm_mem/model/quantization.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

// X-macro lists: one list drives parsing, overlaying and echoing.
// clang-format off
#define VLLM_MEM_ARCH_U64_FIELDS(X)                                                       \
  X(num_layers) X(hidden_size) X(num_heads) X(num_kv_heads) X(head_dim)                   \
  X(intermediate_size) X(vocab_size) X(max_position_embeddings) X(num_experts)            \
  X(num_experts_per_tok) X(moe_intermediate_size) X(num_shared_experts)                   \
  X(shared_expert_intermediate_size) X(first_k_dense_replace) X(moe_layer_freq)           \
  X(q_lora_rank) X(kv_lora_rank) X(qk_rope_head_dim) X(qk_nope_head_dim) X(v_head_dim)    \
  X(sliding_window) X(sliding_window_pattern) X(attention_chunk_size)                     \
  X(no_rope_layer_interval) X(full_attention_interval) X(index_head_dim) X(index_n_heads)       \
  X(index_topk) X(index_topk_freq) X(index_skip_topk_offset) X(global_head_dim)               \
  X(num_global_kv_heads) X(num_kv_shared_layers) X(hidden_size_per_layer_input)               \
  X(vocab_size_per_layer_input) X(num_nextn_predict_layers)
#define VLLM_MEM_ARCH_BOOL_FIELDS(X)                                                      \
  X(tie_word_embeddings) X(attention_bias) X(qkv_bias) X(mlp_bias) X(parallel_attn)       \
  X(new_decoder_architecture) X(attn_output_gate)
#define VLLM_MEM_ARCH_F64_FIELDS(X) X(rope_theta) X(partial_rotary_factor) X(logit_softcapping)
#define VLLM_MEM_ARCH_STR_FIELDS(X) \
  X(model_type) X(multimodal_model_type) X(torch_dtype) X(mlp) X(norm)
// clang-format on

struct rope_scaling_spec {
  std::string rope_type;  // "linear", "dynamic", "yarn", "llama3", "longrope"/"su", ...
  double factor = 1.0;
  std::uint64_t original_max_position_embeddings = 0;
};

struct vision_spec {
  std::string type;
  std::uint64_t num_layers = 0, hidden_size = 0, intermediate_size = 0, num_heads = 0;
  std::uint64_t patch_size = 0, image_size = 0;
  std::uint64_t params = 0;  // stated parameter count (tower + projector); 0 = estimate
  // The encoder budget (vLLM compute_encoder_budget): the most encoder output tokens one image
  // yields (the processor's largest image over (patch_size * spatial_merge_size)^2), and how many
  // patches merge into one token per side. 0: not stated (the per-token fallback of §10.4).
  std::uint64_t max_tokens_per_item = 0, spatial_merge_size = 0;
  // Frames per temporal patch (Qwen-VL towers): > 0 means the tower also serves video, so
  // `--limit-mm-per-prompt` switches it off only with video at 0 too.
  std::uint64_t temporal_patch_size = 0;
};

struct arch_spec {
#define VLLM_MEM_DECL_U64(n) std::optional<std::uint64_t> n;
#define VLLM_MEM_DECL_BOOL(n) std::optional<bool> n;
#define VLLM_MEM_DECL_F64(n) std::optional<double> n;
#define VLLM_MEM_DECL_STR(n) std::optional<std::string> n;
  VLLM_MEM_ARCH_U64_FIELDS(VLLM_MEM_DECL_U64)
  VLLM_MEM_ARCH_BOOL_FIELDS(VLLM_MEM_DECL_BOOL)
  VLLM_MEM_ARCH_F64_FIELDS(VLLM_MEM_DECL_F64)
  VLLM_MEM_ARCH_STR_FIELDS(VLLM_MEM_DECL_STR)
#undef VLLM_MEM_DECL_U64
#undef VLLM_MEM_DECL_BOOL
#undef VLLM_MEM_DECL_F64
#undef VLLM_MEM_DECL_STR
  std::optional<rope_scaling_spec> rope_scaling;
  std::optional<vision_spec> vision;
  std::optional<quant_spec> quantization;
  std::optional<linear_attention_spec> linear_attention;  // state layers of a hybrid model
  std::optional<compressed_attention_spec> compressed;    // DeepSeek-V4 attention
  bool has_extra = false;  // `extra`: fields the canonical schema cannot express (kept, not used)

  void overlay(const arch_spec& over);
  bool empty() const;
};

// The largest max_position_embeddings (and window) accepted: keeps token arithmetic exact.
inline constexpr std::uint64_t kMaxPositions = 1ULL << 31;

// The most layers accepted, far above any published model; readers that keep a value per layer
// rely on it.
inline constexpr std::uint64_t kMaxLayers = 2048;

// How many x in [lo, hi) are multiples of m (0 when m == 0): layer patterns by arithmetic.
constexpr std::uint64_t count_multiples(std::uint64_t lo, std::uint64_t hi, std::uint64_t m) {
  return hi <= lo || m == 0 ? 0 : (hi + m - 1) / m - (lo + m - 1) / m;
}

enum class mlp_kind : std::uint8_t { gated, plain };
enum class norm_kind : std::uint8_t { rms, layer };

// Resolved architecture: every value the physics needs, defaults filled in.
struct model_arch {
  std::string model_type;             // text model's HF model_type ("llama" if unknown)
  std::string multimodal_model_type;  // outer model_type of a multimodal repository, or empty
  std::uint64_t num_layers = 0, hidden_size = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  std::uint64_t intermediate_size = 0, vocab_size = 0;
  bool tie_word_embeddings = false;
  std::uint64_t max_position_embeddings = 0;  // 0 = unknown
  rope_scaling_spec rope_scaling;             // rope_type empty = none
  double partial_rotary_factor = 1.0;
  dtype torch_dtype = dtype::bfloat16;
  bool torch_dtype_known = false;
  mlp_kind mlp = mlp_kind::gated;
  norm_kind norm = norm_kind::rms;
  bool attention_bias = false, qkv_bias = false, mlp_bias = false;
  bool parallel_attn = false, new_decoder_architecture = false;
  // MoE (num_experts == 0: dense)
  std::uint64_t num_experts = 0, num_experts_per_tok = 0, moe_intermediate_size = 0;
  std::uint64_t num_shared_experts = 0, shared_expert_intermediate_size = 0;
  std::uint64_t first_k_dense_replace = 0, moe_layer_freq = 1;
  // MLA (kv_lora_rank == 0: not MLA)
  std::uint64_t q_lora_rank = 0, kv_lora_rank = 0, qk_rope_head_dim = 0, qk_nope_head_dim = 0;
  std::uint64_t v_head_dim = 0;
  // attention windows
  std::uint64_t sliding_window = 0;          // 0: no sliding window
  std::uint64_t sliding_window_pattern = 0;  // 0 with sliding_window: every layer slides
  std::uint64_t attention_chunk_size = 0, no_rope_layer_interval = 0;
  double logit_softcapping = 0.0;
  // DeepSeek sparse attention (DeepSeek-V3.2, GLM-5): a lightning indexer beside the MLA cache
  // (index_head_dim == 0: none). vLLM's DeepseekV2MLAAttention builds the indexer on the layers
  // where max(layer - offset + 1, 0) % freq == 0 (index_topk_freq, default 1: every layer;
  // index_skip_topk_offset, default 2); the others reuse the previous one's top-k.
  std::uint64_t index_head_dim = 0, index_n_heads = 0, index_topk = 0;
  std::uint64_t index_topk_freq = 1, index_skip_topk_offset = 2;
  bool attn_output_gate = false;  // Qwen3-Next: q_proj also yields a per-head output gate
  // Gemma 4: the full-attention layers' own KV shape (0: the sliding layers' head_dim and
  // num_kv_heads), the last num_kv_shared_layers layers reusing earlier layers' KV (no cache of
  // their own: GPUModelRunner.get_kv_cache_spec skips a kv_sharing_target_layer_name), and the
  // per-layer input embeddings (a [vocab_size_per_layer_input, layers x
  // hidden_size_per_layer_input] table).
  std::uint64_t global_head_dim = 0, num_global_kv_heads = 0, num_kv_shared_layers = 0;
  std::uint64_t hidden_size_per_layer_input = 0, vocab_size_per_layer_input = 0;
  // Multi-token-prediction modules shipped in the checkpoint (HF num_nextn_predict_layers, Qwen's
  // mtp_num_hidden_layers): vLLM loads them only as the drafter of speculative decoding with
  // method "mtp" (vllm/config/speculative.py hf_config_override: n_predict).
  std::uint64_t mtp_layers = 0;
  // Hybrid models: the state (linear-attention / Mamba) layers; kind none for transformers.
  state_layers linear;
  // DeepSeek-V4: windowed + compressed attention in place of MLA (model/layers.hpp).
  compressed_attention compressed;
  std::optional<vision_spec> vision;
  quant_spec quantization;  // the checkpoint's own (method none: unquantized checkpoint)

  bool is_moe() const { return num_experts > 0; }
  bool is_mla() const { return kv_lora_rank > 0; }
  bool has_indexer() const { return index_head_dim > 0; }
  // The full-attention layers' head size and KV heads (Gemma 4's global ones, else the model's).
  std::uint64_t full_head_dim() const { return global_head_dim > 0 ? global_head_dim : head_dim; }
  std::uint64_t full_kv_heads() const {
    return num_global_kv_heads > 0 ? num_global_kv_heads : num_kv_heads;
  }
  bool two_kv_shapes() const {
    return sliding_window > 0 && (full_head_dim() != head_dim || full_kv_heads() != num_kv_heads);
  }
  // Layers that keep a KV cache of their own: all but the last num_kv_shared_layers.
  std::uint64_t kv_owning_layers_end() const { return num_layers - num_kv_shared_layers; }
  // Layers among [first, last) that keep an indexer cache (by arithmetic on the rule above).
  std::uint64_t num_indexer_layers(std::uint64_t first, std::uint64_t last) const;
  // One token of one indexer layer's cache: fp8 keys plus one fp32 scale per 128 values
  // (DeepseekV32IndexerCache: head_dim + head_dim // 128 * 4 bytes, uint8), any kv_cache_dtype.
  std::uint64_t indexer_bytes_per_token() const {
    return index_head_dim + index_head_dim / 128 * 4;
  }
  bool is_moe_layer(std::uint64_t layer) const;
  bool is_sliding_layer(std::uint64_t layer) const;
  std::uint64_t num_sliding_layers() const;
  // How many of the layers [first, last) are MoE / slide: counted by arithmetic on the layer
  // patterns, not by visiting layers (the estimate's hot path).
  std::uint64_t num_moe_layers(std::uint64_t first, std::uint64_t last) const;
  std::uint64_t num_sliding_layers(std::uint64_t first, std::uint64_t last) const;
  // Attention layers (every layer but the state layers of a hybrid) among [first, last).
  std::uint64_t num_attention_layers(std::uint64_t first, std::uint64_t last) const {
    return linear.num_full_layers(first, last);
  }
  // Values per token per layer of the KV cache for one rank (vLLM's get_num_kv_heads/head_size).
  std::uint64_t kv_heads_per_rank(std::uint64_t tp) const;
  std::uint64_t full_kv_heads_per_rank(std::uint64_t tp) const;  // the full layers' (Gemma 4)
  std::uint64_t kv_head_size() const;         // MLA: kv_lora_rank + qk_rope_head_dim
  std::uint64_t kv_entries_per_head() const;  // 2 (K and V) or 1 (MLA latent)
  std::uint64_t rotary_dim() const;
  // vLLM's _get_and_verify_max_len without a user value: min over the position keys, then RoPE
  // scaling (vllm-memory-model.md §7). 0 when unknown.
  std::uint64_t derived_max_model_len() const;
};

result<model_arch> resolve_arch(const arch_spec& spec, const std::string& field_prefix);

}  // namespace vllm_mem
