// model/architecture.cpp — parsing, overlaying and resolving model architectures.
#include "vllm_mem/model/architecture.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vllm_mem/api/json_writer.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

// Bounds that keep every byte count of the physics exact in 64-bit arithmetic (the weights code
// also uses checked multiplication) while leaving room far above any published model.
constexpr std::uint64_t kMaxLayers = 2048;
constexpr std::uint64_t kMaxHidden = 131072;
constexpr std::uint64_t kMaxHeads = 4096;
constexpr std::uint64_t kMaxHeadDim = 4096;
constexpr std::uint64_t kMaxIntermediate = 1048576;
constexpr std::uint64_t kMaxVocab = 16777216;
constexpr std::uint64_t kMaxExperts = 4096;
constexpr std::uint64_t kMaxPositions = 1ULL << 31;

struct u64_bound {
  const char* name;
  std::uint64_t min;
  std::uint64_t max;
};

constexpr u64_bound kU64Bounds[] = {
    {"num_layers", 1, kMaxLayers},
    {"hidden_size", 1, kMaxHidden},
    {"num_heads", 1, kMaxHeads},
    {"num_kv_heads", 1, kMaxHeads},
    {"head_dim", 1, kMaxHeadDim},
    {"intermediate_size", 1, kMaxIntermediate},
    {"vocab_size", 1, kMaxVocab},
    {"max_position_embeddings", 1, kMaxPositions},
    {"num_experts", 0, kMaxExperts},
    {"num_experts_per_tok", 0, kMaxExperts},
    {"moe_intermediate_size", 1, kMaxIntermediate},
    {"num_shared_experts", 0, 64},
    {"shared_expert_intermediate_size", 0, kMaxIntermediate},
    {"first_k_dense_replace", 0, kMaxLayers},
    {"moe_layer_freq", 1, kMaxLayers},
    {"q_lora_rank", 0, kMaxHidden},
    {"kv_lora_rank", 0, kMaxHidden},
    {"qk_rope_head_dim", 0, kMaxHeadDim},
    {"qk_nope_head_dim", 0, kMaxHeadDim},
    {"v_head_dim", 0, kMaxHeadDim},
    {"sliding_window", 0, kMaxPositions},
    {"sliding_window_pattern", 0, kMaxLayers},
    {"attention_chunk_size", 0, kMaxPositions},
    {"no_rope_layer_interval", 0, kMaxLayers},
};

const u64_bound& bound_of(std::string_view name) {
  for (const auto& b : kU64Bounds) {
    if (name == b.name) return b;
  }
  return kU64Bounds[0];
}

std::vector<std::string> make_keys() {
  std::vector<std::string> keys;
#define VLLM_MEM_KEY(n) keys.emplace_back(#n);
  VLLM_MEM_ARCH_U64_FIELDS(VLLM_MEM_KEY)
  VLLM_MEM_ARCH_BOOL_FIELDS(VLLM_MEM_KEY)
  VLLM_MEM_ARCH_F64_FIELDS(VLLM_MEM_KEY)
  VLLM_MEM_ARCH_STR_FIELDS(VLLM_MEM_KEY)
#undef VLLM_MEM_KEY
  keys.emplace_back("rope_scaling");
  keys.emplace_back("vision");
  keys.emplace_back("quantization");
  keys.emplace_back("extra");
  return keys;
}

// A field name for messages ("architecture." + "num_layers"), joined only when a message needs
// it, so decoding a valid object builds no strings.
struct field_ref {
  field_ref(const std::string& full) : prefix(full) {}  // NOLINT(google-explicit-constructor)
  field_ref(std::string_view p, std::string_view k) : prefix(p), key(k) {}
  std::string str() const {
    std::string s(prefix);
    s += key;
    return s;
  }
  std::string_view prefix;
  std::string_view key;
};

error type_error(field_ref field, const char* want) {
  const std::string f = field.str();
  return make_error(error_code::invalid_argument, "'" + f + "' must be " + want, f);
}

