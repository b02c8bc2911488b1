// model/architecture.cpp — overlaying and resolving model architectures.
#include "vllm_mem/model/architecture.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

void arch_spec::overlay(const arch_spec& over) {
#define VLLM_MEM_OVERLAY(n) \
  if (over.n) n = over.n;
  VLLM_MEM_ARCH_U64_FIELDS(VLLM_MEM_OVERLAY)
  VLLM_MEM_ARCH_BOOL_FIELDS(VLLM_MEM_OVERLAY)
  VLLM_MEM_ARCH_F64_FIELDS(VLLM_MEM_OVERLAY)
  VLLM_MEM_ARCH_STR_FIELDS(VLLM_MEM_OVERLAY)
  VLLM_MEM_OVERLAY(rope_scaling)
  VLLM_MEM_OVERLAY(vision)
  VLLM_MEM_OVERLAY(quantization)
  VLLM_MEM_OVERLAY(linear_attention)
  VLLM_MEM_OVERLAY(compressed)
#undef VLLM_MEM_OVERLAY
  has_extra = has_extra || over.has_extra;
}

bool arch_spec::empty() const {
  bool any = false;
#define VLLM_MEM_ANY(n) any = any || n.has_value();
  VLLM_MEM_ARCH_U64_FIELDS(VLLM_MEM_ANY)
  VLLM_MEM_ARCH_BOOL_FIELDS(VLLM_MEM_ANY)
  VLLM_MEM_ARCH_F64_FIELDS(VLLM_MEM_ANY)
  VLLM_MEM_ARCH_STR_FIELDS(VLLM_MEM_ANY)
  VLLM_MEM_ANY(rope_scaling)
  VLLM_MEM_ANY(vision)
  VLLM_MEM_ANY(quantization)
  VLLM_MEM_ANY(linear_attention)
  VLLM_MEM_ANY(compressed)
#undef VLLM_MEM_ANY
  return !any;
}

// ---------------------------------------------------------------------------------------------
// model_arch

bool model_arch::is_moe_layer(std::uint64_t layer) const {
  if (num_experts == 0) return false;
  if (layer < first_k_dense_replace) return false;
  // DeepSeek: layer >= first_k_dense_replace and layer % moe_layer_freq == 0; Qwen2-MoE's
  // decoder_sparse_step and Llama-4's interleave step use (layer + 1) % step == 0. With the usual
  // step of 1 both are "every layer".
  if (moe_layer_freq <= 1) return true;
  if (model_type.rfind("deepseek", 0) == 0) return layer % moe_layer_freq == 0;
  return (layer + 1) % moe_layer_freq == 0;
}

bool model_arch::is_sliding_layer(std::uint64_t layer) const {
  if (sliding_window == 0) return false;
  if (sliding_window_pattern == 0) return true;
  return (layer + 1) % sliding_window_pattern != 0;
}

std::uint64_t model_arch::num_sliding_layers() const { return num_sliding_layers(0, num_layers); }

std::uint64_t model_arch::num_moe_layers(std::uint64_t first, std::uint64_t last) const {
  // is_moe_layer over [first, last): the dense prefix, then every layer or every step-th one.
  if (num_experts == 0) return 0;
  first = std::max(first, first_k_dense_replace);
  if (last <= first) return 0;
  if (moe_layer_freq <= 1) return last - first;
  if (model_type.rfind("deepseek", 0) == 0) return count_multiples(first, last, moe_layer_freq);
  return count_multiples(first + 1, last + 1, moe_layer_freq);
}

std::uint64_t model_arch::num_sliding_layers(std::uint64_t first, std::uint64_t last) const {
  // is_sliding_layer over [first, last): all, or all but every pattern-th layer.
  if (sliding_window == 0 || last <= first) return 0;
  if (sliding_window_pattern == 0) return last - first;
  return last - first - count_multiples(first + 1, last + 1, sliding_window_pattern);
}

