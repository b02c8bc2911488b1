// ingest/hf_config_rules.hpp — the parts convert_hf_config (hf_config.cpp) is made of. Internal to
// src/ingest/: nothing outside it includes this header.
//
//  * Reading primitives: `view` (one config object and the path that names its keys in errors),
//    `errors` (the first error wins), `builder` (the canonical object and each value's HF field),
//    `key_list` (the config.json keys that may hold one value, tried in order).
//  * `reading`: the text model's config under conversion, with its class defaults and family.
//  * The rules per model_type (hf_config_rules.cpp): `text_class` rows (a transformers config
//    class: its defaults and the family of rules that reads it) and `family_rules` rows (how a
//    family reads KV heads, the FFN, biases, experts and windows: small named functions and
//    table columns).
//  * Stages shared by every family: lengths, RoPE and attention windows (hf_config_layout.cpp),
//    the multimodal nesting and the vision tower (hf_config_multimodal.cpp), quantization_config
//    (hf_config_quantization.cpp).
// Adding a model_type: a `text_class` row naming an existing family. A new family: a
// `family_rules` row naming a small function for each stage it reads its own way (and, for MoE,
// a `kMoeKeys` row with its keys and defaults).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/result.hpp"

namespace vllm_mem::hf_rules {

using json = nlohmann::json;
using u64 = std::uint64_t;

// ---------------------------------------------------------------------------------------------
// Reading primitives

// Collects the first error; the reading code keeps going with "absent" values so that each
// family's code stays linear, and the error is returned at the end of a stage.
struct errors {
  std::optional<error> first;
  void fail(error e) {
    if (!first) first = std::move(e);
  }
  void invalid(const std::string& field, std::string message) {
    fail(make_error(error_code::invalid_argument, std::move(message), field));
  }
  void unsupported(const std::string& field, std::string message) {
    fail(make_error(error_code::unsupported, std::move(message), field));
  }
};

// The config.json keys that may hold one value, in the order they are tried: the first present
// wins, and the first listed names the field when none is.
class key_list {
 public:
  static constexpr std::size_t kMax = 8;
  constexpr key_list() = default;  // no key: the value is not read
  constexpr key_list(std::initializer_list<const char*> keys) : size_(keys.size()) {
    if (keys.size() > kMax) throw std::length_error("key_list: at most 8 keys");
    std::size_t i = 0;
    for (const char* k : keys) keys_[i++] = k;
  }
  constexpr const char* const* begin() const { return keys_; }
  constexpr const char* const* end() const { return keys_ + size_; }
  constexpr const char* front() const { return keys_[0]; }
  constexpr bool empty() const { return size_ == 0; }

 private:
  const char* keys_[kMax] = {};
  std::size_t size_ = 0;
};

// One config object (the top level, text_config, vision_config or quantization_config) and the
// path that names its keys in errors.
class view {
 public:
  view(const json& j, std::string path, errors& e) : j_(j), path_(std::move(path)), err_(e) {}

