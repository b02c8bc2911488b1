// ingest/hf_config_rules.cpp — the config.json rules per model_type, as tables.
//
// `kTextClasses`: one row per transformers text-config class, with the keyword defaults of
// transformers/models/<type>/configuration_<type>.py and the family of rules that reads it.
// `kFamilies`: one row per family, naming the small functions below for each stage it reads its
// own way (KV heads, FFN, biases, experts) and its columns (block shape, softcapping, windows).
// The attribute choices for KV heads and head size are vLLM's (ModelConfig.get_total_num_kv_heads,
// get_head_size; vllm-memory-model.md §6.1); the family flags follow vLLM's model files.
#include <iterator>
#include <string>

#include "hf_config_rules.hpp"
#include "vllm_mem/model/architecture.hpp"

namespace vllm_mem::hf_rules {

// ---------------------------------------------------------------------------------------------
// Text-config classes

// clang-format off
constexpr text_class kTextClasses[] = {
  // model_type           class                  rules        dflt vocab   hidden intermed layers heads kv   hd   max_pos tie
  {"llama",               "LlamaConfig",         "llama",     true, 32000,  4096, 11008,   32,    32,   0,   0,   2048,   false},
  {"mistral",             "MistralConfig",       "mistral",   true, 32000,  4096, 14336,   32,    32,   8,   0,   131072, false},
  {"mixtral",             "MixtralConfig",       "mixtral",   true, 32000,  4096, 14336,   32,    32,   8,   0,   131072, false},
  {"granite",             "GraniteConfig",       "llama",     true, 32000,  4096, 11008,   32,    32,   0,   0,   2048,   false},
  {"granitemoe",          "GraniteMoeConfig",    "mixtral",   true, 32000,  4096, 11008,   32,    32,   0,   0,   2048,   false},
  {"mllama_text_model",   "MllamaTextConfig",    "llama",     true, 128256, 4096, 14336,   40,    32,   8,   0,   131072, false},
  {"qwen2",               "Qwen2Config",         "qwen2",     true, 151936, 4096, 22016,   32,    32,   32,  0,   32768,  false},
  {"qwen2_moe",           "Qwen2MoeConfig",      "qwen2_moe", true, 151936, 2048, 5632,    24,    16,   16,  0,   32768,  false},
  {"qwen2_vl",            "Qwen2VLConfig",       "qwen2",     true, 152064, 8192, 29568,   80,    64,   8,   0,   32768,  false},
  {"qwen2_vl_text",       "Qwen2VLTextConfig",   "qwen2",     true, 152064, 8192, 29568,   80,    64,   8,   0,   32768,  false},
  {"qwen2_5_vl",          "Qwen2_5_VLConfig",    "qwen2",     true, 152064, 8192, 29568,   80,    64,   8,   0,   32768,  false},
  {"qwen2_5_vl_text",     "Qwen2_5_VLTextConfig","qwen2",     true, 152064, 8192, 29568,   80,    64,   8,   0,   32768,  false},
  {"qwen3",               "Qwen3Config",         "qwen3",     true, 151936, 4096, 22016,   32,    32,   32,  128, 32768,  false},
  {"qwen3_moe",           "Qwen3MoeConfig",      "qwen3_moe", true, 151936, 2048, 6144,    24,    32,   4,   0,   32768,  false},
  {"qwen3_vl_text",       "Qwen3VLTextConfig",   "qwen3",     false, 0, 0, 0, 0, 0, 0, 128, 0, false},
  {"qwen3_vl_moe_text",   "Qwen3VLMoeTextConfig","qwen3_moe", false, 0, 0, 0, 0, 0, 0, 128, 0, false},
  {"gemma",               "GemmaConfig",         "gemma",     true, 256000, 3072, 24576,   28,    16,   16,  256, 8192,   true},
  {"gemma2",              "Gemma2Config",        "gemma2",    true, 256000, 2304, 9216,    26,    8,    4,   256, 8192,   true},
  {"gemma3_text",         "Gemma3TextConfig",    "gemma3",    true, 262208, 2304, 9216,    26,    8,    4,   256, 131072, true},
  {"phi",                 "PhiConfig",           "phi",       true, 51200,  2048, 8192,    24,    32,   0,   0,   2048,   false},
  {"phi3",                "Phi3Config",          "phi3",      true, 32064,  3072, 8192,    32,    32,   0,   0,   4096,   false},
  {"falcon",              "FalconConfig",        "falcon",    true, 65024,  4544, 0,       32,    71,   0,   0,   2048,   true},
  {"refinedweb",          "RWConfig",            "falcon",    true, 65024,  4544, 0,       32,    71,   0,   0,   2048,   true},
  {"refinedwebmodel",     "RWConfig",            "falcon",    true, 65024,  4544, 0,       32,    71,   0,   0,   2048,   true},
  {"mpt",                 "MptConfig",           "mpt",       true, 50368,  2048, 0,       24,    16,   0,   0,   2048,   true},
  {"gpt_neox",            "GPTNeoXConfig",       "gpt_neox",  true, 50432,  6144, 24576,   44,    64,   0,   0,   2048,   false},
  {"stablelm",            "StableLmConfig",      "stablelm",  true, 50304,  2560, 6912,    32,    32,   32,  0,   4096,   false},
  // DeepseekV2Config: the repositories' own class (vocab 102400; transformers' port says 32000).
  {"deepseek_v2",         "DeepseekV2Config",    "deepseek",  true, 102400, 4096, 11008,   30,    32,   32,  0,   2048,   false},
  {"deepseek_v3",         "DeepseekV3Config",    "deepseek",  true, 129280, 7168, 18432,   61,    128,  128, 0,   4096,   false},
  {"kimi_k2",             "DeepseekV3Config",    "deepseek",  true, 129280, 7168, 18432,   61,    128,  128, 0,   4096,   false},
  // DeepSeek sparse attention (MLA + indexer): no class defaults pinned down here, the keys are
  // required.
  {"deepseek_v32",        "DeepseekV32Config",   "deepseek",  false, 0, 0, 0, 0, 0, 0, 0, 0, false},
  {"glm_moe_dsa",         "GlmMoeDsaConfig",     "deepseek",  false, 0, 0, 0, 0, 0, 0, 0, 0, false},
  {"deepseek_v4",         "DeepseekV4Config",    "deepseek_v4", false, 0, 0, 0, 0, 0, 0, 0, 0, false},
  {"gpt_oss",             "GptOssConfig",        "gpt_oss",   true, 201088, 2880, 2880,    36,    64,   8,   64,  131072, false},
  {"llama4_text",         "Llama4TextConfig",    "llama4",    true, 202048, 5120, 8192,    48,    40,   8,   128, 131072, false},
};
// clang-format on

const text_class* find_text_class(const std::string& lower_type) {
  for (const auto& c : kTextClasses) {
    if (lower_type == c.model_type) return &c;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Reading helpers

std::optional<u64> reading::size(const char* canonical, const key_list& keys, u64 dflt,
                                 bool required) {
  if (const char* k = text.first(keys)) {
    const auto v = text.u64_of(k);
    if (v) b.set(canonical, *v, text.field(k));
    return v;
  }
  const std::string f = text.field(keys.front());
  if ((use_defaults || !required) && dflt > 0) {
    b.set(canonical, dflt, f);
    return dflt;
  }
  if (required) {
    std::string aliases;
    for (auto it = keys.begin() + 1; it != keys.end(); ++it) {
      aliases += (aliases.empty() ? "" : ", ") + std::string(*it);
    }
    err.invalid(f, "'" + f + "' is required to describe the model" +
                       (aliases.empty() ? "" : " (also read as " + aliases + ")") +
                       (cls ? ""
                            : "; model_type '" + text_type +
                                  "' has no known defaults, so every size must be given"));
  }
  return std::nullopt;
}

std::optional<bool> reading::flag(const char* canonical, const key_list& keys,
                                  std::optional<bool> dflt) {
  if (const char* k = text.first(keys)) {
    const auto v = text.bool_of(k);
    if (v) b.set(canonical, *v, text.field(k));
    return v;
  }
  if (dflt) b.set(canonical, *dflt, text.field(keys.front()));
  return dflt;
}

void reading::copy_u64(const char* canonical, const view& v, const char* key) {
  if (auto x = v.u64_of(key)) b.set(canonical, *x, v.field(key));
}

void reading::read(const u64_row& row) {
  if (const char* k = text.first(row.keys)) {
    copy_u64(row.canonical, text, k);
  } else if (row.dflt && !text.has_key(row.keys.front())) {
    b.set(row.canonical, *row.dflt, text.field(row.keys.front()));
  }
}

void reading::read(std::span<const flag_row> rows) {
  for (const auto& row : rows) flag(row.canonical, row.keys, row.dflt);
}

void reading::fixed(const char* canonical, json value) {
  b.set(canonical, std::move(value), text.field("model_type"));
}

namespace {

// ---------------------------------------------------------------------------------------------
// Key aliases shared by the families

// The required sizes: the first alias present, else the class default inside a text_config.
struct size_row {
  const char* canonical;
  key_list keys;
  u64 text_class::*dflt;
  std::optional<u64> reading::*into;  // kept for the later stages (nullptr: not kept)
};
constexpr size_row kCoreSizes[] = {
    {"num_layers",
     {"num_hidden_layers", "n_layer", "n_layers", "num_layers"},
     &text_class::layers,
     &reading::layers},
    {"hidden_size",
     {"hidden_size", "n_embd", "d_model", "model_dim"},
     &text_class::hidden,
     &reading::hidden},
    {"num_heads",
     {"num_attention_heads", "n_head", "n_heads", "num_heads"},
     &text_class::heads,
     nullptr},
    {"vocab_size", {"vocab_size", "padded_vocab_size", "n_vocab"}, &text_class::vocab, nullptr},
};

// vLLM get_total_num_kv_heads: the attributes it tries, in order.
constexpr key_list kKvHeadKeys = {"num_key_value_heads", "num_kv_heads", "n_head_kv",
                                  "multi_query_group_num"};

// ---------------------------------------------------------------------------------------------
// KV heads

void class_kv_heads(reading& r) {
  const bool dflt = r.cls && r.cls->kv_heads > 0;
  r.read(u64_row{"num_kv_heads", kKvHeadKeys,
                 dflt ? std::optional<u64>(r.cls->kv_heads) : std::nullopt});
}

// FalconConfig / vLLM's falcon.py: the new decoder architecture (Falcon 40B/180B) states its KV
// heads; without it multi_query (default True) means one KV head.
void falcon_kv_heads(reading& r) {
  const view& t = r.text;
  // RefinedWeb (Falcon-40B's first config) is the new decoder architecture.
  const bool new_arch = t.bool_of("new_decoder_architecture").value_or(r.text_type == "refinedweb");
  r.b.set("new_decoder_architecture", new_arch, t.field("new_decoder_architecture"));
  const bool multi_query = t.bool_of("multi_query").value_or(true);
  if (new_arch) {
    const char* k = t.first({"num_kv_heads", "n_head_kv"});
    if (k) {
      r.copy_u64("num_kv_heads", t, k);
    } else {
      r.err.invalid(t.field("num_kv_heads"),
                    "'" + t.field("num_kv_heads") +
                        "' is required with new_decoder_architecture (Falcon 40B/180B)");
    }
  } else if (multi_query) {
    // multi_query without the new architecture: one KV head, whatever num_kv_heads says.
    r.b.set("num_kv_heads", 1, t.field("multi_query"));
  } else if (const char* k = t.first({"num_kv_heads", "n_head_kv"})) {
    r.copy_u64("num_kv_heads", t, k);
  }
}

// MptConfig: attn_config.kv_n_heads.
void mpt_kv_heads(reading& r) {
  const view& t = r.text;
  const json* ac = t.get("attn_config");
  if (ac != nullptr && !ac->is_object()) {
    r.err.invalid(t.field("attn_config"), "'" + t.field("attn_config") + "' must be an object");
  } else if (ac != nullptr) {
    const view av(*ac, t.field("attn_config") + ".", r.err);
    r.copy_u64("num_kv_heads", av, "kv_n_heads");
  }
}

// ---------------------------------------------------------------------------------------------
// Feed-forward

u64 class_intermediate(const reading& r) { return r.cls ? r.cls->intermediate : 0; }

void class_ffn(reading& r) {
  r.size("intermediate_size", {"intermediate_size"}, class_intermediate(r), true);
}

// FalconConfig: ffn_hidden_size None -> 4 * hidden_size.
void falcon_ffn(reading& r) {
  const auto f = r.text.u64_of("ffn_hidden_size");
  r.b.set("intermediate_size", f.value_or(4 * r.hidden.value_or(0)),
          r.text.field("ffn_hidden_size"));
}

// MptConfig: expansion_ratio 4; the FFN is expansion_ratio * d_model.
void mpt_ffn(reading& r) {
  const auto x = r.text.u64_of("expansion_ratio");
  r.b.set("intermediate_size", x.value_or(4) * r.hidden.value_or(0),
          r.text.field("expansion_ratio"));
}

// Llama4TextConfig: intermediate_size 8192 is the expert size, intermediate_size_mlp 16384 the
// dense layers'.
void llama4_ffn(reading& r) {
  r.size("intermediate_size", {"intermediate_size_mlp"}, 16384, true);
  r.size("moe_intermediate_size", {"intermediate_size"}, class_intermediate(r), true);
}

// Not required for MoE configs, nor for the GPT-style types whose FFN resolve_arch makes
// 4 x hidden_size when the config has none (gpt2's n_inner None).
void generic_ffn(reading& r) {
  const std::string& t = r.text_type;
  const bool four_x =
      t == "gpt2" || t == "gpt_bigcode" || t == "gptj" || t == "codegen" || t == "bloom";
  r.size("intermediate_size", {"intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim"}, 0,
         !four_x && !r.text.first({"num_local_experts", "num_experts", "n_routed_experts"}));
}

// ---------------------------------------------------------------------------------------------
// Biases, parallel attention, partial rotary (vLLM's model files)

// q/k/v/o biases together (LlamaAttention bias=attention_bias); mlp_bias where the class has it.
constexpr flag_row kLlamaBiases[] = {
    {"attention_bias", {"attention_bias"}, false},
    {"mlp_bias", {"mlp_bias"}, false},
};
void llama_biases(reading& r) { r.read(kLlamaBiases); }

// Qwen2: q/k/v biases, o_proj none.
void qwen2_biases(reading& r) {
  r.fixed("qkv_bias", true);
  r.fixed("attention_bias", false);
}

// Qwen3: attention_bias switches the q/k/v biases; o_proj has none.
void qwen3_biases(reading& r) {
  r.flag("qkv_bias", {"attention_bias"}, false);
  r.b.set("attention_bias", false, r.text.field("attention_bias"));
}

void phi_biases(reading& r) {
  r.fixed("attention_bias", true);
  r.fixed("mlp_bias", true);
  r.fixed("parallel_attn", true);
  r.b.set("partial_rotary_factor", r.text.f64_of("partial_rotary_factor").value_or(0.5),
          r.text.field("partial_rotary_factor"));
}

void phi3_biases(reading& r) {
  r.fixed("attention_bias", false);
  if (auto p = r.text.f64_of("partial_rotary_factor"))
    r.b.set("partial_rotary_factor", *p, r.text.field("partial_rotary_factor"));
}

void falcon_biases(reading& r) {
  // FalconConfig bias False: all linears.
  const bool bias = r.text.bool_of("bias").value_or(false);
  r.b.set("attention_bias", bias, r.text.field("bias"));
  r.b.set("mlp_bias", bias, r.text.field("bias"));
  r.flag("parallel_attn", {"parallel_attn"}, true);
}

void mpt_biases(reading& r) {
  const bool no_bias = r.text.bool_of("no_bias").value_or(true);  // MptConfig no_bias True
  r.b.set("attention_bias", !no_bias, r.text.field("no_bias"));
  r.b.set("mlp_bias", !no_bias, r.text.field("no_bias"));
  r.fixed("tie_word_embeddings", true);  // MPT's LM head is wte
}

void gpt_neox_biases(reading& r) {
  r.flag("attention_bias", {"attention_bias"}, true);
  r.fixed("mlp_bias", true);
  r.flag("parallel_attn", {"use_parallel_residual"}, true);
  r.b.set("partial_rotary_factor", r.text.f64_of("rotary_pct").value_or(0.25),
          r.text.field("rotary_pct"));
}

void stablelm_biases(reading& r) {
  r.flag("qkv_bias", {"use_qkv_bias"}, false);
  r.flag("parallel_attn", {"use_parallel_residual"}, false);
  r.b.set("partial_rotary_factor", r.text.f64_of("partial_rotary_factor").value_or(0.25),
          r.text.field("partial_rotary_factor"));
}

void gpt_oss_biases(reading& r) {
  r.flag("attention_bias", {"attention_bias"}, true);
  r.fixed("mlp_bias", true);  // expert and router biases
}

constexpr flag_row kGenericFlags[] = {
    {"attention_bias", {"attention_bias", "bias"}, std::nullopt},
    {"mlp_bias", {"mlp_bias"}, std::nullopt},
    {"qkv_bias", {"qkv_bias", "use_qkv_bias"}, std::nullopt},
    {"parallel_attn", {"parallel_attn", "use_parallel_residual"}, std::nullopt},
};
void generic_biases(reading& r) {
  r.read(kGenericFlags);
  if (const char* k = r.text.first({"partial_rotary_factor", "rotary_pct"})) {
    if (auto p = r.text.f64_of(k)) r.b.set("partial_rotary_factor", *p, r.text.field(k));
  }
}

// ---------------------------------------------------------------------------------------------
// Mixture of experts (and MLA)

// The MoE keys of a class, with their defaults (keys {}: the class has no such key; no default:
// the value only when the config gives it). Read in the order of the columns.
struct moe_key {
  key_list keys;
  std::optional<u64> dflt;
};
struct moe_keys {
  const char* name;
  moe_key experts, top_k, width, shared, shared_width, first_dense, layer_freq;
};
constexpr const char* kMoeCanonical[] = {"num_experts",
                                         "num_experts_per_tok",
                                         "moe_intermediate_size",
                                         "num_shared_experts",
                                         "shared_expert_intermediate_size",
                                         "first_k_dense_replace",
                                         "moe_layer_freq"};

// MixtralConfig / GraniteMoeConfig: num_local_experts 8, num_experts_per_tok 2.
// Qwen2MoeConfig: num_experts 60, top-k 4, moe_intermediate_size 1408, one shared expert of
//   shared_expert_intermediate_size 5632, decoder_sparse_step 1.
// Qwen3MoeConfig: num_experts 128, top-k 8, moe_intermediate_size 768, no shared expert.
// DeepseekV3Config: 256 routed experts, top-8, moe_intermediate_size 2048, 1 shared expert,
//   first_k_dense_replace 3. DeepseekV2Config: n_routed_experts None (dense), moe 1407.
// GptOssConfig: num_local_experts 128, experts_per_token 4.
// Llama4TextConfig: 16 local experts, top-1.
// generic: the usual attribute names, no defaults.
// clang-format off
constexpr moe_keys kMoeKeys[] = {
  // name         num_experts                    num_experts_per_tok            moe_intermediate_size              num_shared_experts          shared_expert_intermediate_size             first_k_dense_replace           moe_layer_freq
  {"mixtral",     {{"num_local_experts"}, 8},    {{"num_experts_per_tok"}, 2},  {},                                {},                         {},                                         {},                             {}},
  {"qwen2_moe",   {{"num_experts"}, 60},         {{"num_experts_per_tok"}, 4},  {{"moe_intermediate_size"}, 1408}, {},                         {{"shared_expert_intermediate_size"}, 5632}, {},                             {{"decoder_sparse_step"}, {}}},
  {"qwen3_moe",   {{"num_experts"}, 128},        {{"num_experts_per_tok"}, 8},  {{"moe_intermediate_size"}, 768},  {},                         {},                                         {},                             {{"decoder_sparse_step"}, {}}},
  {"deepseek_v3", {{"n_routed_experts"}, 256},   {{"num_experts_per_tok"}, 8},  {{"moe_intermediate_size"}, 2048}, {{"n_shared_experts"}, 1},  {},                                         {{"first_k_dense_replace"}, 3}, {{"moe_layer_freq"}, {}}},
  {"deepseek_v2", {{"n_routed_experts"}, {}},    {{"num_experts_per_tok"}, {}}, {{"moe_intermediate_size"}, 1407}, {{"n_shared_experts"}, {}}, {},                                         {{"first_k_dense_replace"}, 0}, {{"moe_layer_freq"}, {}}},
  {"gpt_oss",     {{"num_local_experts"}, 128},  {{"num_experts_per_tok", "experts_per_token"}, 4}, {},                {},                         {},                                         {},                             {}},
  {"llama4",      {{"num_local_experts"}, 16},   {{"num_experts_per_tok"}, 1},  {},                                {},                         {},                                         {},                             {}},
  {"generic",     {{"num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"}, {}},
                  {{"num_experts_per_tok", "moe_top_k", "experts_per_token"}, {}},
                  {{"moe_intermediate_size", "expert_intermediate_size"}, {}},
                  {{"n_shared_experts", "num_shared_experts"}, {}},
                  {{"shared_expert_intermediate_size"}, {}},
                  {{"first_k_dense_replace"}, {}},
                  {{"moe_layer_freq", "decoder_sparse_step", "interleave_moe_layer_step"}, {}}},
};
// clang-format on

// The MoE keys of row `name`; without `with_defaults`, no default applies (a class whose
// defaults are not pinned down here).
void read_moe_keys(reading& r, std::string_view name, bool with_defaults = true) {
  for (const auto& row : kMoeKeys) {
    if (name != row.name) continue;
    const moe_key* cols[] = {&row.experts,      &row.top_k,       &row.width,     &row.shared,
                             &row.shared_width, &row.first_dense, &row.layer_freq};
    for (std::size_t i = 0; i < std::size(cols); ++i) {
      const moe_key& c = *cols[i];
      if (c.keys.empty()) continue;
      r.read(u64_row{kMoeCanonical[i], c.keys, with_defaults ? c.dflt : std::nullopt});
    }
    return;
  }
}

// MLA (DeepseekV2Config / DeepseekV3Config): kv_lora_rank 512, q_lora_rank 1536 (null: no q
// compression), qk_rope_head_dim 64, qk_nope_head_dim 128, v_head_dim 128.
constexpr const char* kMlaKeys[] = {"kv_lora_rank", "q_lora_rank", "qk_rope_head_dim",
                                    "qk_nope_head_dim", "v_head_dim"};
constexpr u64 kDeepseekMla[] = {512, 1536, 64, 128, 128};
// nullptr: no defaults.
void read_mla_keys(reading& r, const u64* defaults) {
  for (std::size_t i = 0; i < std::size(kMlaKeys); ++i) {
    const char* k = kMlaKeys[i];
    r.read(u64_row{k, {k}, defaults ? std::optional<u64>(defaults[i]) : std::nullopt});
  }
}

// Experts as wide as the FFN (the config keeps the per-expert width in intermediate_size).
void experts_as_wide_as_ffn(reading& r) {
  if (r.b.has("intermediate_size")) {
    r.b.set("moe_intermediate_size", r.b.out["intermediate_size"],
            r.text.field("intermediate_size"));
  }
}

// Dense layers listed in mlp_only_layers (Qwen MoE): expressible when they are the first k.
void mlp_only_layers(reading& r) {
  const json* v = r.text.get("mlp_only_layers");
  if (v == nullptr) return;
  const std::string f = r.text.field("mlp_only_layers");
  if (!v->is_array()) {
    r.err.invalid(f, "'" + f + "' must be an array of layer indices");
    return;
  }
  u64 k = 0;
  for (const auto& x : *v) {
    if (as_index(x) != k) {
      r.err.unsupported(f, "'" + f +
                               "' lists dense layers other than the first k; the calculator "
                               "models dense layers only as a leading block");
      return;
    }
    ++k;
  }
  if (k > 0) r.b.set("first_k_dense_replace", k, f);
}

// Mixtral, GraniteMoe, gpt-oss: experts are intermediate_size wide.
void mixtral_experts(reading& r) {
  read_moe_keys(r, "mixtral");
  experts_as_wide_as_ffn(r);
}
void gpt_oss_experts(reading& r) {
  read_moe_keys(r, "gpt_oss");
  experts_as_wide_as_ffn(r);
}

// Qwen2-MoE: one shared expert when shared_expert_intermediate_size > 0.
void qwen2_moe_experts(reading& r) {
  read_moe_keys(r, "qwen2_moe");
  if (r.b.has("shared_expert_intermediate_size") &&
      r.b.out["shared_expert_intermediate_size"].get<u64>() > 0) {
    r.b.set("num_shared_experts", 1, r.text.field("shared_expert_intermediate_size"));
  }
  mlp_only_layers(r);
}

// Qwen3-MoE (Qwen3-VL's MoE text config: no defaults pinned down here, the keys are required).
void qwen3_moe_experts(reading& r) {
  read_moe_keys(r, "qwen3_moe", r.cls != nullptr && r.cls->has_defaults);
  mlp_only_layers(r);
}

// DeepSeek sparse attention's indexer (DeepseekV2MLAAttention reads these from the config;
// absent freq and offset are vLLM's defaults, 1 and 2, filled by resolve_arch).
void indexer_keys(reading& r) {
  if (!r.text.has("index_head_dim") && !r.text.has("index_topk")) return;
  for (const char* k : {"index_head_dim", "index_n_heads", "index_topk", "index_topk_freq",
                        "index_skip_topk_offset"})
    r.read(u64_row{k, {k}, std::nullopt});
  if (r.text.has("index_topk_pattern")) {
    r.err.unsupported(r.text.field("index_topk_pattern"),
                      "'" + r.text.field("index_topk_pattern") +
                          "' (an explicit list of the layers that keep an indexer) is not "
                          "modelled; index_topk_freq and index_skip_topk_offset are");
  }
}

// DeepSeek-V4 (deepseek_v4.py): routed experts as DeepSeek-V3's keys name them, every layer MoE,
// and its attention as one `compressed_attention` object (compress_ratios, sliding_window, the
// low-rank and grouped projections, the indexer, hyper-connections, hash-routed layers).
void deepseek_v4_experts(reading& r) {
  read_moe_keys(r, "deepseek_v3", false);
  json ca = json::object();
  const json* ratios = r.text.get("compress_ratios");
  if (ratios == nullptr || !ratios->is_array()) {
    r.err.unsupported(r.text.field("compress_ratios"),
                      "'" + r.text.field("compress_ratios") +
                          "' (one compress ratio per layer) is required for deepseek_v4");
    return;
  }
  ca["compress_ratios"] = *ratios;
  const std::pair<const char*, const char*> keys[] = {{"window", "sliding_window"},
                                                      {"q_lora_rank", "q_lora_rank"},
                                                      {"qk_rope_head_dim", "qk_rope_head_dim"},
                                                      {"o_lora_rank", "o_lora_rank"},
                                                      {"o_groups", "o_groups"},
                                                      {"index_n_heads", "index_n_heads"},
                                                      {"index_head_dim", "index_head_dim"},
                                                      {"index_topk", "index_topk"},
                                                      {"hc_mult", "hc_mult"},
                                                      {"num_hash_layers", "num_hash_layers"}};
  for (const auto& [canonical, hf] : keys) {
    if (const json* v = r.text.get(hf); v != nullptr && !v->is_null()) ca[canonical] = *v;
  }
  r.b.set("compressed_attention", std::move(ca), r.text.field("compress_ratios"));
}

void deepseek_experts(reading& r) {
  const bool defaults = r.cls == nullptr || r.cls->has_defaults;
  read_moe_keys(r, r.text_type != "deepseek_v2" ? "deepseek_v3" : "deepseek_v2", defaults);
  read_mla_keys(r, defaults ? kDeepseekMla : nullptr);
  indexer_keys(r);
}

// Gemma 4 (gemma4_text): the full layers' own head size, their KV heads when keys double as values
// (attention_k_eq_v: num_global_key_value_heads, vLLM Gemma4DecoderLayer), the KV-shared last
// layers and the per-layer input embeddings.
void layer_shape_keys(reading& r) {
  for (const char* k : {"global_head_dim", "num_kv_shared_layers", "hidden_size_per_layer_input",
                        "vocab_size_per_layer_input"}) {
    if (r.text.has(k)) r.read(u64_row{k, {k}, std::nullopt});
  }
  const json* k_eq_v = r.text.get("attention_k_eq_v");
  if (k_eq_v != nullptr && k_eq_v->is_boolean() && k_eq_v->get<bool>() &&
      r.text.has("num_global_key_value_heads")) {
    r.read(u64_row{"num_global_kv_heads", {"num_global_key_value_heads"}, std::nullopt});
  }
  if (const json* wide = r.text.get("use_double_wide_mlp");
      wide != nullptr && wide->is_boolean() && wide->get<bool>()) {
    r.err.unsupported(r.text.field("use_double_wide_mlp"),
                      "'" + r.text.field("use_double_wide_mlp") +
                          "' (a wider MLP in the KV-shared layers) is not modelled; the "
                          "calculator has one FFN width per model");
  }
}

void generic_experts(reading& r) {
  read_moe_keys(r, "generic");
  read_mla_keys(r, nullptr);
  indexer_keys(r);
  layer_shape_keys(r);
}

// Llama4TextConfig: moe_layers defaults to range(step - 1, num_hidden_layers, step) for
// interleave_moe_layer_step (1); an explicit list must have that form.
void llama4_moe_layers(reading& r) {
  u64 step = r.text.u64_of("interleave_moe_layer_step").value_or(1);
  if (const json* ml = r.text.get("moe_layers"); ml != nullptr && r.layers) {
    const std::string f = r.text.field("moe_layers");
    bool regular = ml->is_array() && !ml->empty() && as_index((*ml)[0]).has_value();
    if (regular) {
      step = *as_index((*ml)[0]) + 1;
      u64 expect = step - 1;
      for (const auto& x : *ml) {
        regular = regular && as_index(x) == expect;
        expect += step;
      }
      regular = regular && expect - step < *r.layers && expect >= *r.layers;
    }
    if (!regular) {
      r.err.unsupported(f, "'" + f +
                               "' is not every n-th layer; irregular MoE layer sets are not "
                               "modelled");
    }
  }
  if (step > 1) r.b.set("moe_layer_freq", step, r.text.field("interleave_moe_layer_step"));
}

// Llama4TextConfig: chunked local attention (attention_chunk_size 8192) on all but every
// no_rope_layer_interval-th (4) layer; no_rope_layers[i] == 0 marks the global (NoPE) layers.
void llama4_chunked_attention(reading& r) {
  const view& t = r.text;
  r.read(u64_row{"attention_chunk_size", {"attention_chunk_size"}, 8192});
  u64 interval = t.u64_of("no_rope_layer_interval").value_or(4);
  if (const json* nr = t.get("no_rope_layers"); nr != nullptr && nr->is_array() && !nr->empty()) {
    u64 first_global = 0;
    while (first_global < nr->size() && (*nr)[first_global] != 0) ++first_global;
    interval = first_global + 1;
    for (u64 i = 0; i < nr->size(); ++i) {
      const bool global = (*nr)[i] == 0;
      if (global != ((i + 1) % interval == 0)) {
        r.err.unsupported(t.field("no_rope_layers"),
                          "'" + t.field("no_rope_layers") +
                              "' is not every n-th layer; irregular global layers are not "
                              "modelled");
        break;
      }
    }
  }
  r.b.set("no_rope_layer_interval", interval, t.field("no_rope_layer_interval"));
}

// Llama 4: one shared expert of the expert size besides the routed ones.
void llama4_experts(reading& r) {
  read_moe_keys(r, "llama4");
  r.fixed("num_shared_experts", 1);
  llama4_moe_layers(r);
  llama4_chunked_attention(r);
}

// ---------------------------------------------------------------------------------------------
// Families

using block_shape::layer_gated;
using block_shape::layer_plain;
using block_shape::rms_gated;
using block_shape::unstated;
using window_layout::even_layers;
using window_layout::every_layer;
using window_layout::every_nth;
using window_layout::qwen_max_window_layers;

// Windows (class defaults): MistralConfig sliding_window 4096, Gemma2Config 4096 on every other
// layer, Gemma3TextConfig 4096 with sliding_window_pattern 6, GptOssConfig 128 on every other
// layer; Qwen's window is off unless use_sliding_window. Softcapping: Gemma2Config 30.0,
// Gemma3TextConfig None.
// clang-format off
constexpr family_rules kFamilies[] = {
  // name       canonical  mla    kv_heads         ffn         shape        biases           experts            softcap dflt window windows
  {"llama",     nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   llama_biases,    nullptr,           false, 0,   0,    every_layer},
  {"mistral",   nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   llama_biases,    nullptr,           false, 0,   4096, every_layer},
  {"mixtral",   nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   llama_biases,    mixtral_experts,   false, 0,   0,    every_layer},
  {"qwen2",     nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   qwen2_biases,    nullptr,           false, 0,   0,    qwen_max_window_layers},
  {"qwen2_moe", nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   qwen2_biases,    qwen2_moe_experts, false, 0,   0,    qwen_max_window_layers},
  {"qwen3",     nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   qwen3_biases,    nullptr,           false, 0,   0,    qwen_max_window_layers},
  {"qwen3_moe", nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   qwen3_biases,    qwen3_moe_experts, false, 0,   0,    qwen_max_window_layers},
  {"gemma",     nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   llama_biases,    nullptr,           false, 0,   0,    every_layer},
  {"gemma2",    nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   llama_biases,    nullptr,           true,  30., 4096, even_layers},
  {"gemma3",    nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   llama_biases,    nullptr,           true,  0,   4096, every_nth},
  {"phi",       nullptr,   false, class_kv_heads,  class_ffn,  layer_plain, phi_biases,      nullptr,           false, 0,   0,    every_layer},
  {"phi3",      nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   phi3_biases,     nullptr,           false, 0,   0,    every_layer},
  // RefinedWeb / RefinedWebModel configs are Falcon's.
  {"falcon",    "falcon",  false, falcon_kv_heads, falcon_ffn, layer_plain, falcon_biases,   nullptr,           false, 0,   0,    every_layer},
  {"mpt",       nullptr,   false, mpt_kv_heads,    mpt_ffn,    layer_plain, mpt_biases,      nullptr,           false, 0,   0,    every_layer},
  {"gpt_neox",  nullptr,   false, class_kv_heads,  class_ffn,  layer_plain, gpt_neox_biases, nullptr,           false, 0,   0,    every_layer},
  {"stablelm",  nullptr,   false, class_kv_heads,  class_ffn,  layer_gated, stablelm_biases, nullptr,           false, 0,   0,    every_layer},
  {"deepseek",  nullptr,   true,  class_kv_heads,  class_ffn,  rms_gated,   llama_biases,    deepseek_experts,  false, 0,   0,    every_layer},
  {"deepseek_v4", nullptr, false, class_kv_heads,  generic_ffn, rms_gated,   llama_biases,    deepseek_v4_experts, false, 0, 0,    every_layer},
  {"gpt_oss",   nullptr,   false, class_kv_heads,  class_ffn,  rms_gated,   gpt_oss_biases,  gpt_oss_experts,   false, 0,   128,  even_layers},
  {"llama4",    nullptr,   false, class_kv_heads,  llama4_ffn, rms_gated,   llama_biases,    llama4_experts,    false, 0,   0,    every_layer},
  // Any model_type without a class: the usual attribute names, no defaults, nothing assumed.
  {"generic",   nullptr,   false, class_kv_heads,  generic_ffn, unstated,   generic_biases,  generic_experts,   false, 0,   0,    every_layer},
};
// clang-format on

}  // namespace

const family_rules& find_family(std::string_view name) {
  for (const auto& f : kFamilies) {
    if (name == f.name) return f;
  }
  return kFamilies[std::size(kFamilies) - 1];
}

// ---------------------------------------------------------------------------------------------
// Stages every family shares

void read_core_sizes(reading& r) {
  for (const auto& row : kCoreSizes) {
    auto v = r.size(row.canonical, row.keys, r.cls ? r.cls->*row.dflt : 0, true);
    // A layer count past the bound is left to the schema's range error (arch_json), and not kept
    // for the stages that hold a value per layer.
    if (row.into == &reading::layers && v && *v > kMaxLayers) v.reset();
    if (row.into != nullptr) r.*row.into = v;
  }
}

// head_dim: the config's when set and > 0 (vLLM get_head_size), else the class default.
void read_head_dim(reading& r) {
  if (const auto hd = r.text.u64_of("head_dim"); hd && *hd > 0 && !r.family.mla) {
    r.b.set("head_dim", *hd, r.text.field("head_dim"));
  } else if (r.cls && r.cls->head_dim > 0 && !r.family.mla && !r.text.has_key("head_dim")) {
    r.b.set("head_dim", r.cls->head_dim, r.text.field("head_dim"));
  }
}

void read_shape(reading& r) {
  const block_shape s = r.family.shape;
  if (s == unstated) return;
  r.fixed("norm", s == rms_gated ? "rms" : "layer");
  r.fixed("mlp", s == layer_plain ? "plain" : "gated");
}

// PretrainedConfig's tie_word_embeddings default is True unless the class overrides it; a family
// may fix it (MPT).
void read_mtp_layers(reading& r) {
  if (r.text.has("num_nextn_predict_layers") || r.text.has("mtp_num_hidden_layers")) {
    r.read(u64_row{"num_nextn_predict_layers",
                   {"num_nextn_predict_layers", "mtp_num_hidden_layers"},
                   std::nullopt});
  }
}

void read_tie(reading& r) {
  if (r.b.has("tie_word_embeddings")) return;
  r.flag("tie_word_embeddings", {"tie_word_embeddings"}, r.cls ? r.cls->tie : true);
}

}  // namespace vllm_mem::hf_rules