std::uint64_t model_arch::num_indexer_layers(std::uint64_t first, std::uint64_t last) const {
  // Layer l has an indexer when max(l - offset + 1, 0) % freq == 0: every layer below
  // offset - 1, then every freq-th from offset - 1 on (DeepseekV2MLAAttention.__init__).
  if (!has_indexer() || last <= first) return 0;
  const std::uint64_t freq = std::max<std::uint64_t>(1, index_topk_freq);
  if (index_skip_topk_offset == 0) return count_multiples(first + 1, last + 1, freq);
  const std::uint64_t start = index_skip_topk_offset - 1;  // the first layer of the stride
  std::uint64_t n = 0;
  if (first < start) n += std::min(last, start) - first;
  const std::uint64_t lo = std::max(first, start);
  if (lo < last) n += count_multiples(lo - start, last - start, freq);
  return n;
}

std::uint64_t model_arch::full_kv_heads_per_rank(std::uint64_t tp) const {
  if (is_mla()) return 1;
  return std::max<std::uint64_t>(1, full_kv_heads() / std::max<std::uint64_t>(1, tp));
}

std::uint64_t model_arch::kv_heads_per_rank(std::uint64_t tp) const {
  // vllm-memory-model.md §6.1: 1 for MLA, else max(1, total_kv // tp) (KV heads replicated when
  // tp exceeds them).
  if (is_mla()) return 1;
  return std::max<std::uint64_t>(1, num_kv_heads / std::max<std::uint64_t>(1, tp));
}

std::uint64_t model_arch::kv_head_size() const {
  if (is_mla()) return kv_lora_rank + qk_rope_head_dim;
  return head_dim;
}

std::uint64_t model_arch::kv_entries_per_head() const { return is_mla() ? 1 : 2; }

std::uint64_t model_arch::rotary_dim() const {
  if (is_mla()) return qk_rope_head_dim;
  if (compressed.any()) return compressed.qk_rope_head_dim;
  const double r = static_cast<double>(head_dim) * partial_rotary_factor;
  return static_cast<std::uint64_t>(r);
}

std::uint64_t model_arch::derived_max_model_len() const {
  // vllm-memory-model.md §7: RoPE scaling is skipped for gemma3 and for su/longrope/llama3 types
  // (their max_position_embeddings is already the scaled length); yarn starts from the original
  // length; otherwise the length is multiplied by the factor.
  if (max_position_embeddings == 0) return 0;
  double derived = static_cast<double>(max_position_embeddings);
  const std::string& t = rope_scaling.rope_type;
  const bool gemma3 = model_type.rfind("gemma3", 0) == 0 || multimodal_model_type == "gemma3";
  if (!t.empty() && !gemma3 && t != "su" && t != "longrope" && t != "llama3" && t != "default" &&
      t != "mrope") {
    if (t == "yarn" && rope_scaling.original_max_position_embeddings > 0) {
      derived = static_cast<double>(rope_scaling.original_max_position_embeddings);
    }
    derived *= rope_scaling.factor;
  }
  if (derived > static_cast<double>(kMaxPositions)) derived = static_cast<double>(kMaxPositions);
  return static_cast<std::uint64_t>(derived);
}