  // The value of `key` when present and not null.
  const json* get(std::string_view key) const {
    if (!j_.is_object()) return nullptr;
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool has(std::string_view key) const { return get(key) != nullptr; }
  bool has_key(std::string_view key) const { return j_.is_object() && j_.contains(key); }
  std::string field(std::string_view key) const { return path_ + std::string(key); }
  const std::string& path() const { return path_; }
  errors& errs() const { return err_; }

  // The first of `keys` that is present (nullptr: none).
  const char* first(const key_list& keys) const {
    for (const char* k : keys) {
      if (has(k)) return k;
    }
    return nullptr;
  }

  // The value of `key` when present and of the type asked for; of another type, an error saying
  // what it must be.
  std::optional<u64> u64_of(std::string_view key) const {
    return typed(key, as_u64, "a non-negative integer");
  }
  std::optional<double> f64_of(std::string_view key) const {
    return typed(key, as_f64, "a number");
  }
  std::optional<bool> bool_of(std::string_view key) const {
    return typed(key, as_bool, "true or false");
  }
  std::optional<std::string> str_of(std::string_view key) const {
    return typed(key, as_string, "a string");
  }

  static std::string excerpt(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
  }

 private:
  template <class T>
  std::optional<T> typed(std::string_view key, std::optional<T> (*as)(const json&),
                         const char* what) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (auto x = as(*v)) return x;
    // Appended: GCC 12 at -O3 misreads "'" + string as an overlapping copy (-Wrestrict).
    std::string msg = "'";
    msg += field(key);
    msg += "' must be ";
    msg += what;
    msg += ", got ";
    msg += excerpt(*v);
    err_.invalid(field(key), msg);
    return std::nullopt;
  }
  // Integers, and floats that hold one exactly (a config written as 4096.0).
  static std::optional<u64> as_u64(const json& v) {
    if (v.is_number_unsigned()) return v.get<u64>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
      return static_cast<u64>(v.get<std::int64_t>());
    }
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d >= 0 && d < 9007199254740992.0 && d == std::floor(d)) return static_cast<u64>(d);
    }
    return std::nullopt;
  }
  static std::optional<double> as_f64(const json& v) {
    return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
  }
  static std::optional<bool> as_bool(const json& v) {
    return v.is_boolean() ? std::optional<bool>(v.get<bool>()) : std::nullopt;
  }
  static std::optional<std::string> as_string(const json& v) {
    return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
  }

  const json& j_;
  std::string path_;
  errors& err_;
};

// The canonical object under construction and where each value came from (for errors: the
// first origin recorded for a key names it).
struct builder {
  json out = json::object();
  std::vector<std::pair<std::string, std::string>> origin;  // canonical key -> HF field
  void set(const std::string& key, json value, const std::string& from) {
    out[key] = std::move(value);
    origin.emplace_back(key, from);
  }
  bool has(const std::string& key) const { return out.contains(key); }
};

