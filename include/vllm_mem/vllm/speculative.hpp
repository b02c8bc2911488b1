// vllm/speculative.hpp — speculative decoding as vLLM's V1 engine sets it up at startup
// (--speculative-config): what the drafter adds to the weights, the KV cache and the graphs.
//
// Contract:
//  * `speculative_config` holds the resolved method and k = num_speculative_tokens (for "mtp"
//    the checkpoint's module count when not given, vllm/config/speculative.py __post_init__:
//    n_predict; for "suffix" suffix_decoding_max_tree_depth, 24).
//  * `mtp_weight_bytes` is the drafter of method "mtp" on one rank: the checkpoint's
//    `mtp_layers` decoder layers (full attention, MoE where the model is MoE, the checkpoint's
//    quantization unless it leaves `mtp*` in 16 bit), their fc / eh_proj (2H -> H in the model
//    dtype: DeepSeek's nn.Linear replicated, Qwen's ColumnParallelLinear split by TP) and the
//    enorm, hnorm and final norm. The embedding and LM head are the target's
//    (SpecDecodeBaseProposer._maybe_share_embeddings / _maybe_share_lm_head share them for MTP),
//    and so is the rotary cache. The drafter lives with the last pipeline stage.
//  * ngram and suffix decoding load no weights and keep no KV; every method lengthens the decode
//    query to 1 + k tokens (the CUDA-graph capture limit, vllm/config/vllm.py
//    _set_cudagraph_sizes) and gives each Mamba-style state group k more pages per request
//    and k more conv positions (MambaSpec num_speculative_blocks, mamba_utils state shapes).
// Pure, thread-safe.
#pragma once

#include <cstdint>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/model/weights.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

enum class spec_method : std::uint8_t { none, ngram, suffix, mtp };
const char* spec_method_name(spec_method m);

struct speculative_config {
  spec_method method = spec_method::none;
  std::uint64_t num_speculative_tokens = 0;  // k; 0 without speculative decoding
  bool enabled() const { return method != spec_method::none; }
  // The drafter's attention layers, which join the target's full-attention KV group (all
  // drafting layers share one group: SpecDecodeBaseProposer.validate_same_kv_cache_group).
  std::uint64_t draft_attention_layers(const model_arch& a) const {
    return method == spec_method::mtp ? a.mtp_layers : 0;
  }
};

// vLLM's suffix_decoding_max_tree_depth default: k for "suffix" when not given.
inline constexpr std::uint64_t kSuffixDefaultTokens = 24;

// Bytes of the MTP drafter on one rank (see the contract); `opt` as for the target, its
// checkpoint_bytes ignored.
result<std::uint64_t> mtp_weight_bytes(const model_arch& a, const weight_options& opt);

}  // namespace vllm_mem