namespace {

// Family defaults (transformers' config classes and vLLM's model files): which model types
// have each trait, looked up once per resolve through one index instead of scanning the lists.
enum family_trait : unsigned {
  kPlainMlp = 1,
  kLayerNorm = 2,
  kTiedEmbeddings = 4,
  kAttentionBias = 8,
  kQkvBias = 16,
  kMlpBias = 32,
  kParallelAttn = 64,
};
constexpr std::string_view kPlainMlpTypes[] = {"falcon", "mpt",         "gpt_neox",   "phi",
                                               "gpt2",   "gpt_bigcode", "starcoder2", "opt",
                                               "bloom",  "gptj",        "codegen"};
constexpr std::string_view kLayerNormTypes[] = {
    "falcon",     "mpt", "gpt_neox", "phi",  "stablelm", "gpt2", "gpt_bigcode",
    "starcoder2", "opt", "bloom",    "gptj", "codegen",  "olmo", "cohere"};
constexpr std::string_view kTiedTypes[] = {"gemma",  "gemma2",     "gemma3", "gemma3_text",
                                           "falcon", "mpt",        "gpt2",   "bloom",
                                           "opt",    "gpt_bigcode"};
constexpr std::string_view kAttentionBiasTypes[] = {"gpt_neox", "phi", "gpt_oss",
                                                    "gpt2",     "opt", "bloom"};
constexpr std::string_view kQkvBiasTypes[] = {"qwen2", "qwen2_moe", "qwen2_vl", "qwen2_5_vl"};
constexpr std::string_view kMlpBiasTypes[] = {"gpt_neox", "phi", "gpt2", "opt", "bloom", "gpt_oss"};
constexpr std::string_view kParallelAttnTypes[] = {"phi", "gpt_neox", "gptj", "cohere"};

unsigned family_traits(std::string_view model_type) {
  struct table {
    std::vector<std::string_view> types;
    std::vector<unsigned> traits;
    name_index index{{}};
  };
  static const table t = [] {
    table out;
    auto add = [&out](const auto& types, unsigned trait) {
      for (std::string_view type : types) {
        auto it = std::find(out.types.begin(), out.types.end(), type);
        if (it == out.types.end()) {
          out.types.push_back(type);
          out.traits.push_back(0);
          it = out.types.end() - 1;
        }
        out.traits[static_cast<std::size_t>(it - out.types.begin())] |= trait;
      }
    };
    add(kPlainMlpTypes, kPlainMlp);
    add(kLayerNormTypes, kLayerNorm);
    add(kTiedTypes, kTiedEmbeddings);
    add(kAttentionBiasTypes, kAttentionBias);
    add(kQkvBiasTypes, kQkvBias);
    add(kMlpBiasTypes, kMlpBias);
    add(kParallelAttnTypes, kParallelAttn);
    out.index = name_index(out.types);
    return out;
  }();
  const int i = t.index.find(model_type);
  return i < 0 ? 0u : t.traits[static_cast<std::size_t>(i)];
}

error invalid(const std::string& field, std::string message) {
  return make_error(error_code::invalid_argument, std::move(message), field);
}

// DeepSeek sparse attention's indexer (architecture.hpp), beside MLA only.
status resolve_indexer(const arch_spec& s, const std::string& p, model_arch& a) {
  a.index_head_dim = s.index_head_dim.value_or(0);
  if (a.index_head_dim > 0) {
    if (!a.is_mla()) {
      return invalid(p + "index_head_dim", "'" + p +
                                               "index_head_dim' (a sparse-attention indexer) is "
                                               "modelled beside MLA only; give '" +
                                               p + "kv_lora_rank' too");
    }
    if (a.sliding_window > 0 || a.attention_chunk_size > 0) {
      return invalid(p + "index_head_dim", "'" + p +
                                               "index_head_dim' with sliding or chunked attention "
                                               "is not modelled");
    }
    a.index_n_heads = s.index_n_heads.value_or(0);
    a.index_topk = s.index_topk.value_or(0);
    if (a.index_n_heads == 0 || a.index_topk == 0) {
      return invalid(p + "index_n_heads", "a sparse-attention indexer needs '" + p +
                                              "index_n_heads' and '" + p + "index_topk' with '" +
                                              p + "index_head_dim'");
    }
    a.index_topk_freq = s.index_topk_freq.value_or(1);
    a.index_skip_topk_offset = s.index_skip_topk_offset.value_or(2);
  } else {
    for (const auto* f :
         {&s.index_n_heads, &s.index_topk, &s.index_topk_freq, &s.index_skip_topk_offset}) {
      if (f->has_value()) {
        return invalid(p + "index_head_dim", "the indexer fields need '" + p +
                                                 "index_head_dim' (the indexer's key width)");
      }
    }
  }
  return ok_status();
}

// DeepSeek-V4 attention (model/layers.hpp compressed_attention): every field stated, one compress
// ratio per decoder layer (the MTP module's, after them, is not read: vLLM gives it ratio 1),
// each 0, 1, 4 or 128 (the ratios DeepseekV4's kernels take: sparse_swa.py _layer_type_for).
status resolve_compressed(const arch_spec& s, const std::string& p, model_arch& a) {
  if (!s.compressed) return ok_status();
  const compressed_attention_spec& c = *s.compressed;
  const std::string f = p + "compressed_attention";
  if (a.is_mla() || a.linear.any() || a.sliding_window > 0 || a.attention_chunk_size > 0 ||
      a.index_head_dim > 0) {
    return invalid(f, "'" + f +
                          "' (DeepSeek-V4 attention) replaces MLA, sliding, chunked, state and "
                          "indexer layers; give none of their fields beside it");
  }
  if (c.compress_ratios.size() < a.num_layers) {
    return invalid(f + ".compress_ratios", "'" + f +
                                               ".compress_ratios' needs one ratio per layer (" +
                                               std::to_string(a.num_layers) + "), got " +
                                               std::to_string(c.compress_ratios.size()));
  }
  compressed_attention out;
  for (std::uint64_t l = 0; l < a.num_layers; ++l) {
    const std::uint64_t r = c.compress_ratios[l];
    if (r != 0 && r != 1 && r != 4 && r != 128) {
      return invalid(f + ".compress_ratios",
                     "'" + f +
                         ".compress_ratios' entries must be 0, 1, 4 or 128 (vLLM's "
                         "DeepseekV4 kernels), got " +
                         std::to_string(r) + " at layer " + std::to_string(l));
    }
    out.ratio.push_back(static_cast<std::uint8_t>(r <= 1 ? 1 : r));
  }
  const std::pair<const char*, std::pair<const std::optional<std::uint64_t>*, std::uint64_t*>>
      fields[] = {{"window", {&c.window, &out.window}},
                  {"q_lora_rank", {&c.q_lora_rank, &out.q_lora_rank}},
                  {"qk_rope_head_dim", {&c.qk_rope_head_dim, &out.qk_rope_head_dim}},
                  {"o_lora_rank", {&c.o_lora_rank, &out.o_lora_rank}},
                  {"o_groups", {&c.o_groups, &out.o_groups}},
                  {"index_n_heads", {&c.index_n_heads, &out.index_n_heads}},
                  {"index_head_dim", {&c.index_head_dim, &out.index_head_dim}},
                  {"index_topk", {&c.index_topk, &out.index_topk}},
                  {"hc_mult", {&c.hc_mult, &out.hc_mult}},
                  {"num_hash_layers", {&c.num_hash_layers, &out.num_hash_layers}}};
  for (const auto& [name, slot] : fields) {
    if (!slot.first->has_value()) {
      return invalid(f + "." + name, "'" + f + "." + name + "' is required");
    }
    *slot.second = **slot.first;
  }
  // DeepseekV4Attention: n_heads % tp, o_groups % tp; head_dim = nope + rope; the fp8_ds_mla
  // record (448 NoPE fp8, 64 RoPE bf16, 7+1 scale bytes) is written for a 512-wide head.
  if (a.head_dim != 512 || out.qk_rope_head_dim != 64 || a.num_kv_heads != 1) {
    return invalid(p + "head_dim",
                   "DeepSeek-V4 attention is modelled for one KV head of 512 "
                   "(448 NoPE + 64 RoPE), vLLM's only fp8_ds_mla layout");
  }
  if (out.o_groups == 0 || a.num_heads % out.o_groups != 0 || out.index_head_dim % 128 != 0 ||
      out.index_head_dim == 0 || out.window == 0) {
    return invalid(f, "'" + f +
                          "': o_groups must divide num_heads, index_head_dim be a multiple of 128 "
                          "and the window positive");
  }
  if (out.num_hash_layers > a.num_layers) {
    return invalid(f + ".num_hash_layers", "'" + f + ".num_hash_layers' is more than the layers");
  }
  a.compressed = std::move(out);
  return ok_status();
}

// Gemma 4's per-kind KV shapes, shared KV layers and per-layer embeddings (architecture.hpp).
status resolve_layer_shapes(const arch_spec& s, const std::string& p, model_arch& a) {
  a.global_head_dim = s.global_head_dim.value_or(0);
  a.num_global_kv_heads = s.num_global_kv_heads.value_or(0);
  if ((a.global_head_dim > 0 || a.num_global_kv_heads > 0) && (a.is_mla() || a.linear.any())) {
    return invalid(p + "global_head_dim",
                   "'" + p + "global_head_dim' / '" + p +
                       "num_global_kv_heads' (the full-attention layers' "
                       "own KV shape) are modelled for plain attention only");
  }
  if (a.num_global_kv_heads > 0 && a.num_heads % a.num_global_kv_heads != 0) {
    return invalid(p + "num_global_kv_heads",
                   "'" + p + "num_heads' must be divisible by '" + p + "num_global_kv_heads'");
  }
  if (a.global_head_dim > 0 && a.sliding_window == 0) {
    return invalid(p + "global_head_dim", "'" + p +
                                              "global_head_dim' is the full layers' head size "
                                              "beside sliding ones: it needs '" +
                                              p + "sliding_window' (without one, give head_dim)");
  }
  a.num_kv_shared_layers = s.num_kv_shared_layers.value_or(0);
  // Qwen3NextMultiTokenPredictor: getattr(config, "num_nextn_predict_layers", 1).
  a.mtp_layers = s.num_nextn_predict_layers.value_or(a.model_type == "qwen3_next" ? 1 : 0);
  if (a.num_kv_shared_layers > 0 && (a.is_mla() || a.linear.any())) {
    return invalid(p + "num_kv_shared_layers", "'" + p +
                                                   "num_kv_shared_layers' is modelled for plain "
                                                   "attention only");
  }
  if (a.num_kv_shared_layers >= a.num_layers) {
    return invalid(p + "num_kv_shared_layers",
                   "'" + p + "num_kv_shared_layers' must be below '" + p + "num_layers'");
  }
  a.hidden_size_per_layer_input = s.hidden_size_per_layer_input.value_or(0);
  a.vocab_size_per_layer_input =
      a.hidden_size_per_layer_input > 0 ? s.vocab_size_per_layer_input.value_or(a.vocab_size) : 0;
  return ok_status();
}

}  // namespace

