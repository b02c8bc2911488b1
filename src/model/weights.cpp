// model/weights.cpp — per-rank weight bytes following vllm-memory-model.md §9.
#include "vllm_mem/model/weights.hpp"

#include <algorithm>
#include <string_view>

#include "vllm_mem/model/layers.hpp"
#include "vllm_mem/util/checked_math.hpp"

namespace vllm_mem {

namespace {

// Checked arithmetic (checked_math.hpp): an overflow poisons the accumulator instead of wrapping.
using checked = checked_u64;

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }
std::uint64_t round_up(std::uint64_t a, std::uint64_t m) { return ceil_div(a, m) * m; }

bool starts_with(std::string_view s, std::string_view p) { return s.rfind(p, 0) == 0; }

// Norm weights per decoder layer (elements), by family.
std::uint64_t layer_norm_elements(const model_arch& a, std::uint64_t tp) {
  const std::string& t = a.model_type;
  std::uint64_t norms = 2;  // input_layernorm + post_attention_layernorm
  if (starts_with(t, "gemma2") || starts_with(t, "gemma3")) norms = 4;  // + pre/post feedforward
  if (a.parallel_attn && !a.new_decoder_architecture && t != "gpt_neox") norms = 1;
  std::uint64_t per_norm = a.hidden_size;
  if (a.norm == norm_kind::layer && t != "mpt") per_norm *= 2;  // weight + bias
  std::uint64_t n = norms * per_norm;
  // Per-head q/k norms (Qwen3, Gemma 3) and full-width ones (OLMo 2).
  if (starts_with(t, "qwen3") || starts_with(t, "gemma3")) n += 2 * a.head_dim;
  if (starts_with(t, "olmo2"))
    n += (a.num_heads / tp + a.num_kv_heads / std::max<std::uint64_t>(1, tp)) * a.head_dim;
  return n;
}

// Rotary cos/sin cache elements (one buffer per distinct RoPE configuration; vLLM caches
// get_rope instances). Length per type: vllm/model_executor/layers/rotary_embedding.py.
std::uint64_t rope_cache_elements(const model_arch& a) {
  if (a.model_type == "mpt" || a.model_type == "bloom" || a.model_type == "gpt2") return 0;
  const std::uint64_t dim = a.rotary_dim();
  const std::uint64_t max_pos = a.max_position_embeddings;
  if (dim == 0 || max_pos == 0) return 0;
  const auto& r = a.rope_scaling;
  const bool gemma3 = starts_with(a.model_type, "gemma3") || a.multimodal_model_type == "gemma3";
  std::uint64_t len = max_pos;
  if (r.rope_type == "linear" || r.rope_type == "dynamic") {
    len = static_cast<std::uint64_t>(static_cast<double>(max_pos) * r.factor);
  } else if (r.rope_type == "yarn" || r.rope_type == "deepseek_yarn") {
    const std::uint64_t base =
        r.original_max_position_embeddings > 0 ? r.original_max_position_embeddings : max_pos;
    len = static_cast<std::uint64_t>(static_cast<double>(base) * r.factor);
  } else if (r.rope_type == "longrope" || r.rope_type == "su") {
    len = max_pos + r.original_max_position_embeddings;  // short and long caches
  }
  std::uint64_t elements = len * dim;
  if (gemma3) elements += max_pos * dim;  // local layers: a second, unscaled rotary embedding
  // DeepSeek-V4: the compressed layers' rotary embedding has its own base (compress_rope_theta),
  // so get_rope builds a second cache of the same length (deepseek_v4.py DeepseekV4Attention).
  if (a.compressed.any() && a.compressed.count(0, a.num_layers, 1) < a.num_layers) elements *= 2;
  return elements;
}

// Bytes of `elements` values `bits` wide (the model dtype's for norms, biases and buffers),
// overflow-checked in `c`.
std::uint64_t value_bytes(checked& c, std::uint64_t elements, std::uint32_t bits) {
  return c.mul(elements, bits) / 8;
}

}  // namespace

