// ingest/arch_json.cpp — the canonical architecture keys (data/schema.md) as JSON: the strict
// decoder shared by the database, config.json conversion and request `architecture` objects, and
// the writer of a resolved architecture.
#include "vllm_mem/ingest/arch_json.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/json_writer.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

// Bounds that keep every byte count of the physics exact in 64-bit arithmetic (the weights code
// also uses checked multiplication) while leaving room far above any published model.
constexpr std::uint64_t kMaxHidden = 131072;
constexpr std::uint64_t kMaxHeads = 4096;
constexpr std::uint64_t kMaxHeadDim = 4096;
constexpr std::uint64_t kMaxIntermediate = 1048576;
constexpr std::uint64_t kMaxVocab = 16777216;
constexpr std::uint64_t kMaxExperts = 4096;

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
    {"full_attention_interval", 1, kMaxLayers},
    {"index_head_dim", 1, kMaxHeadDim},
    {"index_n_heads", 1, kMaxHeads},
    {"index_topk", 1, kMaxPositions},
    {"index_topk_freq", 1, kMaxLayers},
    {"index_skip_topk_offset", 0, kMaxLayers},
    {"global_head_dim", 1, kMaxHeadDim},
    {"num_global_kv_heads", 1, kMaxHeads},
    {"num_kv_shared_layers", 0, kMaxLayers},
    {"hidden_size_per_layer_input", 0, kMaxHidden},
    {"vocab_size_per_layer_input", 1, kMaxVocab},
    {"num_nextn_predict_layers", 0, 64},
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
  keys.emplace_back("linear_attention");
  keys.emplace_back("compressed_attention");
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
enum class arch_key_kind : std::uint8_t {
  u64,
  flag,
  f64,
  str,
  rope_scaling,
  vision,
  quant,
  linear_attention,
  compressed_attention,
  extra
};
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
    t.push_back({"linear_attention", arch_key_kind::linear_attention});
    t.push_back({"compressed_attention", arch_key_kind::compressed_attention});
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
  static const std::vector<std::string> keys = {"type",
                                                "num_layers",
                                                "hidden_size",
                                                "intermediate_size",
                                                "num_heads",
                                                "patch_size",
                                                "image_size",
                                                "params",
                                                "params_source",
                                                "notes",
                                                "max_tokens_per_item",
                                                "spatial_merge_size",
                                                "temporal_patch_size",
                                                "extra"};
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
    if (k == "params_source" || k == "notes") continue;
    if (k == "extra") {
      // The database states a Qwen-VL tower's temporal patch among its extra keys.
      const auto t = it->is_object() ? it->find("temporal_patch_size") : it->end();
      if (it->is_object() && t != it->end()) {
        auto x = get_u64(*t, f + ".temporal_patch_size", 0, 64);
        if (!x) return x.err();
        if (out.temporal_patch_size == 0) out.temporal_patch_size = *x;
      }
      continue;
    }
    auto x = get_u64(*it, f, 0, 1ULL << 40);
    if (!x) return x.err();
    if (k == "num_layers") out.num_layers = *x;
    if (k == "hidden_size") out.hidden_size = *x;
    if (k == "intermediate_size") out.intermediate_size = *x;
    if (k == "num_heads") out.num_heads = *x;
    if (k == "patch_size") out.patch_size = *x;
    if (k == "image_size") out.image_size = *x;
    if (k == "params") out.params = *x;
    if (k == "max_tokens_per_item") out.max_tokens_per_item = *x;
    if (k == "spatial_merge_size") out.spatial_merge_size = *x;
    if (k == "temporal_patch_size") out.temporal_patch_size = *x;
  }
  if (out.num_layers > 1024 || out.hidden_size > 65536 || out.intermediate_size > 1048576 ||
      out.max_tokens_per_item > (1ULL << 24) || out.spatial_merge_size > 64 ||
      out.temporal_patch_size > 64) {
    return make_error(error_code::invalid_argument, "'" + field + "' is out of range", field);
  }
  return out;
}

