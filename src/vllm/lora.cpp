// vllm/lora.cpp — LoRA slot bytes (lora.hpp; docs/research/set2-causes.md §b).
#include "vllm_mem/vllm/lora.hpp"

#include <algorithm>

namespace vllm_mem {

namespace {

std::uint64_t round_up(std::uint64_t x, std::uint64_t m) { return (x + m - 1) / m * m; }

}  // namespace

std::uint64_t lora_extra_vocab(const vllm_version& v) {
  // config/lora.py (0.11): "lora_extra_vocab_size is deprecated and will be removed in v0.12.0".
  return v < vllm_version{0, 12, 0} ? 256 : 0;
}

bool lora_wraps_embeddings(const model_arch& a, const vllm_version& v) {
  const std::string& t = a.model_type;
  if (t == "llama" || t == "mistral") return true;
  if (t == "qwen3" || t == "qwen3_moe") return vllm_version{0, 16, 0} <= v;
  return false;
}

std::uint64_t lora_slot_bytes(const model_arch& a, const lora_config& c, const vllm_version& v,
                              std::uint64_t tp, std::uint64_t first, std::uint64_t last,
                              bool first_stage, bool last_stage, std::uint32_t act_bits) {
  if (!c.enabled || tp == 0 || last < first) return 0;
  const std::uint64_t r = c.max_lora_rank;
  // Column-parallel lora_a is [r, H_in] on every rank ([r/tp, H_in] fully sharded), lora_b
  // [out/tp, r]; row-parallel lora_a is [r, in/tp], lora_b [H_out, r] ([H_out/tp, r] fully
  // sharded) (base_linear.py, row_parallel_linear.py).
  const std::uint64_t ra = c.fully_sharded ? std::max<std::uint64_t>(1, r / tp) : r;
  const std::uint64_t H = a.hidden_size;
  const std::uint64_t H_row = c.fully_sharded ? H / tp : H;
  const std::uint64_t layers = last - first;
  const std::uint64_t dense = layers - a.num_moe_layers(first, last);
  // Elements of one slot (one adapter), in the LoRA dtype.
  std::uint64_t slot = 0;
  if (!a.is_mla()) {
    const std::uint64_t q = a.num_heads * a.head_dim / tp;
    const std::uint64_t kv = std::max<std::uint64_t>(1, a.num_kv_heads / tp) * a.head_dim;
    const std::uint64_t qkv = 3 * ra * H + (q + 2 * kv) * r;  // MergedQKV: slices q, k, v
    const std::uint64_t o = r * q + H_row * r;                // o_proj (row parallel)
    slot += layers * (qkv + o);
  }
  const std::uint64_t Ip = a.intermediate_size / tp;
  const std::uint64_t slices = a.mlp == mlp_kind::gated ? 2 : 1;  // gate_up_proj or fc1
  slot += dense * (slices * (ra * H + Ip * r) + r * Ip + H_row * r);
  // Base rows the extra vocabulary adds to the model's own embedding / lm_head (model dtype).
  std::uint64_t base_rows = 0;
  if (lora_wraps_embeddings(a, v)) {
    const std::uint64_t V = a.vocab_size;
    const std::uint64_t E = lora_extra_vocab(v);
    if (first_stage) {
      // VocabParallelEmbeddingWithLoRA (not TP-sharded): lora_a [V + E, r], lora_b [H, r], the
      // extra-vocab embeddings [E, H]; embed_tokens holds V + E * max_loras rows (sharded).
      slot += (V + E) * r + H * r + E * H;
      base_rows += c.max_loras * E * H / tp;
    }
    if (last_stage) {
      // LogitsProcessorWithLoRA: lora_a [r, H], lora_b [pad256(V + E), r] (V from 0.12), the
      // extra-vocab embeddings [E, H]; an untied lm_head holds V + E rows (sharded).
      const std::uint64_t Vb = E > 0 ? round_up(V + E, 256) : V;
      slot += r * H + Vb * r + E * H;
      if (!a.tie_word_embeddings) base_rows += E * H / tp;
    }
  }
  const std::uint64_t bits = c.dtype_bits > 0 ? c.dtype_bits : act_bits;
  return c.max_loras * slot * bits / 8 + base_rows * act_bits / 8;
}

}  // namespace vllm_mem