result<model_arch> resolve_arch(const arch_spec& s, const std::string& p) {
  model_arch a;
  a.model_type = s.model_type ? to_lower(*s.model_type) : std::string("llama");
  a.multimodal_model_type = s.multimodal_model_type ? to_lower(*s.multimodal_model_type) : "";
  const std::string& t = a.model_type;

  const char* required[] = {"num_layers", "hidden_size", "num_heads", "vocab_size"};
  const std::optional<std::uint64_t>* values[] = {&s.num_layers, &s.hidden_size, &s.num_heads,
                                                  &s.vocab_size};
  for (std::size_t i = 0; i < 4; ++i) {
    if (!values[i]->has_value()) {
      return invalid(p + required[i],
                     "'" + p + required[i] + "' is required to describe the model");
    }
  }
  a.num_layers = *s.num_layers;
  a.hidden_size = *s.hidden_size;
  a.num_heads = *s.num_heads;
  a.vocab_size = *s.vocab_size;
  a.num_kv_heads = s.num_kv_heads.value_or(a.num_heads);
  if (s.head_dim) {
    a.head_dim = *s.head_dim;
  } else {
    if (a.hidden_size % a.num_heads != 0) {
      return invalid(p + "head_dim", "'" + p + "hidden_size' (" + std::to_string(a.hidden_size) +
                                         ") is not divisible by '" + p + "num_heads' (" +
                                         std::to_string(a.num_heads) + "); give '" + p +
                                         "head_dim'");
    }
    a.head_dim = a.hidden_size / a.num_heads;
  }
  if (a.num_kv_heads > a.num_heads || a.num_heads % a.num_kv_heads != 0) {
    return invalid(p + "num_kv_heads", "'" + p + "num_heads' (" + std::to_string(a.num_heads) +
                                           ") must be a multiple of '" + p + "num_kv_heads' (" +
                                           std::to_string(a.num_kv_heads) + ")");
  }

  // Family defaults (transformers' config classes and vLLM's model files).
  const unsigned traits = family_traits(t);
  const bool plain_mlp = (traits & kPlainMlp) != 0;
  a.mlp = plain_mlp ? mlp_kind::plain : mlp_kind::gated;
  if (s.mlp) {
    if (*s.mlp == "gated") {
      a.mlp = mlp_kind::gated;
    } else if (*s.mlp == "plain") {
      a.mlp = mlp_kind::plain;
    } else {
      return invalid(p + "mlp", "'" + p + "mlp' must be \"gated\" or \"plain\"");
    }
  }
  const bool layer_norm = (traits & kLayerNorm) != 0;
  a.norm = layer_norm ? norm_kind::layer : norm_kind::rms;
  if (s.norm) {
    if (*s.norm == "rms") {
      a.norm = norm_kind::rms;
    } else if (*s.norm == "layer") {
      a.norm = norm_kind::layer;
    } else {
      return invalid(p + "norm", "'" + p + "norm' must be \"rms\" or \"layer\"");
    }
  }
  a.tie_word_embeddings = s.tie_word_embeddings.value_or((traits & kTiedEmbeddings) != 0);
  a.attention_bias = s.attention_bias.value_or((traits & kAttentionBias) != 0);
  a.qkv_bias = s.qkv_bias.value_or((traits & kQkvBias) != 0);
  a.mlp_bias = s.mlp_bias.value_or((traits & kMlpBias) != 0);
  a.parallel_attn =
      s.parallel_attn.value_or((traits & kParallelAttn) != 0 ||
                               (t == "falcon" && !s.new_decoder_architecture.value_or(false)));
  a.new_decoder_architecture = s.new_decoder_architecture.value_or(false);
  a.partial_rotary_factor = s.partial_rotary_factor.value_or(1.0);
  if (a.partial_rotary_factor <= 0.0 || a.partial_rotary_factor > 1.0) {
    return invalid(p + "partial_rotary_factor",
                   "'" + p + "partial_rotary_factor' must be in (0, 1]");
  }
  a.max_position_embeddings = s.max_position_embeddings.value_or(0);
  if (s.rope_scaling) a.rope_scaling = *s.rope_scaling;
  a.logit_softcapping = s.logit_softcapping.value_or(0.0);
  if (s.torch_dtype) {
    auto d = parse_dtype(*s.torch_dtype);
    if (!d || d->is_auto ||
        (d->value != dtype::float32 && d->value != dtype::float16 && d->value != dtype::bfloat16)) {
      return invalid(p + "torch_dtype",
                     "'" + p + "torch_dtype' must be float32, float16 or bfloat16, got '" +
                         *s.torch_dtype + "'");
    }
    a.torch_dtype = d->value;
    a.torch_dtype_known = true;
  }

  // Dense FFN: required unless every layer is MoE.
  a.num_experts = s.num_experts.value_or(0);
  if (a.num_experts == 1) a.num_experts = 0;  // a single "expert" is a dense MLP
  a.first_k_dense_replace = s.first_k_dense_replace.value_or(0);
  a.moe_layer_freq = s.moe_layer_freq.value_or(1);
  if (s.intermediate_size) a.intermediate_size = *s.intermediate_size;
  if (a.is_moe()) {
    a.num_experts_per_tok = s.num_experts_per_tok.value_or(0);
    if (a.num_experts_per_tok == 0 || a.num_experts_per_tok > a.num_experts) {
      return invalid(p + "num_experts_per_tok",
                     "'" + p + "num_experts_per_tok' must be between 1 and '" + p +
                         "num_experts' (" + std::to_string(a.num_experts) + ") for a MoE model");
    }
    a.moe_intermediate_size = s.moe_intermediate_size.value_or(a.intermediate_size);
    if (a.moe_intermediate_size == 0) {
      return invalid(p + "moe_intermediate_size",
                     "'" + p + "moe_intermediate_size' is required for a MoE model");
    }
    a.num_shared_experts = s.num_shared_experts.value_or(0);
    a.shared_expert_intermediate_size = s.shared_expert_intermediate_size.value_or(0);
    if (a.num_shared_experts > 0 && a.shared_expert_intermediate_size == 0) {
      // DeepSeek: the shared experts form one MLP of n_shared * moe_intermediate_size.
      a.shared_expert_intermediate_size = a.num_shared_experts * a.moe_intermediate_size;
    }
    if (a.first_k_dense_replace > a.num_layers) {
      return invalid(p + "first_k_dense_replace",
                     "'" + p + "first_k_dense_replace' exceeds '" + p + "num_layers'");
    }
  } else {
    a.moe_layer_freq = 1;
    a.first_k_dense_replace = 0;
  }
  const bool needs_dense = a.num_moe_layers(0, a.num_layers) < a.num_layers;
  if (needs_dense && a.intermediate_size == 0) {
    if (plain_mlp) {
      a.intermediate_size = 4 * a.hidden_size;  // GPT-style 4x FFN when the config has no key
    } else {
      return invalid(p + "intermediate_size", "'" + p + "intermediate_size' is required");
    }
  }

  // MLA
  a.kv_lora_rank = s.kv_lora_rank.value_or(0);
  if (a.is_mla()) {
    a.q_lora_rank = s.q_lora_rank.value_or(0);
    a.qk_rope_head_dim = s.qk_rope_head_dim.value_or(0);
    a.qk_nope_head_dim = s.qk_nope_head_dim.value_or(0);
    a.v_head_dim = s.v_head_dim.value_or(0);
    if (a.qk_rope_head_dim == 0 || a.qk_nope_head_dim == 0 || a.v_head_dim == 0) {
      return invalid(p + "qk_rope_head_dim", "MLA models need '" + p + "qk_rope_head_dim', '" + p +
                                                 "qk_nope_head_dim' and '" + p +
                                                 "v_head_dim' with '" + p + "kv_lora_rank'");
    }
  }

  // Windows
  a.sliding_window = s.sliding_window.value_or(0);
  a.sliding_window_pattern = a.sliding_window > 0 ? s.sliding_window_pattern.value_or(0) : 0;
  if (a.sliding_window_pattern == 1) {
    return invalid(p + "sliding_window_pattern",
                   "'" + p + "sliding_window_pattern' must be 0 (every layer slides) or >= 2");
  }
  a.attention_chunk_size = s.attention_chunk_size.value_or(0);
  a.no_rope_layer_interval = s.no_rope_layer_interval.value_or(0);

  if (auto st = resolve_indexer(s, p, a); !st) return st.err();

  // Hybrid state layers (model/layers.hpp). vLLM's Qwen3NextAttention gates its output unless
  // the config says otherwise (getattr(config, "attn_output_gate", True)).
  a.attn_output_gate =
      s.attn_output_gate.value_or(t.rfind("qwen3_next", 0) == 0 || t.rfind("qwen3_5", 0) == 0);
  if (s.linear_attention) {
    auto st = resolve_state_layers(*s.linear_attention, s.full_attention_interval, a.num_layers, p);
    if (!st) return st.err();
    a.linear = *st;
    if (a.is_mla() || a.sliding_window > 0 || a.attention_chunk_size > 0) {
      return invalid(p + "linear_attention",
                     "'" + p +
                         "linear_attention' with MLA, sliding or chunked attention layers is not "
                         "modelled; only full attention beside the state layers is");
    }
  } else if (s.full_attention_interval) {
    return invalid(p + "full_attention_interval", "'" + p + "full_attention_interval' needs '" + p +
                                                      "linear_attention' (the other layers)");
  }
  if (auto st = resolve_layer_shapes(s, p, a); !st) return st.err();
  if (auto st = resolve_compressed(s, p, a); !st) return st.err();
  a.vision = s.vision;
  if (s.quantization) a.quantization = *s.quantization;
  return a;
}

}  // namespace vllm_mem