// data/schema.md `linear_attention`: the state layers of a hybrid model.
result<linear_attention_spec> parse_linear_attention(const json& v, const std::string& field) {
  if (!v.is_object()) return type_error(field, "an object");
  static const std::vector<std::string> keys = {
      "kind",           "num_key_heads",     "num_value_heads", "key_head_dim",
      "value_head_dim", "num_heads",         "head_dim",        "state_size",
      "n_groups",       "intermediate_size", "conv_kernel",     "ssm_dtype",
      "notes"};
  if (auto s = check_unknown_keys(v, keys, field + "."); !s) return s.err();
  linear_attention_spec out;
  const std::pair<const char*, std::optional<std::uint64_t> linear_attention_spec::*> ints[] = {
      {"num_key_heads", &linear_attention_spec::num_key_heads},
      {"num_value_heads", &linear_attention_spec::num_value_heads},
      {"key_head_dim", &linear_attention_spec::key_head_dim},
      {"value_head_dim", &linear_attention_spec::value_head_dim},
      {"num_heads", &linear_attention_spec::num_heads},
      {"head_dim", &linear_attention_spec::head_dim},
      {"state_size", &linear_attention_spec::state_size},
      {"n_groups", &linear_attention_spec::n_groups},
      {"intermediate_size", &linear_attention_spec::intermediate_size},
      {"conv_kernel", &linear_attention_spec::conv_kernel}};
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    const std::string f = field + "." + k;
    if (it->is_null() || k == "notes") continue;
    if (k == "kind" || k == "ssm_dtype") {
      if (!it->is_string()) return type_error(f, "a string");
      if (k == "kind") out.kind = it->get<std::string>();
      if (k == "ssm_dtype") out.ssm_dtype = it->get<std::string>();
      continue;
    }
    for (const auto& [name, member] : ints) {
      if (k != name) continue;
      const std::uint64_t max = k == "intermediate_size" ? kMaxIntermediate
                                : k == "conv_kernel"     ? 64
                                                         : kMaxHeadDim;
      auto x = get_u64(*it, f, 1, max);
      if (!x) return x.err();
      out.*member = *x;
    }
  }
  if (out.kind.empty()) {
    return make_error(error_code::invalid_argument, "'" + field + ".kind' is required",
                      field + ".kind");
  }
  return out;
}

// data/schema.md `compressed_attention`: DeepSeek-V4's windowed and compressed attention.
result<compressed_attention_spec> parse_compressed_attention(const json& v,
                                                             const std::string& field) {
  if (!v.is_object()) return type_error(field, "an object");
  static const std::vector<std::string> keys = {
      "compress_ratios", "window",   "q_lora_rank",     "qk_rope_head_dim",
      "o_lora_rank",     "o_groups", "index_n_heads",   "index_head_dim",
      "index_topk",      "hc_mult",  "num_hash_layers", "notes"};
  if (auto s = check_unknown_keys(v, keys, field + "."); !s) return s.err();
  compressed_attention_spec out;
  const std::pair<const char*, std::optional<std::uint64_t> compressed_attention_spec::*> ints[] = {
      {"window", &compressed_attention_spec::window},
      {"q_lora_rank", &compressed_attention_spec::q_lora_rank},
      {"qk_rope_head_dim", &compressed_attention_spec::qk_rope_head_dim},
      {"o_lora_rank", &compressed_attention_spec::o_lora_rank},
      {"o_groups", &compressed_attention_spec::o_groups},
      {"index_n_heads", &compressed_attention_spec::index_n_heads},
      {"index_head_dim", &compressed_attention_spec::index_head_dim},
      {"index_topk", &compressed_attention_spec::index_topk},
      {"hc_mult", &compressed_attention_spec::hc_mult},
      {"num_hash_layers", &compressed_attention_spec::num_hash_layers}};
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    const std::string f = field + "." + k;
    if (it->is_null() || k == "notes") continue;
    if (k == "compress_ratios") {
      if (!it->is_array() || it->size() > kMaxLayers + 64) {
        return type_error(f, "an array of per-layer compress ratios");
      }
      for (std::size_t i = 0; i < it->size(); ++i) {
        auto x = get_u64((*it)[i], f + "[" + std::to_string(i) + "]", 0, 128);
        if (!x) return x.err();
        out.compress_ratios.push_back(*x);
      }
      continue;
    }
    for (const auto& [name, member] : ints) {
      if (k != name) continue;
      const std::uint64_t max = k == "window" || k == "index_topk" ? kMaxPositions
                                : k == "num_hash_layers"           ? kMaxLayers
                                                                   : kMaxHidden;
      auto x = get_u64(*it, f, k == "num_hash_layers" ? 0 : 1, max);
      if (!x) return x.err();
      out.*member = *x;
    }
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
  static const std::vector<std::string> keys = {"method",
                                                "bits",
                                                "group_size",
                                                "desc_act",
                                                "sym",
                                                "weight_block_size",
                                                "double_quant",
                                                "unquantized",
                                                "experts_only",
                                                "read",
                                                "notes",
                                                "quantize_lm_head",
                                                "attention_method",
                                                "state_mixer_method",
                                                "expert_method"};
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
    } else if (k == "attention_method" || k == "state_mixer_method" || k == "expert_method") {
      // Mixed precision: the attention's (state mixer's, experts') own scheme, a method name or
      // "none" (16 bit).
      if (!it->is_string()) return type_error(f, "a method name (fp8 or none)");
      const std::string m = it->get<std::string>();
      std::optional<quant_method>& slot = k == "attention_method"     ? q.attention_method
                                          : k == "state_mixer_method" ? q.state_mixer_method
                                                                      : q.expert_method;
      if (m == "none") {
        slot = quant_method::none;
      } else if (auto am = parse_quantization(m); am && !am->from_checkpoint) {
        slot = am->method;
      } else {
        return make_error(error_code::invalid_argument,
                          "'" + f + "': unknown quantization method '" + m + "'", f);
      }
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
    // method (done), read/notes: informational; unquantized: below.
  }
  if (q.method == quant_method::mxfp4 && !v.contains("experts_only")) q.experts_only = true;
  if (auto u = v.find("unquantized"); u != v.end()) {
    if (!u->is_array()) return type_error(field + ".unquantized", "an array of module names");
    std::vector<std::string> names;
    for (const auto& n : *u) {
      if (!n.is_string()) return type_error(field + ".unquantized", "an array of module names");
      names.push_back(n.get<std::string>());
    }
    apply_unquantized_modules(names, q);
  }
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
      case arch_key_kind::linear_attention: {
        auto l = parse_linear_attention(*it, f.str());
        if (!l) return l.err();
        a.linear_attention = *l;
        break;
      }
      case arch_key_kind::compressed_attention: {
        auto c = parse_compressed_attention(*it, f.str());
        if (!c) return c.err();
        a.compressed = std::move(*c);
        break;
      }
      case arch_key_kind::extra: {
        if (!it->is_object()) return type_error(f, "an object");
        a.has_extra = true;
        // The database keeps a checkpoint's MTP module count among the extra keys, under the
        // config's own name (Qwen's mtp_num_hidden_layers or num_nextn_predict_layers).
        for (const char* name : {"num_nextn_predict_layers", "mtp_num_hidden_layers"}) {
          const auto m = it->find(name);
          if (m == it->end() || a.num_nextn_predict_layers) continue;
          auto x = get_u64(*m, f.str() + "." + name, 0, 64);
          if (!x) return x.err();
          a.num_nextn_predict_layers = *x;
        }
        break;
      }
    }
  }
  return a;
}

