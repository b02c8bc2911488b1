// vllm/speculative.cpp — the drafter of speculative decoding (speculative.hpp).
#include "vllm_mem/vllm/speculative.hpp"

#include <string_view>

namespace vllm_mem {

const char* spec_method_name(spec_method m) {
  switch (m) {
    case spec_method::none:
      return "none";
    case spec_method::ngram:
      return "ngram";
    case spec_method::suffix:
      return "suffix";
    case spec_method::mtp:
      return "mtp";
  }
  return "none";
}

result<std::uint64_t> mtp_weight_bytes(const model_arch& a, const weight_options& opt) {
  if (a.mtp_layers == 0) return std::uint64_t{0};
  // The MTP layers as a model of their own: every layer a full-attention decoder layer (MoE
  // where the model has experts: DeepSeek's MTP layer sits past first_k_dense_replace, Qwen3.5's
  // and Qwen3-Next's are sparse MoE blocks), no tower, no windows.
  model_arch m = a;
  m.num_layers = a.mtp_layers;
  m.linear = state_layers{};
  m.vision.reset();
  m.sliding_window = m.sliding_window_pattern = m.attention_chunk_size = 0;
  m.num_kv_shared_layers = 0;
  m.hidden_size_per_layer_input = 0;
  m.first_k_dense_replace = 0;
  m.moe_layer_freq = 1;
  // DeepSeek-V4's MTP layers attend the window only (DeepseekV4Attention: ratio 1 past the
  // decoder layers) and route by score, not by token hash.
  if (m.compressed.any()) {
    m.compressed.ratio.assign(m.num_layers, 1);
    m.compressed.num_hash_layers = 0;
  }
  weight_options o = opt;
  o.shard.pp = 1;
  o.shard.pp_rank = 0;
  o.checkpoint_bytes = 0;
  o.shares_rope_cache = true;
  if (opt.quant.mtp_unquantized) o.quant = quant_spec{};
  auto w = weights_per_rank(m, o);
  if (!w) return w.err();
  // Shared with the target: the embedding and the LM head.
  std::uint64_t bytes = w->total() - w->embedding - w->lm_head - w->vision;
  const std::uint64_t act = opt.act_bits / 8;
  const std::uint64_t H = a.hidden_size;
  // fc / eh_proj: [2H -> H]; Qwen's MTP splits it over TP (ColumnParallelLinear), DeepSeek's and
  // GLM's keep a replicated nn.Linear. enorm and hnorm: H each (the final norm is counted above).
  const bool split = std::string_view(a.model_type).substr(0, 5) == "qwen3";
  const std::uint64_t fc = 2 * H * H * act / (split ? opt.shard.tp : 1);
  bytes += a.mtp_layers * (fc + 2 * H * act);
  return bytes;
}

}  // namespace vllm_mem
