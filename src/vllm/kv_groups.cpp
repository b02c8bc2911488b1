// vllm/kv_groups.cpp — hybrid KV layout (vllm-2026.md §1.6, vllm-memory-model.md §6.2-§6.3).
#include "vllm_mem/vllm/kv_groups.hpp"

#include <string>

namespace vllm_mem {

namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }
}  // namespace

std::uint64_t attention_bytes_per_token(const model_arch& a, std::uint64_t tp,
                                        std::uint32_t kv_bits) {
  return a.kv_heads_per_rank(tp) * a.kv_head_size() * a.kv_entries_per_head() * kv_bits / 8;
}

std::uint64_t state_page_bytes(const model_arch& a, std::uint64_t tp, std::uint32_t act_bits,
                               std::uint64_t spec_tokens) {
  return state_bytes_per_rank(a.linear, tp, act_bits, spec_tokens).total();
}

std::uint64_t hybrid_block_size(std::uint64_t attn_bytes_per_token, std::uint64_t state_page,
                                std::uint64_t configured) {
  if (attn_bytes_per_token == 0) return configured;
  const std::uint64_t a = kKernelBlockAlignment;
  const std::uint64_t needed = a * ceil_div(state_page, a * attn_bytes_per_token);
  return configured >= needed ? configured : needed;
}

std::uint64_t state_pages_per_request(const vllm_profile& p, std::uint64_t spec_tokens) {
  // MambaSpec.max_memory_usage_bytes: "none" -> page * (1 + num_speculative_blocks); "align"
  // (the default once prefix caching is on for hybrids) -> page * (2 + num_speculative_blocks).
  return (p.mamba_align_default ? 2 : 1) + spec_tokens;
}

status check_state_layers_supported(const model_arch& a, const vllm_profile& p) {
  if (a.has_indexer() && (p.engine == engine_kind::v0 || p.version < vllm_version{0, 11, 0})) {
    // DeepSeek-V3.2's sparse attention (DeepseekV32IndexerCache, FlashMLA's sparse kernels)
    // shipped with its support in the V1 engine of 0.11.0.
    return make_error(
        error_code::invalid_argument,
        "DeepSeek sparse attention (an indexer beside MLA) runs in vLLM's V1 engine "
        "from 0.11.0 on; got " +
            std::string(p.engine == engine_kind::v0 ? "the V0 engine" : p.version.text()),
        "vllm_version");
  }
  if (a.compressed.any() && (p.engine == engine_kind::v0 || p.version < vllm_version{0, 20, 0})) {
    // DeepSeek-V4 (deepseek_v4.py, its sparse-SWA and compressor caches) arrived in 0.20.
    return make_error(
        error_code::invalid_argument,
        "DeepSeek-V4 attention runs in vLLM's V1 engine from 0.20.0 on; got " +
            std::string(p.engine == engine_kind::v0 ? "the V0 engine" : p.version.text()),
        "vllm_version");
  }
  if (!a.linear.any()) return ok_status();
  // V1 keeps state layers in its KV cache manager from 0.10 (MambaSpec); Qwen3-Next's gated
  // DeltaNet arrived in 0.10.2. V0 allocated Mamba state outside the KV budget
  // (MambaCacheManager), which is not modelled.
  const vllm_version since = a.linear.kind == state_layer_kind::gated_delta_net
                                 ? vllm_version{0, 10, 2}
                                 : vllm_version{0, 10, 0};
  if (p.engine == engine_kind::v0 || p.version < since) {
    return make_error(error_code::invalid_argument,
                      std::string("state layers of kind '") + state_layer_kind_name(a.linear.kind) +
                          "' are modelled in vLLM's V1 engine from " + since.text() +
                          " on (MambaSpec in the KV cache manager); got " +
                          (p.engine == engine_kind::v0 ? "the V0 engine" : p.version.text()),
                      "vllm_version");
  }
  return ok_status();
}

const char* layer_group_kind_name(layer_group_kind k) {
  switch (k) {
    case layer_group_kind::full_attention:
      return "full_attention";
    case layer_group_kind::sliding_window:
      return "sliding_window";
    case layer_group_kind::compressed_attention:
      return "compressed_attention";
    case layer_group_kind::compressor_state:
      return "compressor_state";
    case layer_group_kind::chunked_local:
      return "chunked_local_attention";
    case layer_group_kind::state:
      return "state";
    case layer_group_kind::indexer:
      return "indexer";
  }
  return "full_attention";
}

}  // namespace vllm_mem