result<std::uint64_t> get_u64(const json& v, field_ref field, std::uint64_t min,
                              std::uint64_t max) {
  if (!v.is_number_integer()) {
    if (v.is_number_float()) {
      const std::string f = field.str();
      return make_error(error_code::invalid_argument,
                        "'" + f + "' must be a whole number, got " + v.dump(), f);
    }
    return type_error(field, "an integer");
  }
  if (v.is_number_unsigned() || v.get<std::int64_t>() >= 0) {
    const std::uint64_t x = v.is_number_unsigned()
                                ? v.get<std::uint64_t>()
                                : static_cast<std::uint64_t>(v.get<std::int64_t>());
    if (x < min || x > max) {
      const std::string f = field.str();
      return make_error(error_code::invalid_argument,
                        "'" + f + "' must be between " + std::to_string(min) + " and " +
                            std::to_string(max) + ", got " + std::to_string(x),
                        f);
    }
    return x;
  }
  const std::string f = field.str();
  return make_error(error_code::invalid_argument,
                    "'" + f + "' must be between " + std::to_string(min) + " and " +
                        std::to_string(max) + ", got " + v.dump(),
                    f);
}

result<double> get_f64(const json& v, field_ref field) {
  if (!v.is_number()) return type_error(field, "a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < 0) {
    const std::string f = field.str();
    return make_error(error_code::invalid_argument, "'" + f + "' must be a finite number >= 0", f);
  }
  return x;
}

error unknown_key(const std::string& key, const std::vector<std::string>& allowed,
                  const std::string& prefix) {
  std::string msg = "unknown field '" + prefix + key + "'";
  const std::string hint = closest_name(key, allowed);
  if (!hint.empty()) msg += "; did you mean '" + prefix + hint + "'?";
  return make_error(error_code::invalid_argument, msg, prefix + key);
}

status check_unknown_keys(const json& obj, const std::vector<std::string>& allowed,
                          const std::string& prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    return unknown_key(it.key(), allowed, prefix);
  }
  return ok_status();
}

// The keys of an `architecture` object, with where each value goes.
enum class arch_key_kind : std::uint8_t { u64, flag, f64, str, rope_scaling, vision, quant, extra };
struct arch_key {
  std::string_view name;
  arch_key_kind kind;
  std::optional<std::uint64_t> arch_spec::*u64 = nullptr;
  std::optional<bool> arch_spec::*flag = nullptr;
  std::optional<double> arch_spec::*f64 = nullptr;
  std::optional<std::string> arch_spec::*str = nullptr;
  std::uint64_t min = 0, max = 0;
};