layer_range pp_layer_range(std::uint64_t num_layers, std::uint64_t pp, std::uint64_t rank) {
  pp = std::max<std::uint64_t>(1, pp);
  const std::uint64_t base = num_layers / pp;
  const std::uint64_t rem = num_layers % pp;
  // partitions[-i] += 1 for i in 2..rem+1: stages pp-2, pp-3, ..., pp-1-rem get one more.
  std::uint64_t first = 0;
  for (std::uint64_t s = 0; s < rank; ++s) {
    const bool extra = rem > 0 && s + 1 < pp && s + 1 + rem >= pp;
    first += base + (extra ? 1 : 0);
  }
  const bool extra = rem > 0 && rank + 1 < pp && rank + 1 + rem >= pp;
  return {first, first + base + (extra ? 1 : 0)};
}

namespace {

// The vision tower's parameters: as stated, or a generic ViT's from its sizes.
std::uint64_t vision_params(const model_arch& a, checked& c) {
  const std::uint64_t H = a.hidden_size;
  std::uint64_t vp = a.vision->params;
  if (vp == 0 && a.vision->num_layers > 0 && a.vision->hidden_size > 0) {
    // Generic ViT: per layer 4h^2 + 2*h*i + biases and norms; patch and position embeddings;
    // a projector of about h*H + H*H.
    const std::uint64_t h = a.vision->hidden_size;
    const std::uint64_t iv = a.vision->intermediate_size > 0 ? a.vision->intermediate_size : 4 * h;
    const std::uint64_t per_layer = c.add(c.mul(4 * h, h), c.add(c.mul(2 * h, iv), 9 * h + iv));
    const std::uint64_t patch =
        a.vision->patch_size > 0 ? 3 * a.vision->patch_size * a.vision->patch_size * h : 0;
    const std::uint64_t grid = (a.vision->patch_size > 0 && a.vision->image_size > 0)
                                   ? (a.vision->image_size / a.vision->patch_size) *
                                         (a.vision->image_size / a.vision->patch_size)
                                   : 0;
    vp = c.add(c.mul(a.vision->num_layers, per_layer), c.add(patch, c.mul(grid, h)));
    vp = c.add(vp, c.add(c.mul(h, H), c.mul(H, H)));
  }
  return vp;
}

// DeepSeek sparse attention's Indexer on one layer that keeps one (the others drop its
// checkpoint tensors), every piece replicated on each rank: wq_b (q_lora_rank -> heads x
// head_dim) and wk (hidden -> head_dim) in the checkpoint's scheme, k_norm (a LayerNorm, weight
// and bias), weights_proj (hidden -> heads) unquantized (deepseek_v2.py Indexer).
std::uint64_t indexer_bytes(const model_arch& a, const quant_spec& q, std::uint32_t ab,
                            checked& c) {
  const std::uint64_t H = a.hidden_size, ih = a.index_head_dim, heads = a.index_n_heads;
  const std::uint64_t q_in = a.q_lora_rank > 0 ? a.q_lora_rank : H;
  std::uint64_t b = quantized_linear_bytes(q, q_in, c.mul(heads, ih), ab, q_in);
  b = c.add(b, quantized_linear_bytes(q, H, ih, ab, H));
  b = c.add(b, value_bytes(c, 2 * ih, ab));
  return c.add(b, value_bytes(c, c.mul(H, heads), ab));
}

// MLA attention of one layer on one rank (q_a/q_b or q_proj, kv_a, kv_b, o_proj, norms), and
// in `absorbed` the W_UK_T / W_UV matrices vLLM derives from kv_b_proj (§9.4).
std::uint64_t mla_attention_bytes(const model_arch& a, const quant_spec& q, std::uint32_t ab,
                                  std::uint64_t nq, checked& c, std::uint64_t& absorbed) {
  const std::uint64_t H = a.hidden_size;
  auto linear = [&](std::uint64_t in, std::uint64_t out, std::uint64_t in_total) {
    c.mul(in, out);  // overflow probe of the element count
    return quantized_linear_bytes(q, in, out, ab, in_total);
  };
  const std::uint64_t qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
  std::uint64_t attn = 0;
  if (a.q_lora_rank > 0) {
    attn = c.add(attn, linear(H, a.q_lora_rank, H));        // q_a_proj, replicated
    attn = c.add(attn, value_bytes(c, a.q_lora_rank, ab));  // q_a_layernorm
    attn = c.add(attn, linear(a.q_lora_rank, c.mul(nq, qk), a.q_lora_rank));
  } else {
    attn = c.add(attn, linear(H, c.mul(nq, qk), H));
  }
  attn = c.add(attn, linear(H, a.kv_lora_rank + a.qk_rope_head_dim, H));  // replicated
  attn = c.add(attn, value_bytes(c, a.kv_lora_rank, ab));                 // kv_a_layernorm
  attn = c.add(
      attn, linear(a.kv_lora_rank, c.mul(nq, a.qk_nope_head_dim + a.v_head_dim), a.kv_lora_rank));
  attn = c.add(attn, linear(c.mul(nq, a.v_head_dim), H, c.mul(a.num_heads, a.v_head_dim)));
  absorbed = value_bytes(c, c.mul(a.kv_lora_rank, nq, a.qk_nope_head_dim + a.v_head_dim), ab);
  return attn;
}

// DeepSeek-V4 attention of one layer with compress ratio `r` on one rank (deepseek_v4.py
// DeepseekV4Attention, deepseek_v4_attention.py DeepseekV4Indexer, deepseek_compressor.py
// DeepseekCompressor): fused_wqa_wkv (hidden -> q_lora_rank + head_dim, replicated), q_norm,
// kv_norm, wq_b (column parallel), the grouped output projection wo_a (column parallel over the
// o_groups) and wo_b (row parallel), attn_sink (fp32, padded to 64 heads); a compressor on the
// compressed layers (ape fp32, fused_wkv_wgate hidden -> 2 x coff x head_dim unquantized, norm;
// coff 2 for ratio 4) and on ratio-4 layers the indexer (wq_b replicated, weights_proj
// unquantized, k_norm LayerNorm, its own compressor of index_head_dim).
std::uint64_t compressed_attention_bytes(const model_arch& a, const quant_spec& q, std::uint32_t ab,
                                         std::uint64_t tp, std::uint8_t r, checked& c) {
  const compressed_attention& ca = a.compressed;
  const quant_spec none{};
  const std::uint64_t H = a.hidden_size, hd = a.head_dim, nh = a.num_heads;
  auto linear = [&](const quant_spec& qs, std::uint64_t in, std::uint64_t out,
                    std::uint64_t in_total) {
    c.mul(in, out);
    return quantized_linear_bytes(qs, in, out, ab, in_total);
  };
  std::uint64_t b = linear(q, H, ca.q_lora_rank + hd, H);
  b = c.add(b, value_bytes(c, ca.q_lora_rank + hd, ab));
  b = c.add(b, linear(q, ca.q_lora_rank, c.mul(ceil_div(nh, tp), hd), ca.q_lora_rank));
  const std::uint64_t o_rank = c.mul(ceil_div(ca.o_groups, tp), ca.o_lora_rank);
  b = c.add(b, linear(q, nh * hd / ca.o_groups, o_rank, nh * hd / ca.o_groups));
  b = c.add(b, linear(q, o_rank, H, c.mul(ca.o_groups, ca.o_lora_rank)));
  b = c.add(b, 4 * std::max<std::uint64_t>(ceil_div(nh, tp), 64));
  auto compressor = [&](std::uint64_t head) {
    const std::uint64_t coff = r == 4 ? 2 : 1;
    std::uint64_t x = c.mul(c.mul(r, coff * head), 4);
    x = c.add(x, linear(none, H, 2 * coff * head, H));
    return c.add(x, value_bytes(c, head, ab));
  };
  if (r > 1) b = c.add(b, compressor(hd));
  if (r == 4) {
    const std::uint64_t ih = ca.index_head_dim, in = ca.index_n_heads;
    b = c.add(b, linear(q, ca.q_lora_rank, c.mul(in, ih), ca.q_lora_rank));
    b = c.add(b, value_bytes(c, c.mul(H, in), ab));
    b = c.add(b, value_bytes(c, 2 * ih, ab));
    b = c.add(b, compressor(ih));
  }
  return b;
}

// DeepSeek-V4's stage: its attention per compress ratio in place of the generic one, the
// decoder layers' hyper-connections, and the hash-routed layers' token-to-expert tables.
void add_compressed_layers(const model_arch& a, const quant_spec& attn_q, std::uint32_t ab,
                           std::uint64_t tp, layer_range layers, bool last_stage, checked& c,
                           weight_bytes& w) {
  const std::uint64_t H = a.hidden_size;
  const std::uint64_t moe_layers = a.num_moe_layers(layers.first, layers.last);
  w.attention = 0;
  for (const std::uint8_t r : {std::uint8_t{1}, std::uint8_t{4}, std::uint8_t{128}}) {
    w.attention = c.add(w.attention, c.mul(a.compressed.count(layers.first, layers.last, r),
                                           compressed_attention_bytes(a, attn_q, ab, tp, r, c)));
  }
  // DeepseekV4DecoderLayer's hyper-connections, fp32: hc_{attn,ffn}_fn [(2 + m) m, m H],
  // hc_{attn,ffn}_base [(2 + m) m], hc_{attn,ffn}_scale [3].
  const std::uint64_t m = a.compressed.hc_mult, mix = (2 + m) * m;
  const std::uint64_t hc = c.mul(c.add(c.mul(2 * mix, c.mul(m, H)), 2 * mix + 6), 4);
  w.norms = c.add(w.norms, c.mul(w.num_layers, hc));
  if (last_stage) {
    // The model's hc_head: fn [m, m H], base [m], scale [1], fp32.
    w.norms = c.add(w.norms, c.mul(c.add(c.mul(m, c.mul(m, H)), m + 1), 4));
  }
  if (a.is_moe()) {
    // DeepseekV4MoE: the first num_hash_layers route by token id (tid2eid, [vocab, top_k] int32)
    // in place of the fp32 e_score_correction_bias.
    const std::uint64_t hash =
        std::min(layers.last, a.compressed.num_hash_layers) -
        std::min(layers.first, std::min(layers.last, a.compressed.num_hash_layers));
    w.router = c.add(w.router, c.mul(hash, c.mul(c.mul(a.vocab_size, a.num_experts_per_tok), 4)));
    w.router = c.add(w.router, c.mul(moe_layers - hash, a.num_experts * 4));
  }
}

// Gemma 4's per-layer input embeddings on the first stage: embed_tokens_per_layer
// [vocab_per_layer, layers x per-layer width] (vocab-parallel, 16 bit) and
// per_layer_model_projection (hidden -> that width, column parallel) with its norm (gemma4.py).
std::uint64_t per_layer_embedding_bytes(const model_arch& a, const quant_spec& q, std::uint32_t ab,
                                        std::uint64_t tp, checked& c) {
  if (a.hidden_size_per_layer_input == 0) return 0;
  const std::uint64_t width = c.mul(a.num_layers, a.hidden_size_per_layer_input);
  std::uint64_t b =
      value_bytes(c, c.mul(ceil_div(padded_vocab(a.vocab_size_per_layer_input), tp), width), ab);
  c.mul(a.hidden_size, width);
  b = c.add(b, quantized_linear_bytes(q, a.hidden_size, ceil_div(width, tp), ab, a.hidden_size));
  return c.add(b, value_bytes(c, a.hidden_size_per_layer_input, ab));
}

result<weight_bytes> computed_per_rank(const model_arch& a, const weight_options& opt);

// Scales the parameter groups of `w` by num/den exactly (128-bit intermediates); the rounding
// remainder goes to the largest group so that the total is floor(parameters * num / den).
void scale_parameters(weight_bytes& w, std::uint64_t num, std::uint64_t den) {
  __extension__ using u128 = unsigned __int128;
  std::uint64_t* groups[] = {&w.embedding,      &w.lm_head, &w.attention, &w.dense_mlp, &w.experts,
                             &w.shared_experts, &w.router,  &w.norms,     &w.vision};
  const u128 target = static_cast<u128>(w.parameter_bytes()) * num / den;
  std::uint64_t* largest = groups[0];
  for (std::uint64_t* g : groups) {
    if (*g > *largest) largest = g;
  }
  u128 sum = 0;
  for (std::uint64_t* g : groups) {
    *g = static_cast<std::uint64_t>(static_cast<u128>(*g) * num / den);
    sum += *g;
  }
  *largest += static_cast<std::uint64_t>(target - sum);
}

}  // namespace

