// vllm/kv_groups.hpp — the KV cache layout of hybrid models: the attention block size vLLM
// enlarges until an attention page holds a state page, the padded state page, and the layer
// groups of the KV cache manager with what each holds per token or per sequence.
//
// Contract:
//  * `hybrid_block_size` is vLLM's HybridAttentionMambaModelConfig.verify_and_update_config
//    (vllm/model_executor/models/config.py, 0.10.2; 2026: Platform._align_hybrid_block_size):
//    attn_block = a * ceil(state_page / (a * attention_bytes_per_token)) with the kernel block
//    alignment a = 16; a smaller configured block size (or none) is raised to it, a larger one
//    kept. The state page is then padded to the attention page (mamba_page_size_padded).
//  * `state_pages_per_request` is MambaSpec.max_memory_usage_bytes / page: 1 with
//    mamba_cache_mode "none" (+ speculative blocks), 2 with "align" (vllm-2026.md §1.6).
//  * `layer_group_info` describes the groups of one kind on pipeline stage 0 for the answer's
//    `kv_cache_layer_groups` (vllm-memory-model.md §6.3); startup.cpp fills them.
// Pure, no I/O, no JSON; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/util/result.hpp"
#include "vllm_mem/vllm/profile.hpp"

namespace vllm_mem {

inline constexpr std::uint64_t kKernelBlockAlignment = 16;

// Bytes of one attention layer's KV for one token on one rank (FullAttentionSpec with
// block_size 1, §6.2).
std::uint64_t attention_bytes_per_token(const model_arch& a, std::uint64_t tp,
                                        std::uint32_t kv_bits);

// Unpadded state page of one state layer on one rank (MambaSpec.page_size_bytes), bytes. The
// conv state takes mamba_cache_dtype ("auto": the model dtype, `act_bits`).
// With speculative decoding the conv state keeps `spec_tokens` more positions.
std::uint64_t state_page_bytes(const model_arch& a, std::uint64_t tp, std::uint32_t act_bits,
                               std::uint64_t spec_tokens);

// The attention block size vLLM uses for a hybrid model; `configured` 0 = not set.
std::uint64_t hybrid_block_size(std::uint64_t attn_bytes_per_token, std::uint64_t state_page,
                                std::uint64_t configured);

// Pages one request holds in each state group (MambaSpec.max_memory_usage_bytes / page), with
// `spec_tokens` speculative blocks (MambaSpec num_speculative_blocks = num_speculative_tokens).
std::uint64_t state_pages_per_request(const vllm_profile& p, std::uint64_t spec_tokens);

// Whether the version's V1 KV manager has this kind of state layer; an error names the field.
status check_state_layers_supported(const model_arch& a, const vllm_profile& p);

// indexer: DeepSeek sparse attention's key caches, inside the MLA layers' group (groups 0).
// compressed_attention / compressor_state: DeepSeek-V4's compressed KV (compress_ratio 4 or 128)
// and the compressors' partial states (sliding-window specs of 2 x 4 and 128 tokens).
enum class layer_group_kind : std::uint8_t {
  full_attention,
  sliding_window,
  chunked_local,
  state,
  indexer,
  compressed_attention,
  compressor_state
};

struct layer_group_info {
  layer_group_kind kind = layer_group_kind::full_attention;
  const char* state_kind = "";              // for state groups: gated_delta_net, mamba2
  std::uint64_t layers = 0;                 // layers of this kind on the stage
  std::uint64_t groups = 0;                 // KV cache groups they form (padded to the group size)
  std::uint64_t bytes_per_token = 0;        // attention: one token, all layers of the kind, rank
  std::uint64_t bytes_per_sequence = 0;     // state: one sequence, all layers of the kind, rank
  std::uint64_t page_bytes = 0;             // one layer, one block (state: padded page)
  std::uint64_t state_bytes_per_layer = 0;  // state: conv + ssm of one layer, before padding
  std::uint64_t block_size = 0;             // tokens per block (state: the attention block)
  std::uint64_t compress_ratio = 0;         // DeepSeek-V4 caches: tokens per stored entry
};
const char* layer_group_kind_name(layer_group_kind k);

}  // namespace vllm_mem