const std::vector<arch_key>& arch_key_table() {
  static const std::vector<arch_key> table = [] {
    std::vector<arch_key> t;
#define VLLM_MEM_U64_KEY(n) \
  t.push_back(              \
      {#n, arch_key_kind::u64, &arch_spec::n, {}, {}, {}, bound_of(#n).min, bound_of(#n).max});
#define VLLM_MEM_BOOL_KEY(n) \
  t.push_back({#n, arch_key_kind::flag, {}, &arch_spec::n, {}, {}, 0, 0});
#define VLLM_MEM_F64_KEY(n) t.push_back({#n, arch_key_kind::f64, {}, {}, &arch_spec::n, {}, 0, 0});
#define VLLM_MEM_STR_KEY(n) t.push_back({#n, arch_key_kind::str, {}, {}, {}, &arch_spec::n, 0, 0});
    VLLM_MEM_ARCH_U64_FIELDS(VLLM_MEM_U64_KEY)
    VLLM_MEM_ARCH_BOOL_FIELDS(VLLM_MEM_BOOL_KEY)
    VLLM_MEM_ARCH_F64_FIELDS(VLLM_MEM_F64_KEY)
    VLLM_MEM_ARCH_STR_FIELDS(VLLM_MEM_STR_KEY)
#undef VLLM_MEM_U64_KEY
#undef VLLM_MEM_BOOL_KEY
#undef VLLM_MEM_F64_KEY
#undef VLLM_MEM_STR_KEY
    t.push_back({"rope_scaling", arch_key_kind::rope_scaling});
    t.push_back({"vision", arch_key_kind::vision});
    t.push_back({"quantization", arch_key_kind::quant});
    t.push_back({"extra", arch_key_kind::extra});
    return t;
  }();
  return table;
}

const arch_key* find_arch_key(std::string_view name) {
  static const name_index index = [] {
    std::vector<std::string_view> names;
    for (const auto& k : arch_key_table()) names.push_back(k.name);
    return name_index(std::move(names));
  }();
  const int i = index.find(name);
  return i < 0 ? nullptr : &arch_key_table()[static_cast<std::size_t>(i)];
}

result<rope_scaling_spec> parse_rope_scaling(const json& v, const std::string& field) {
  if (!v.is_object()) return type_error(field, "an object");
  rope_scaling_spec r;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    const std::string f = field + "." + k;
    if (k == "rope_type" || k == "type") {
      if (!it->is_string()) return type_error(f, "a string");
      r.rope_type = to_lower(it->get<std::string>());
    } else if (k == "factor") {
      auto x = get_f64(*it, f);
      if (!x) return x.err();
      if (*x < 1e-3 || *x > 1e6) {
        return make_error(error_code::invalid_argument, "'" + f + "' must be in [0.001, 1e6]", f);
      }
      r.factor = *x;
    } else if (k == "original_max_position_embeddings") {
      auto x = get_u64(*it, f, 1, kMaxPositions);
      if (!x) return x.err();
      r.original_max_position_embeddings = *x;
    }
    // Other keys (low_freq_factor, beta_fast, mrope_section, ...) do not change memory; accepted.
  }
  return r;
}

result<vision_spec> parse_vision(const json& v, const std::string& field) {
  if (!v.is_object()) return type_error(field, "an object");
  static const std::vector<std::string> keys = {
      "type",          "num_layers", "hidden_size", "intermediate_size",
      "num_heads",     "patch_size", "image_size",  "params",
      "params_source", "notes",      "extra"};
  if (auto s = check_unknown_keys(v, keys, field + "."); !s) return s.err();
  vision_spec out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    const std::string f = field + "." + k;
    if (k == "type") {
      if (!it->is_string()) return type_error(f, "a string");
      out.type = it->get<std::string>();
      continue;
    }
    if (k == "params_source" || k == "notes" || k == "extra") continue;
    auto x = get_u64(*it, f, 0, 1ULL << 40);
    if (!x) return x.err();
    if (k == "num_layers") out.num_layers = *x;
    if (k == "hidden_size") out.hidden_size = *x;
    if (k == "intermediate_size") out.intermediate_size = *x;
    if (k == "num_heads") out.num_heads = *x;
    if (k == "patch_size") out.patch_size = *x;
    if (k == "image_size") out.image_size = *x;
    if (k == "params") out.params = *x;
  }
  if (out.num_layers > 1024 || out.hidden_size > 65536 || out.intermediate_size > 1048576) {
    return make_error(error_code::invalid_argument, "'" + field + "' is out of range", field);
  }
  return out;
}

result<quant_spec> parse_quant_object(const json& v, const std::string& field) {
  if (v.is_string()) {
    auto q = parse_quantization(v.get<std::string>());
    if (!q) {
      return make_error(
          error_code::invalid_argument,
          "'" + field + "': unknown quantization method '" + v.get<std::string>() + "'", field);
    }
    return *q;
  }
  if (!v.is_object()) return type_error(field, "an object or a method name");
  static const std::vector<std::string> keys = {
      "method",       "bits",        "group_size",   "desc_act", "sym",   "weight_block_size",
      "double_quant", "unquantized", "experts_only", "read",     "notes", "quantize_lm_head"};
  if (auto s = check_unknown_keys(v, keys, field + "."); !s) return s.err();
  if (!v.contains("method") || !v["method"].is_string()) {
    return make_error(error_code::invalid_argument, "'" + field + ".method' is required",
                      field + ".method");
  }
  auto base = parse_quantization(v["method"].get<std::string>());
  if (!base) {
    return make_error(error_code::invalid_argument,
                      "'" + field + ".method': unknown quantization method '" +
                          v["method"].get<std::string>() + "'",
                      field + ".method");
  }
  quant_spec q = *base;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    const std::string f = field + "." + k;
    if (k == "bits") {
      auto x = get_u64(*it, f, 2, 16);
      if (!x) return x.err();
      q.bits = static_cast<std::uint32_t>(*x);
    } else if (k == "group_size") {
      if (it->is_number_integer() && it->get<std::int64_t>() == -1) {
        q.group_size = 0;  // GPTQ's -1: one group per input row
      } else {
        auto x = get_u64(*it, f, 0, 1 << 20);
        if (!x) return x.err();
        q.group_size = static_cast<std::uint32_t>(*x);
      }
    } else if (k == "desc_act" || k == "sym" || k == "double_quant" || k == "experts_only" ||
               k == "quantize_lm_head") {
      if (!it->is_boolean()) return type_error(f, "true or false");
      const bool b = it->get<bool>();
      if (k == "desc_act") q.desc_act = b;
      if (k == "sym") q.sym = b;
      if (k == "double_quant") q.double_quant = b;
      if (k == "experts_only") q.experts_only = b;
      if (k == "quantize_lm_head") q.quantize_lm_head = b;
    } else if (k == "weight_block_size") {
      if (!it->is_array() || it->size() != 2) return type_error(f, "an array of two integers");
      auto n = get_u64((*it)[0], f, 1, 1 << 16);
      auto kk = get_u64((*it)[1], f, 1, 1 << 16);
      if (!n) return n.err();
      if (!kk) return kk.err();
      q.block_n = static_cast<std::uint32_t>(*n);
      q.block_k = static_cast<std::uint32_t>(*kk);
      if (q.method == quant_method::fp8) q.method = quant_method::fp8_block;
    }
    // method (done), unquantized/read/notes: informational.
  }
  if (q.method == quant_method::mxfp4 && !v.contains("experts_only")) q.experts_only = true;
  return q;
}

}  // namespace