result<std::uint64_t> checkpoint_layout_bytes(const model_arch& a,
                                              std::uint32_t fallback_act_bits) {
  weight_options ckpt;
  ckpt.act_bits = a.torch_dtype_known ? dtype_bits(a.torch_dtype) : fallback_act_bits;
  ckpt.quant = a.quantization;
  ckpt.include_buffers = false;
  auto w = computed_per_rank(a, ckpt);
  if (!w) return w.err();
  return w->parameter_bytes();
}

result<weight_bytes> weights_per_rank(const model_arch& a, const weight_options& opt) {
  auto w = computed_per_rank(a, opt);
  if (!w || opt.checkpoint_bytes == 0) return w;
  auto layout = checkpoint_layout_bytes(a, opt.act_bits);
  if (!layout) return layout.err();
  if (*layout == 0) {
    return make_error(error_code::invalid_argument,
                      "the architecture has no weights to scale to the checkpoint's bytes",
                      "safetensors");
  }
  scale_parameters(*w, opt.checkpoint_bytes, *layout);
  return w;
}

namespace {

// A state layer's mixer per rank, bytes (model/layers.hpp), in place of attention.
std::uint64_t state_mixer_bytes(const model_arch& a, const quant_spec& dense_q, std::uint32_t ab,
                                std::uint64_t tp, checked& c) {
  const std::uint64_t H = a.hidden_size;
  auto act_bytes = [&](std::uint64_t elements) { return value_bytes(c, elements, ab); };
  auto linear = [&](std::uint64_t in, std::uint64_t out, std::uint64_t in_total) {
    c.mul(in, out);  // overflow probe of the element count
    return quantized_linear_bytes(dense_q, in, out, ab, in_total);
  };
  const state_layers& sl = a.linear;
  std::uint64_t m = 0;
  if (sl.kind == state_layer_kind::gated_delta_net) {
    // vLLM Qwen3NextGatedDeltaNet: in_proj_qkvz (H -> 2 key_dim + 2 value_dim) and in_proj_ba
    // (H -> 2 n_v) column-parallel, conv1d weight (conv_dim / tp, 1, K), dt_bias and A_log
    // (n_v / tp), out_proj (value_dim -> H) row-parallel; the gated norm is counted with norms.
    const std::uint64_t key_dim = c.mul(sl.num_key_heads, sl.key_head_dim);
    const std::uint64_t value_dim = c.mul(sl.num_value_heads, sl.value_head_dim);
    const std::uint64_t conv_dim = 2 * key_dim + value_dim;
    m = c.add(m, linear(H, ceil_div(2 * key_dim + 2 * value_dim, tp), H));
    m = c.add(m, linear(H, ceil_div(2 * sl.num_value_heads, tp), H));
    m = c.add(m, act_bytes(c.mul(ceil_div(conv_dim, tp), sl.conv_kernel)));
    m = c.add(m, act_bytes(2 * ceil_div(sl.num_value_heads, tp)));
    m = c.add(m, linear(ceil_div(value_dim, tp), H, value_dim));
  } else if (sl.kind == state_layer_kind::mamba2) {
    // vLLM MambaMixer2: in_proj (H -> I + conv_dim + heads, groups padded to shard with the
    // heads), conv1d weight and bias (conv_dim / tp, K), A, D, dt_bias (heads / tp), gated norm
    // (I / tp), out_proj (I -> H) row-parallel.
    const std::uint64_t groups =
        sl.n_groups % tp == 0 ? sl.n_groups : sl.n_groups + (tp - sl.n_groups % tp);
    const std::uint64_t conv_dim = sl.intermediate_size + 2 * c.mul(groups, sl.state_size);
    const std::uint64_t in_out = sl.intermediate_size + conv_dim + sl.num_heads;
    m = c.add(m, linear(H, ceil_div(in_out, tp), H));
    m = c.add(m, act_bytes(c.mul(ceil_div(conv_dim, tp), sl.conv_kernel + 1)));
    m = c.add(m, act_bytes(3 * ceil_div(sl.num_heads, tp)));
    m = c.add(m, act_bytes(ceil_div(sl.intermediate_size, tp)));
    m = c.add(m, linear(ceil_div(sl.intermediate_size, tp), H, sl.intermediate_size));
  }
  return m;
}

result<weight_bytes> computed_per_rank(const model_arch& a, const weight_options& opt) {
  checked c;
  weight_bytes w;
  const std::uint64_t tp = std::max<std::uint64_t>(1, opt.shard.tp);
  const std::uint64_t pp = std::max<std::uint64_t>(1, opt.shard.pp);
  const std::uint32_t ab = opt.act_bits;
  const quant_spec none{};
  const quant_spec& dense_q = opt.quant.experts_only ? none : opt.quant;
  const quant_spec expert_q =
      opt.quant.expert_method ? attention_scheme(*opt.quant.expert_method) : opt.quant;
  // Mixed precision (ModelOpt MIXED_PRECISION): attention and state-mixer projections in their
  // own scheme.
  const quant_spec attn_q =
      opt.quant.attention_method ? attention_scheme(*opt.quant.attention_method) : dense_q;
  auto act_bytes = [&](std::uint64_t elements) { return value_bytes(c, elements, ab); };
  auto linear = [&](const quant_spec& q, std::uint64_t in, std::uint64_t out,
                    std::uint64_t in_total) {
    c.mul(in, out);  // overflow probe of the element count
    return quantized_linear_bytes(q, in, out, ab, in_total);
  };

  const layer_range layers = pp_layer_range(a.num_layers, pp, opt.shard.pp_rank);
  const bool first_stage = opt.shard.pp_rank == 0;
  const bool last_stage = opt.shard.pp_rank + 1 == pp;
  w.num_layers = layers.last - layers.first;

  const std::uint64_t H = a.hidden_size;
  const std::uint64_t d = a.head_dim;
  const std::uint64_t nq = ceil_div(a.num_heads, tp);
  const std::uint64_t nkv = a.kv_heads_per_rank(tp);
  const std::uint64_t v_pad = padded_vocab(a.vocab_size);
  const std::uint64_t v_rank = ceil_div(v_pad, tp);

  // Attention per layer.
  std::uint64_t attn = 0, absorbed = 0;
  if (a.is_mla()) attn = mla_attention_bytes(a, attn_q, ab, nq, c, absorbed);
  // Plain attention of one shape: qkv_proj and o_proj (attn_output_gate, Qwen3-Next: q_proj
  // yields the query and a gate per head).
  auto plain_attention = [&](std::uint64_t head, std::uint64_t kv_heads) {
    const std::uint64_t q_heads = a.attn_output_gate ? 2 * nq : nq;
    const std::uint64_t qkv_out = c.mul(q_heads + 2 * kv_heads, head);
    std::uint64_t b = linear(attn_q, H, qkv_out, H);
    b = c.add(b, linear(attn_q, c.mul(nq, head), H, c.mul(a.num_heads, head)));
    if (a.qkv_bias || a.attention_bias) b = c.add(b, act_bytes(qkv_out));
    if (a.attention_bias) b = c.add(b, act_bytes(H));  // o_proj bias (not sharded)
    return b;
  };
  // Gemma 4's full-attention layers have their own head size and KV heads (their k and v
  // projections stay in the checkpoint even where the KV cache is shared).
  std::uint64_t full_attn = 0;
  if (!a.is_mla()) {
    attn = plain_attention(d, nkv);
    full_attn =
        a.two_kv_shapes() ? plain_attention(a.full_head_dim(), a.full_kv_heads_per_rank(tp)) : attn;
  }

  // A state layer's mixer in place of attention (model/layers.hpp), per rank.
  const quant_spec state_q =
      opt.quant.state_mixer_method ? attention_scheme(*opt.quant.state_mixer_method) : attn_q;
  const std::uint64_t state_mixer = state_mixer_bytes(a, state_q, ab, tp, c);
  const std::uint64_t state_norm = a.linear.kind == state_layer_kind::gated_delta_net
                                       ? a.linear.value_head_dim
                                       : 0;  // RMSNormGated(v_dim); Mamba2's is in the mixer

  // Dense MLP per layer.
  const std::uint64_t I_rank = ceil_div(a.intermediate_size, tp);
  std::uint64_t dense = 0;
  if (a.mlp == mlp_kind::gated) {
    dense =
        c.add(linear(dense_q, H, 2 * I_rank, H), linear(dense_q, I_rank, H, a.intermediate_size));
    if (a.mlp_bias) dense = c.add(dense, act_bytes(2 * I_rank + H));
  } else {
    dense = c.add(linear(dense_q, H, I_rank, H), linear(dense_q, I_rank, H, a.intermediate_size));
    if (a.mlp_bias) dense = c.add(dense, act_bytes(I_rank + H));
  }

  // MoE layer pieces.
  std::uint64_t experts = 0, shared = 0, router = 0;
  if (a.is_moe()) {
    std::uint64_t e_local = a.num_experts;
    std::uint64_t tp_moe = tp;
    if (opt.shard.expert_parallel && tp > 1) {
      // §9.5 determine_expert_map: base = E // ep, the first E % ep ranks get one more.
      e_local = a.num_experts / tp + (a.num_experts % tp > 0 ? 1 : 0);
      tp_moe = 1;
    }
    std::uint64_t i_r = ceil_div(a.moe_intermediate_size, tp_moe);
    std::uint64_t h_e = H;
    if (expert_q.method == quant_method::mxfp4) {
      // The MXFP4 MoE kernels pad the hidden size to a multiple of 256 and the per-rank
      // intermediate size to a multiple of 64 when creating the expert tensors.
      h_e = round_up(H, 256);
      i_r = round_up(i_r, 64);
    }
    const std::uint64_t one = c.add(linear(expert_q, h_e, 2 * i_r, h_e),
                                    linear(expert_q, i_r, h_e, a.moe_intermediate_size));
    experts = c.mul(e_local, one);
    if (a.mlp_bias) experts = c.add(experts, act_bytes(c.mul(e_local, 2 * i_r + h_e)));
    router = act_bytes(c.mul(H, a.num_experts));  // gate: ReplicatedLinear, never quantized
    if (a.mlp_bias || starts_with(a.model_type, "deepseek_v3") || a.model_type == "kimi_k2") {
      router = c.add(router, a.num_experts * 4);  // router bias / e_score_correction_bias
    }
    if (a.shared_expert_intermediate_size > 0) {
      const std::uint64_t is_r = ceil_div(a.shared_expert_intermediate_size, tp);
      shared = c.add(linear(dense_q, H, 2 * is_r, H),
                     linear(dense_q, is_r, H, a.shared_expert_intermediate_size));
      if (starts_with(a.model_type, "qwen2_moe") || starts_with(a.model_type, "qwen3_next") ||
          starts_with(a.model_type, "qwen3_5_moe"))
        shared = c.add(shared, act_bytes(H));  // shared_expert_gate
    }
  }

  // Per-layer pieces times the stage's layer counts (a checked product overflows exactly when
  // the per-layer sum would).
  const std::uint64_t norms_per_layer = act_bytes(layer_norm_elements(a, tp));
  const std::uint64_t moe_layers = a.num_moe_layers(layers.first, layers.last);
  const std::uint64_t dense_layers = w.num_layers - moe_layers;
  // Hybrids: attention in the full-attention layers, the state mixer in the others; the
  // per-head q/k norms belong to attention, the state layer has its own gated norm.
  const std::uint64_t attn_layers = a.num_attention_layers(layers.first, layers.last);
  const std::uint64_t state_layer_count = w.num_layers - attn_layers;
  w.attention = c.add(c.mul(attn_layers, attn), c.mul(state_layer_count, state_mixer));
  if (a.two_kv_shapes()) {
    const std::uint64_t full = attn_layers - a.num_sliding_layers(layers.first, layers.last);
    w.attention = c.add(c.mul(attn_layers - full, attn), c.mul(full, full_attn));
  }
  if (a.hidden_size_per_layer_input > 0) {
    // Gemma 4's per-layer inputs, in each layer: per_layer_input_gate (hidden -> per-layer
    // width) and per_layer_projection (back), replicated, and post_per_layer_input_norm.
    const std::uint64_t hp = a.hidden_size_per_layer_input;
    const std::uint64_t per_layer =
        c.add(c.add(linear(dense_q, H, hp, H), linear(dense_q, hp, H, hp)), act_bytes(H));
    w.attention = c.add(w.attention, c.mul(w.num_layers, per_layer));
  }
  if (a.has_indexer()) {
    w.attention = c.add(w.attention, c.mul(a.num_indexer_layers(layers.first, layers.last),
                                           indexer_bytes(a, attn_q, ab, c)));
  }
  w.norms = c.mul(w.num_layers, norms_per_layer);
  if (state_layer_count > 0) {
    const std::uint64_t qk_norms = starts_with(a.model_type, "qwen3") ? 2 * a.head_dim : 0;
    w.norms = c.add(w.norms - state_layer_count * act_bytes(qk_norms),
                    c.mul(state_layer_count, act_bytes(state_norm)));
  }
  w.experts = c.mul(moe_layers, experts);
  w.shared_experts = c.mul(moe_layers, shared);
  w.router = c.mul(moe_layers, router);
  w.dense_mlp = c.mul(dense_layers, dense);
  if (a.compressed.any()) add_compressed_layers(a, attn_q, ab, tp, layers, last_stage, c, w);
  if (opt.include_buffers) w.buffers = c.mul(w.num_layers, absorbed);

  const std::uint64_t final_norm =
      act_bytes(a.norm == norm_kind::layer && a.model_type != "mpt" ? 2 * H : H);
  if (first_stage) {
    w.embedding = act_bytes(c.mul(v_rank, H));
    w.embedding = c.add(w.embedding, per_layer_embedding_bytes(a, dense_q, ab, tp, c));
    if (a.vision) {
      const std::uint64_t vp = vision_params(a, c);
      w.vision = act_bytes(vp) / tp;
    }
  }
  if (last_stage) {
    w.norms = c.add(w.norms, final_norm);
    if (!a.tie_word_embeddings || pp > 1) {
      const quant_spec& lm_q = opt.quant.quantize_lm_head ? opt.quant : none;
      w.lm_head = linear(lm_q, H, v_rank, H);
      if (a.model_type == "phi") w.lm_head = c.add(w.lm_head, act_bytes(v_rank));  // lm_head bias
    }
  }
  if (opt.include_buffers && !opt.shares_rope_cache && w.num_layers > 0)
    w.buffers = c.add(w.buffers, act_bytes(rope_cache_elements(a)));
  // The parts' sum (parameter_bytes(), total()) stays exact and below the API's bound.
  c.at_most(c.add(c.add(c.add(w.embedding, w.lm_head), c.add(w.attention, w.dense_mlp)),
                  c.add(c.add(c.add(w.experts, w.shared_experts), c.add(w.router, w.norms)),
                        c.add(w.vision, w.buffers))),
            kMaxByteCount);
  if (c.overflow()) {
    return make_error(error_code::out_of_range,
                      "the model's weights would take more than 2^60 bytes (1 EiB); check the "
                      "architecture's sizes",
                      "architecture");
  }
  return w;
}

}  // namespace

result<param_counts> count_parameters(const model_arch& a) {
  // Element counts = bytes at 8 bits per element, unquantized, unsharded, without buffers. The
  // vocabulary is counted unpadded, as published counts do.
  weight_options opt;
  opt.act_bits = 8;
  opt.include_buffers = false;
  auto w = weights_per_rank(a, opt);
  if (!w) return w.err();
  param_counts p;
  const std::uint64_t pad_rows = padded_vocab(a.vocab_size) - a.vocab_size;
  const std::uint64_t emb_pad = pad_rows * a.hidden_size;
  p.embedding = w->embedding - emb_pad;
  p.lm_head = w->lm_head > 0 ? w->lm_head - emb_pad - (a.model_type == "phi" ? pad_rows : 0) : 0;
  p.vision = w->vision;
  p.total = w->parameter_bytes() - (w->embedding - p.embedding) - (w->lm_head - p.lm_head);
  p.active = p.total;
  if (a.is_moe() && a.num_experts > 0) {
    p.active = p.total - w->experts + w->experts / a.num_experts * a.num_experts_per_tok;
  }
  return p;
}

}  // namespace vllm_mem