void write_json(json_writer& w, const model_arch& a) {
  // Keys in byte order: the order nlohmann's std::map objects print (json_writer.hpp).
  w.begin_object();
  if (a.attn_output_gate) w.key("attn_output_gate").boolean(true);
  if (a.attention_bias) w.key("attention_bias").boolean(true);
  if (a.attention_chunk_size > 0) w.key("attention_chunk_size").u64(a.attention_chunk_size);
  if (a.compressed.any()) {
    const compressed_attention& c = a.compressed;
    w.key("compressed_attention").begin_object();
    w.key("compress_ratios").begin_array();
    for (std::uint8_t r : c.ratio) w.u64(r);
    w.end_array();
    w.key("hc_mult").u64(c.hc_mult);
    w.key("index_head_dim").u64(c.index_head_dim);
    w.key("index_n_heads").u64(c.index_n_heads);
    w.key("index_topk").u64(c.index_topk);
    w.key("num_hash_layers").u64(c.num_hash_layers);
    w.key("o_groups").u64(c.o_groups);
    w.key("o_lora_rank").u64(c.o_lora_rank);
    w.key("q_lora_rank").u64(c.q_lora_rank);
    w.key("qk_rope_head_dim").u64(c.qk_rope_head_dim);
    w.key("window").u64(c.window);
    w.end_object();
  }
  if (a.is_moe() && a.first_k_dense_replace > 0) {
    w.key("first_k_dense_replace").u64(a.first_k_dense_replace);
  }
  if (a.linear.any()) w.key("full_attention_interval").u64(a.linear.full_attention_interval);
  if (a.global_head_dim > 0) w.key("global_head_dim").u64(a.global_head_dim);
  w.key("head_dim").u64(a.head_dim);
  w.key("hidden_size").u64(a.hidden_size);
  if (a.hidden_size_per_layer_input > 0) {
    w.key("hidden_size_per_layer_input").u64(a.hidden_size_per_layer_input);
  }
  if (a.has_indexer()) {
    w.key("index_head_dim").u64(a.index_head_dim);
    w.key("index_n_heads").u64(a.index_n_heads);
    w.key("index_skip_topk_offset").u64(a.index_skip_topk_offset);
    w.key("index_topk").u64(a.index_topk);
    w.key("index_topk_freq").u64(a.index_topk_freq);
  }
  if (a.intermediate_size > 0) w.key("intermediate_size").u64(a.intermediate_size);
  if (a.is_mla()) w.key("kv_lora_rank").u64(a.kv_lora_rank);
  if (a.linear.any()) {
    const state_layers& l = a.linear;
    w.key("linear_attention").begin_object();
    w.key("conv_kernel").u64(l.conv_kernel);
    if (l.kind == state_layer_kind::mamba2) {
      w.key("head_dim").u64(l.head_dim);
      w.key("intermediate_size").u64(l.intermediate_size);
    }
    if (l.kind == state_layer_kind::gated_delta_net) w.key("key_head_dim").u64(l.key_head_dim);
    w.key("kind").string(state_layer_kind_name(l.kind));
    if (l.kind == state_layer_kind::mamba2) {
      w.key("n_groups").u64(l.n_groups);
      w.key("num_heads").u64(l.num_heads);
    }
    if (l.kind == state_layer_kind::gated_delta_net) {
      w.key("num_key_heads").u64(l.num_key_heads);
      w.key("num_value_heads").u64(l.num_value_heads);
    }
    if (l.ssm_dtype) w.key("ssm_dtype").string(dtype_name(*l.ssm_dtype));
    if (l.kind == state_layer_kind::mamba2) w.key("state_size").u64(l.state_size);
    if (l.kind == state_layer_kind::gated_delta_net) w.key("value_head_dim").u64(l.value_head_dim);
    w.end_object();
  }
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
  if (a.num_global_kv_heads > 0) w.key("num_global_kv_heads").u64(a.num_global_kv_heads);
  w.key("num_heads").u64(a.num_heads);
  w.key("num_kv_heads").u64(a.num_kv_heads);
  if (a.num_kv_shared_layers > 0) w.key("num_kv_shared_layers").u64(a.num_kv_shared_layers);
  w.key("num_layers").u64(a.num_layers);
  if (a.mtp_layers > 0) w.key("num_nextn_predict_layers").u64(a.mtp_layers);
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
    if (q.attention_method)
      w.key("attention_method").string(quant_method_name(*q.attention_method));
    w.key("bits").u64(q.bits);
    if (q.expert_method) w.key("expert_method").string(quant_method_name(*q.expert_method));
    if (q.experts_only) w.key("experts_only").boolean(true);
    if (q.method == quant_method::awq || q.method == quant_method::gptq ||
        q.method == quant_method::w4a16) {
      w.key("group_size").u64(q.group_size);
    }
    w.key("method").string(quant_method_name(q.method));
    if (q.quantize_lm_head) w.key("quantize_lm_head").boolean(true);
    if (q.state_mixer_method)
      w.key("state_mixer_method").string(quant_method_name(*q.state_mixer_method));
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
        !v.patch_size && !v.image_size && !v.params && !v.max_tokens_per_item &&
        !v.spatial_merge_size && !v.temporal_patch_size) {
      w.null();  // nlohmann prints an object nothing was put into as null
    } else {
      w.begin_object();
      if (v.hidden_size) w.key("hidden_size").u64(v.hidden_size);
      if (v.image_size) w.key("image_size").u64(v.image_size);
      if (v.intermediate_size) w.key("intermediate_size").u64(v.intermediate_size);
      if (v.max_tokens_per_item) w.key("max_tokens_per_item").u64(v.max_tokens_per_item);
      if (v.num_heads) w.key("num_heads").u64(v.num_heads);
      if (v.num_layers) w.key("num_layers").u64(v.num_layers);
      if (v.params) w.key("params").u64(v.params);
      if (v.patch_size) w.key("patch_size").u64(v.patch_size);
      if (v.spatial_merge_size) w.key("spatial_merge_size").u64(v.spatial_merge_size);
      if (v.temporal_patch_size) w.key("temporal_patch_size").u64(v.temporal_patch_size);
      if (!v.type.empty()) w.key("type").string(v.type);
      w.end_object();
    }
  }
  w.key("vocab_size").u64(a.vocab_size);
  if (a.hidden_size_per_layer_input > 0) {
    w.key("vocab_size_per_layer_input").u64(a.vocab_size_per_layer_input);
  }
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