const std::vector<std::string>& arch_keys() {
  static const std::vector<std::string> keys = make_keys();
  return keys;
}

result<arch_spec> parse_arch_spec(const json& j, const std::string& field_prefix) {
  if (!j.is_object()) {
    const std::string obj_field =
        field_prefix.empty() ? "architecture" : field_prefix.substr(0, field_prefix.size() - 1);
    return type_error(obj_field, "an object");
  }
  // Every key is checked before any value, so an unknown key is reported first.
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!find_arch_key(it.key())) return unknown_key(it.key(), arch_keys(), field_prefix);
  }
  arch_spec a;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_null()) continue;  // null = not stated
    const std::string& k = it.key();
    const arch_key& key = *find_arch_key(k);
    const field_ref f(field_prefix, k);
    switch (key.kind) {
      case arch_key_kind::u64: {
        auto x = get_u64(*it, f, key.min, key.max);
        if (!x) return x.err();
        a.*key.u64 = *x;
        break;
      }
      case arch_key_kind::flag:
        if (!it->is_boolean()) return type_error(f, "true or false");
        a.*key.flag = it->get<bool>();
        break;
      case arch_key_kind::f64: {
        auto x = get_f64(*it, f);
        if (!x) return x.err();
        a.*key.f64 = *x;
        break;
      }
      case arch_key_kind::str:
        if (!it->is_string()) return type_error(f, "a string");
        a.*key.str = it->get<std::string>();
        break;
      case arch_key_kind::rope_scaling: {
        auto r = parse_rope_scaling(*it, f.str());
        if (!r) return r.err();
        a.rope_scaling = *r;
        break;
      }
      case arch_key_kind::vision: {
        auto v = parse_vision(*it, f.str());
        if (!v) return v.err();
        a.vision = *v;
        break;
      }
      case arch_key_kind::quant: {
        auto q = parse_quant_object(*it, f.str());
        if (!q) return q.err();
        a.quantization = *q;
        break;
      }
      case arch_key_kind::extra:
        if (!it->is_object()) return type_error(f, "an object");
        a.has_extra = true;
        break;
    }
  }
  return a;
}

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
  a.vision = s.vision;
  if (s.quantization) a.quantization = *s.quantization;
  return a;
}