// A non-negative integer JSON value (parsed or built in code), else nullopt.
inline std::optional<u64> as_index(const json& v) {
  if (v.is_number_unsigned()) return v.get<u64>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<u64>(v.get<std::int64_t>());
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Rule tables (hf_config_rules.cpp)

// A transformers text-config class: its model_type, the family of rules that reads it, and its
// keyword defaults (0 = the class has no default for that size, the key is required).
struct text_class {
  const char* model_type;
  const char* cls;
  const char* rules;
  bool has_defaults;  // false: defaults not pinned down here, every size is required
  u64 vocab, hidden, intermediate, layers, heads;
  u64 kv_heads;  // 0: = num_attention_heads (num_key_value_heads=None)
  u64 head_dim;  // 0: hidden_size // num_attention_heads
  u64 max_pos;   // 0: none
  bool tie;      // tie_word_embeddings default (PretrainedConfig: True unless the class overrides)
};

// nullptr: a model_type without a class here (the generic family reads it, with no defaults).
const text_class* find_text_class(const std::string& lower_type);

struct reading;
using rule = void (*)(reading&);

// The norm and MLP of a family's decoder layers (vLLM's model files); unstated: left to the
// canonical defaults.
enum class block_shape { unstated, rms_gated, layer_gated, layer_plain };

// Which layers slide when the config sets a window and has no layer_types: every layer, the even
// layers (Gemma 2, gpt-oss), all but every sliding_window_pattern-th layer (Gemma 3; any family
// whose config has the key), or Qwen's layers from max_window_layers on when use_sliding_window
// (Qwen; any family whose config has use_sliding_window).
enum class window_layout { every_layer, even_layers, every_nth, qwen_max_window_layers };

// How one family of model_types reads a config. The stages run in the order of the columns
// (read_text_model in hf_config.cpp). A new column goes last, with a default member initializer,
// so that the existing rows need no change.
struct family_rules {
  const char* name;            // text_class::rules
  const char* canonical_type;  // the model_type written out (nullptr: the config's own)
  bool mla;                    // MLA: head sizes from the qk_*/v_head_dim keys, head_dim not read
  rule kv_heads;
  rule ffn;
  block_shape shape;
  rule biases;                 // biases, parallel attention, partial rotary
  rule experts = nullptr;      // MoE (and MLA) keys; nullptr: a dense family
  bool reads_softcap = false;  // final_logit_softcapping
  double softcap_default = 0;  // when the key is absent (0: none)
  u64 default_window = 0;      // sliding_window when the key is absent (0: none)
  window_layout windows = window_layout::every_layer;
};

// The family of `name` (text_class::rules); "generic" for a model_type without a class.
const family_rules& find_family(std::string_view name);

// A u64 value: the first key present, else `dflt` when the first key is absent (not null).
struct u64_row {
  const char* canonical;
  key_list keys;
  std::optional<u64> dflt;
};
// A flag: the first key present, else `dflt` (when it has one).
struct flag_row {
  const char* canonical;
  key_list keys;
  std::optional<bool> dflt;
};

// ---------------------------------------------------------------------------------------------
// The text model under conversion

struct reading {
  const view& outer;  // the top level
  const view& text;   // text_config, else the top level
  errors& err;
  builder& b;
  std::string text_type;  // the text model's model_type, lower-case
  const text_class* cls;  // nullptr: no class (generic rules)
  const family_rules& family;
  bool nested;        // text_config holds the language model
  bool use_defaults;  // every absent size takes the class default (a nested sub-config)
  std::optional<u64> layers, hidden;

  // A size: the first alias present, else the class default (nested, or not required), else an
  // error when required.
  std::optional<u64> size(const char* canonical, const key_list& keys, u64 dflt, bool required);
  // A flag: the first alias present, else `dflt` when it has one.
  std::optional<bool> flag(const char* canonical, const key_list& keys, std::optional<bool> dflt);
  void read(const u64_row& row);
  void read(std::span<const flag_row> rows);
  // `v[key]` as `canonical` when it is a valid u64.
  void copy_u64(const char* canonical, const view& v, const char* key);
  // A value the family fixes whatever the config says (its origin: the model_type).
  void fixed(const char* canonical, json value);
};

// ---------------------------------------------------------------------------------------------
// Stages shared by every family

// hf_config_rules.cpp: num_layers, hidden_size, num_heads, vocab_size (sets r.layers, r.hidden);
// head_dim; tie_word_embeddings; norm and mlp (the family's block_shape).
void read_core_sizes(reading& r);
void read_head_dim(reading& r);
void read_tie(reading& r);
// The checkpoint's MTP modules: num_nextn_predict_layers (DeepSeek, GLM, MiMo, ...) or Qwen's
// mtp_num_hidden_layers, as vLLM's SpeculativeConfig.hf_config_override reads them (n_predict).
void read_mtp_layers(reading& r);
void read_shape(reading& r);

// hf_config_layout.cpp: max_position_embeddings (vLLM _get_and_verify_max_len), rope_scaling /
// rope_parameters / rope_theta, final_logit_softcapping, sliding windows and layer_types.
void read_lengths(reading& r);
void read_rope(reading& r);
void read_softcap(reading& r);
void read_windows(reading& r);

// hf_config_multimodal.cpp: the text model_type a multimodal class assumes when its text_config
// has none; torch_dtype (the text config's, else the outer one); the `vision` object of a
// vision_config object (`field` names it).
std::string default_text_type(const std::string& outer_type);
void read_dtype(reading& r);
json vision_from_hf(const json& vc, const std::string& field, const std::string& outer_type,
                    errors& err);

// hf_config_quantization.cpp: the canonical `quantization` object for a quantization_config,
// or null after an error.
json quantization_from_hf(const json& qc, const std::string& field, errors& err);

}  // namespace vllm_mem::hf_rules
