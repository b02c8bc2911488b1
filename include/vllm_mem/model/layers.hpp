// model/layers.hpp — the decoder layers by kind: full attention layers and the state-space /
// linear-attention ("state") layers of hybrid models, with the per-sequence state shapes vLLM
// allocates for them.
//
// Contract:
//  * `linear_attention_spec` holds the values a source stated (data/schema.md `linear_attention`
//    object); `resolve_state_layers` checks them and fills the defaults of the kind.
//  * `state_layers` is the resolved description: kind none = no state layers (a plain
//    transformer). With a kind, layer i (0-based) is a full-attention layer when
//    (i + 1) % full_attention_interval == 0 and a state layer otherwise (Qwen3-Next's
//    `layer_types` default, transformers Qwen3NextConfig).
//  * `state_shape_per_rank` is vLLM's MambaStateShapeCalculator
//    (vllm/model_executor/layers/mamba/mamba_utils.py): the conv and the SSM (temporal) state of
//    one layer for one sequence on one tensor-parallel rank, in elements.
//  * `state_bytes_per_rank` multiplies them by the state dtypes (MambaStateDtypeCalculator: conv
//    = mamba_cache_dtype, "auto" = model dtype; ssm = mamba_ssm_cache_dtype, "auto" = the conv
//    dtype; a config's own `mamba_ssm_dtype` overrides the SSM dtype).
// Pure, no I/O, no JSON; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vllm_mem/model/dtype.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

enum class state_layer_kind : std::uint8_t {
  none,             // no state layers
  gated_delta_net,  // Qwen3-Next / Qwen3.5 (Qwen3NextGatedDeltaNet)
  mamba2,           // Nemotron-H, Granite-4.0-H, Falcon-H1 (MambaMixer2)
};
const char* state_layer_kind_name(state_layer_kind k);

// As stated by a source; unset = not stated.
struct linear_attention_spec {
  std::string kind;  // "gated_delta_net" | "mamba2"
  // gated_delta_net
  std::optional<std::uint64_t> num_key_heads, num_value_heads, key_head_dim, value_head_dim;
  // mamba2
  std::optional<std::uint64_t> num_heads, head_dim, state_size, n_groups, intermediate_size;
  // both
  std::optional<std::uint64_t> conv_kernel;
  std::optional<std::string> ssm_dtype;  // the config's mamba_ssm_dtype (e.g. float32)
};

// DeepSeek-V4 attention (data/schema.md `compressed_attention`), as written: every layer attends
// a sliding window of its own uncompressed KV, and layers with a compress ratio of 4 or 128 also
// attend KV compressed that many times (ratio 4 through a sparse-attention indexer).
struct compressed_attention_spec {
  std::vector<std::uint64_t> compress_ratios;  // per layer (0 or 1: the window only); MTP after
  std::optional<std::uint64_t> window, q_lora_rank, qk_rope_head_dim, o_lora_rank, o_groups;
  std::optional<std::uint64_t> index_n_heads, index_head_dim, index_topk, hc_mult;
  std::optional<std::uint64_t> num_hash_layers;
};

// Resolved (vllm/model_executor/models/deepseek_v4.py DeepseekV4Attention, DeepseekV4Indexer,
// DeepseekCompressor, DeepseekV4DecoderLayer).
struct compressed_attention {
  std::vector<std::uint8_t> ratio;  // per decoder layer: 1, 4 or 128 (vLLM's max(1, ratio))
  std::uint64_t window = 0, q_lora_rank = 0, qk_rope_head_dim = 0, o_lora_rank = 0;
  std::uint64_t o_groups = 0, index_n_heads = 0, index_head_dim = 0, index_topk = 0;
  std::uint64_t hc_mult = 0, num_hash_layers = 0;

  bool any() const { return !ratio.empty(); }
  // Layers among [first, last) with compress ratio r (1: window only).
  std::uint64_t count(std::uint64_t first, std::uint64_t last, std::uint8_t r) const;
};

struct state_layers {
  state_layer_kind kind = state_layer_kind::none;
  std::uint64_t full_attention_interval = 0;  // every n-th layer is full attention
  std::uint64_t num_key_heads = 0, num_value_heads = 0, key_head_dim = 0, value_head_dim = 0;
  std::uint64_t num_heads = 0, head_dim = 0, state_size = 0, n_groups = 0, intermediate_size = 0;
  std::uint64_t conv_kernel = 0;
  std::optional<dtype> ssm_dtype;  // unset: the conv dtype

  bool any() const { return kind != state_layer_kind::none; }
  // Full-attention and state layers among [first, last).
  std::uint64_t num_full_layers(std::uint64_t first, std::uint64_t last) const;
  std::uint64_t num_state_layers(std::uint64_t first, std::uint64_t last) const;
};

// One layer's state for one sequence on one rank, in elements (conv: (K - 1 + num_spec) x
// channels/tp; ssm: per kind).
struct state_shape {
  std::uint64_t conv_elements = 0;
  std::uint64_t ssm_elements = 0;
};
state_shape state_shape_per_rank(const state_layers& s, std::uint64_t tp,
                                 std::uint64_t num_spec_tokens = 0);

// Bytes of one layer's state for one sequence on one rank (MambaSpec.page_size_bytes before
// padding). `conv_bits`: the conv state's element width (mamba_cache_dtype; auto = model dtype).
struct state_bytes {
  std::uint64_t conv = 0;
  std::uint64_t ssm = 0;
  std::uint64_t total() const { return conv + ssm; }
};
state_bytes state_bytes_per_rank(const state_layers& s, std::uint64_t tp, std::uint32_t conv_bits,
                                 std::uint64_t num_spec_tokens = 0);

// Checks a stated spec and fills the kind's defaults; `interval` is the stated
// full_attention_interval (unset: the kind's default, 4 for gated_delta_net as in transformers'
// Qwen3NextConfig; required for mamba2). `field_prefix` names fields in messages
// ("architecture.").
result<state_layers> resolve_state_layers(const linear_attention_spec& spec,
                                          std::optional<std::uint64_t> interval,
                                          std::uint64_t num_layers,
                                          const std::string& field_prefix);

}  // namespace vllm_mem