void write_json(json_writer& w, const model_arch& a) {
  // Keys in byte order: the order nlohmann's std::map objects print (json_writer.hpp).
  w.begin_object();
  if (a.attention_bias) w.key("attention_bias").boolean(true);
  if (a.attention_chunk_size > 0) w.key("attention_chunk_size").u64(a.attention_chunk_size);
  if (a.is_moe() && a.first_k_dense_replace > 0) {
    w.key("first_k_dense_replace").u64(a.first_k_dense_replace);
  }
  w.key("head_dim").u64(a.head_dim);
  w.key("hidden_size").u64(a.hidden_size);
  w.key("intermediate_size").u64(a.intermediate_size);
  if (a.is_mla()) w.key("kv_lora_rank").u64(a.kv_lora_rank);
  if (a.logit_softcapping > 0) w.key("logit_softcapping").f64(a.logit_softcapping);
  if (a.max_position_embeddings > 0) {
    w.key("max_position_embeddings").u64(a.max_position_embeddings);
  }
  w.key("mlp").string(a.mlp == mlp_kind::gated ? "gated" : "plain");
  if (a.mlp_bias) w.key("mlp_bias").boolean(true);
  w.key("model_type").string(a.model_type);
  if (a.is_moe()) {
    w.key("moe_intermediate_size").u64(a.moe_intermediate_size);
    if (a.moe_layer_freq > 1) w.key("moe_layer_freq").u64(a.moe_layer_freq);
  }
  if (!a.multimodal_model_type.empty()) {
    w.key("multimodal_model_type").string(a.multimodal_model_type);
  }
  if (a.new_decoder_architecture) w.key("new_decoder_architecture").boolean(true);
  if (a.no_rope_layer_interval > 0) w.key("no_rope_layer_interval").u64(a.no_rope_layer_interval);
  w.key("norm").string(a.norm == norm_kind::rms ? "rms" : "layer");
  if (a.is_moe()) {
    w.key("num_experts").u64(a.num_experts);
    w.key("num_experts_per_tok").u64(a.num_experts_per_tok);
  }
  w.key("num_heads").u64(a.num_heads);
  w.key("num_kv_heads").u64(a.num_kv_heads);
  w.key("num_layers").u64(a.num_layers);
  if (a.is_moe() && a.num_shared_experts > 0) {
    w.key("num_shared_experts").u64(a.num_shared_experts);
  }
  if (a.parallel_attn) w.key("parallel_attn").boolean(true);
  if (a.partial_rotary_factor != 1.0) w.key("partial_rotary_factor").f64(a.partial_rotary_factor);
  if (a.is_mla()) {
    if (a.q_lora_rank > 0) w.key("q_lora_rank").u64(a.q_lora_rank);
    w.key("qk_nope_head_dim").u64(a.qk_nope_head_dim);
    w.key("qk_rope_head_dim").u64(a.qk_rope_head_dim);
  }
  if (a.qkv_bias) w.key("qkv_bias").boolean(true);
  if (!a.quantization.is_none()) {
    const auto& q = a.quantization;
    w.key("quantization").begin_object();
    w.key("bits").u64(q.bits);
    if (q.experts_only) w.key("experts_only").boolean(true);
    if (q.method == quant_method::awq || q.method == quant_method::gptq ||
        q.method == quant_method::w4a16) {
      w.key("group_size").u64(q.group_size);
    }
    w.key("method").string(quant_method_name(q.method));
    if (q.method == quant_method::fp8_block) {
      w.key("weight_block_size").begin_array().u64(q.block_n).u64(q.block_k).end_array();
    }
    w.end_object();
  }
  if (!a.rope_scaling.rope_type.empty()) {
    w.key("rope_scaling").begin_object();
    w.key("factor").f64(a.rope_scaling.factor);
    if (a.rope_scaling.original_max_position_embeddings > 0) {
      w.key("original_max_position_embeddings")
          .u64(a.rope_scaling.original_max_position_embeddings);
    }
    w.key("rope_type").string(a.rope_scaling.rope_type);
    w.end_object();
  }
  if (a.is_moe() && a.shared_expert_intermediate_size > 0) {
    w.key("shared_expert_intermediate_size").u64(a.shared_expert_intermediate_size);
  }
  if (a.sliding_window > 0) {
    w.key("sliding_window").u64(a.sliding_window);
    if (a.sliding_window_pattern > 0) w.key("sliding_window_pattern").u64(a.sliding_window_pattern);
  }
  w.key("tie_word_embeddings").boolean(a.tie_word_embeddings);
  if (a.torch_dtype_known) w.key("torch_dtype").string(dtype_name(a.torch_dtype));
  if (a.is_mla()) w.key("v_head_dim").u64(a.v_head_dim);
  if (a.vision) {
    const vision_spec& v = *a.vision;
    w.key("vision");
    if (v.type.empty() && !v.num_layers && !v.hidden_size && !v.intermediate_size && !v.num_heads &&
        !v.patch_size && !v.image_size && !v.params) {
      w.null();  // nlohmann prints an object nothing was put into as null
    } else {
      w.begin_object();
      if (v.hidden_size) w.key("hidden_size").u64(v.hidden_size);
      if (v.image_size) w.key("image_size").u64(v.image_size);
      if (v.intermediate_size) w.key("intermediate_size").u64(v.intermediate_size);
      if (v.num_heads) w.key("num_heads").u64(v.num_heads);
      if (v.num_layers) w.key("num_layers").u64(v.num_layers);
      if (v.params) w.key("params").u64(v.params);
      if (v.patch_size) w.key("patch_size").u64(v.patch_size);
      if (!v.type.empty()) w.key("type").string(v.type);
      w.end_object();
    }
  }
  w.key("vocab_size").u64(a.vocab_size);
  w.end_object();
}

json to_json(const model_arch& a) {
  std::string text;
  json_writer w(text);
  write_json(w, a);
  w.finish();
  return json::parse(text);
}

}  // namespace vllm_mem
