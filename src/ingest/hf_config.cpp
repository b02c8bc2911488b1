// ingest/hf_config.cpp — Hugging Face config.json -> canonical architecture (data/schema.md keys).
//
// The per-class defaults below are the keyword defaults of transformers' configuration classes
// (transformers/models/<type>/configuration_<type>.py); the attribute choices for KV heads, head
// size and lengths are vLLM's (ModelConfig.get_total_num_kv_heads, get_head_size,
// _get_and_verify_max_len; vllm-memory-model.md §6.1, §7).
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/hf_state_layers.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

using u64 = std::uint64_t;

// Collects the first error; the reading code keeps going with "absent" values so that each
// family's code stays linear, and the error is returned at the end.
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
  const char* first(std::initializer_list<const char*> keys) const {
    for (const char* k : keys) {
      if (has(k)) return k;
    }
    return nullptr;
  }

  std::optional<u64> u64_of(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_unsigned()) return v->get<u64>();
    if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
      return static_cast<u64>(v->get<std::int64_t>());
    }
    if (v->is_number_float()) {
      const double d = v->get<double>();
      if (d >= 0 && d < 9007199254740992.0 && d == std::floor(d)) return static_cast<u64>(d);
    }
    err_.invalid(field(key),
                 "'" + field(key) + "' must be a non-negative integer, got " + excerpt(*v));
    return std::nullopt;
  }
  std::optional<double> f64_of(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_number()) return v->get<double>();
    err_.invalid(field(key), "'" + field(key) + "' must be a number, got " + excerpt(*v));
    return std::nullopt;
  }
  std::optional<bool> bool_of(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_boolean()) return v->get<bool>();
    err_.invalid(field(key), "'" + field(key) + "' must be true or false, got " + excerpt(*v));
    return std::nullopt;
  }
  std::optional<std::string> str_of(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    err_.invalid(field(key), "'" + field(key) + "' must be a string, got " + excerpt(*v));
    return std::nullopt;
  }

  static std::string excerpt(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
  }

 private:
  const json& j_;
  std::string path_;
  errors& err_;
};

// The canonical object under construction and where each value came from (for errors).
struct builder {
  json out = json::object();
  std::vector<std::pair<std::string, std::string>> origin;  // canonical key -> HF field
  void set(const std::string& key, json value, const std::string& from) {
    out[key] = std::move(value);
    origin.emplace_back(key, from);
  }
  bool has(const std::string& key) const { return out.contains(key); }
};

// ---------------------------------------------------------------------------------------------
// Class defaults

// A transformers text-config class: its model_type, the code path ("rules") that reads it, and
// its keyword defaults (0 = the class has no default for that size, the key is required).
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

// The text model_type a multimodal class assumes when its text_config has none (the
// sub-config default of LlavaConfig, Gemma3Config, ...).
std::string default_text_type(const std::string& outer) {
  static const std::pair<const char*, const char*> map[] = {
      {"llava", "llama"},
      {"llava_next", "llama"},
      {"llava_next_video", "llama"},
      {"llava_onevision", "qwen2"},
      {"mistral3", "mistral"},
      {"gemma3", "gemma3_text"},
      {"llama4", "llama4_text"},
      {"mllama", "mllama_text_model"},
      {"qwen2_vl", "qwen2_vl_text"},
      {"qwen2_5_vl", "qwen2_5_vl_text"},
      {"qwen3_vl", "qwen3_vl_text"},
      {"qwen3_vl_moe", "qwen3_vl_moe_text"},
      {"kimi_vl", "deepseek_v3"},
  };
  for (const auto& [o, t] : map) {
    if (outer == o) return t;
  }
  return outer;
}

struct vision_class {
  const char* model_type;
  u64 hidden, intermediate, layers, heads, image, patch;
};
// SiglipVisionConfig, CLIPVisionConfig, PixtralVisionConfig, Llama4VisionConfig defaults.
constexpr vision_class kVisionClasses[] = {
    {"siglip_vision_model", 768, 3072, 12, 12, 224, 16},
    {"clip_vision_model", 768, 3072, 12, 12, 224, 32},
    {"pixtral", 1024, 4096, 24, 16, 1024, 16},
    {"llama4_vision_model", 768, 5632, 34, 16, 448, 14},
};

std::string default_vision_type(const std::string& outer) {
  if (outer == "gemma3") return "siglip_vision_model";
  if (outer == "llava" || outer == "llava_next" || outer == "llava_next_video") {
    return "clip_vision_model";
  }
  if (outer == "mistral3") return "pixtral";
  if (outer == "llama4") return "llama4_vision_model";
  return {};
}

// Canonical key -> the usual HF key, for errors about values that no key supplied.
std::string hf_name_of(const std::string& canonical) {
  static const std::pair<const char*, const char*> map[] = {
      {"num_layers", "num_hidden_layers"},
      {"num_heads", "num_attention_heads"},
      {"num_kv_heads", "num_key_value_heads"},
      {"num_experts", "num_local_experts"},
      {"quantization", "quantization_config"},
      {"vision", "vision_config"},
      {"logit_softcapping", "final_logit_softcapping"},
  };
  for (const auto& [c, h] : map) {
    if (canonical == c) return h;
  }
  return canonical;
}

// ---------------------------------------------------------------------------------------------
// Layer layouts

// A non-negative integer JSON value (parsed or built in code), else nullopt.
std::optional<u64> as_index(const json& v) {
  if (v.is_number_unsigned()) return v.get<u64>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<u64>(v.get<std::int64_t>());
  }
  return std::nullopt;
}

// Canonical sliding_window_pattern of a per-layer list (true = sliding window layer): 0 when every
// layer slides, n when layer i is full attention exactly when (i + 1) % n == 0.
struct window_layout {
  bool expressible = true;
  bool any_sliding = false;
  u64 pattern = 0;
};
window_layout sliding_layout(const std::vector<bool>& sliding) {
  window_layout w;
  const auto n = static_cast<u64>(sliding.size());
  u64 count = 0;
  for (bool s : sliding) count += s ? 1 : 0;
  if (count == 0) return w;
  w.any_sliding = true;
  if (count == n) return w;
  u64 first_full = 0;
  while (sliding[first_full]) ++first_full;
  w.pattern = first_full + 1;
  if (w.pattern < 2) {
    w.expressible = false;
    return w;
  }
  for (u64 i = 0; i < n; ++i) {
    if (sliding[i] != ((i + 1) % w.pattern != 0)) {
      w.expressible = false;
      return w;
    }
  }
  return w;
}

// ---------------------------------------------------------------------------------------------
// quantization_config

json string_list(const view& q, std::initializer_list<const char*> keys) {
  json out = json::array();
  for (const char* k : keys) {
    const json* v = q.get(k);
    if (v == nullptr || !v->is_array()) continue;
    for (const auto& s : *v) {
      if (s.is_string() && out.size() < 32) out.push_back(s);
    }
  }
  return out;
}

// The canonical `quantization` object for a quantization_config, or null after an error.
json quantization_from_hf(const json& qc, const std::string& f, errors& err) {
  if (!qc.is_object()) {
    err.invalid(f, "'" + f + "' must be an object");
    return nullptr;
  }
  const view q(qc, f + ".", err);
  const auto method_text = q.str_of("quant_method");
  if (!method_text) {
    if (!q.has("quant_method")) {
      err.invalid(q.field("quant_method"),
                  "'" + q.field("quant_method") + "' is required in a quantization_config");
    }
    return nullptr;
  }
  const std::string m = to_lower(*method_text);
  json out = json::object();
  json unquantized = json::array();
  auto bits_of = [&](std::initializer_list<const char*> keys, u64 dflt,
                     std::initializer_list<u64> allowed) -> u64 {
    const char* k = q.first(keys);
    const u64 b = k ? q.u64_of(k).value_or(dflt) : dflt;
    if (std::find(allowed.begin(), allowed.end(), b) == allowed.end()) {
      err.unsupported(q.field(k ? k : *keys.begin()),
                      "'" + q.field(k ? k : *keys.begin()) + "' = " + std::to_string(b) +
                          " bits is not a width vLLM's " + m + " kernels load");
    }
    return b;
  };
  if (m == "fp8" || m == "fbgemm_fp8") {
    out["bits"] = 8;
    out["method"] = "fp8";
    if (const json* wbs = q.get("weight_block_size")) {
      if (!wbs->is_array() || wbs->size() != 2 || !(*wbs)[0].is_number_integer() ||
          !(*wbs)[1].is_number_integer()) {
        err.invalid(q.field("weight_block_size"),
                    "'" + q.field("weight_block_size") + "' must be an array of two integers");
        return nullptr;
      }
      out["method"] = "fp8_block";
      out["weight_block_size"] = *wbs;
    }
    unquantized = string_list(q, {"ignored_layers", "modules_to_not_convert"});
  } else if (m == "awq" || m == "awq_marlin") {
    // AwqConfig: bits (w_bit) 4, group_size (q_group_size) 128, zero_point True.
    out["method"] = "awq";
    out["bits"] = bits_of({"bits", "w_bit"}, 4, {4});
    const char* g = q.first({"group_size", "q_group_size"});
    out["group_size"] = g ? q.u64_of(g).value_or(128) : 128;
    out["sym"] = !q.bool_of("zero_point").value_or(true);
    unquantized = string_list(q, {"modules_to_not_convert"});
  } else if (m == "gptq" || m == "gptq_marlin" || m == "auto-round" || m == "auto_round" ||
             m == "autoround") {
    // GPTQConfig: bits 4, group_size 128 (-1: per channel), desc_act False, sym True, lm_head
    // False. AutoRound checkpoints load through the same GPTQ layouts.
    out["method"] = "gptq";
    out["bits"] = bits_of({"bits"}, 4, {2, 3, 4, 8});
    if (const json* g = q.get("group_size")) {
      if (g->is_number_integer() && g->get<std::int64_t>() == -1) {
        out["group_size"] = -1;
      } else {
        out["group_size"] = q.u64_of("group_size").value_or(128);
      }
    } else {
      out["group_size"] = 128;
    }
    out["desc_act"] = q.bool_of("desc_act").value_or(false);
    out["sym"] = q.bool_of("sym").value_or(true);
    out["quantize_lm_head"] = q.bool_of("lm_head").value_or(false);
    unquantized = string_list(q, {"modules_to_not_convert"});
  } else if (m == "compressed-tensors" || m == "compressed_tensors") {
    const json* groups = q.get("config_groups");
    const std::string gf = q.field("config_groups");
    if (groups == nullptr || !groups->is_object() || groups->empty()) {
      err.invalid(gf, "'" + gf + "' must be a non-empty object of quantization groups");
      return nullptr;
    }
    json scheme;
    std::string scheme_group;
    for (auto it = groups->begin(); it != groups->end(); ++it) {
      const std::string group_field = gf + "." + it.key();
      if (!it->is_object()) {
        err.invalid(group_field, "'" + group_field + "' must be an object");
        return nullptr;
      }
      const view g(*it, group_field + ".", err);
      const json* w = g.get("weights");
      if (w == nullptr) continue;  // activation-only group
      const view wv(*w, g.field("weights") + ".", err);
      if (!w->is_object()) {
        err.invalid(g.field("weights"), "'" + g.field("weights") + "' must be an object");
        return nullptr;
      }
      const auto num_bits = wv.u64_of("num_bits");
      if (!num_bits) {
        if (!wv.has("num_bits"))
          err.invalid(wv.field("num_bits"), "'" + wv.field("num_bits") + "' is required");
        return nullptr;
      }
      const std::string type = to_lower(wv.str_of("type").value_or("int"));
      const std::string strategy = to_lower(wv.str_of("strategy").value_or("tensor"));
      json s = json::object();
      if (type == "float" && *num_bits == 8) {
        s["bits"] = 8;
        if (strategy == "block") {
          const json* bs = wv.get("block_structure");
          if (bs == nullptr || !bs->is_array() || bs->size() != 2 ||
              !(*bs)[0].is_number_integer() || !(*bs)[1].is_number_integer()) {
            err.invalid(wv.field("block_structure"),
                        "'" + wv.field("block_structure") +
                            "' must be an array of two integers for the block strategy");
            return nullptr;
          }
          s["method"] = "fp8_block";
          s["weight_block_size"] = *bs;
        } else {
          s["method"] = "fp8";
        }
      } else if (type == "int" && *num_bits == 8) {
        s["method"] = "int8";
        s["bits"] = 8;
      } else if (type == "int" && *num_bits == 4) {
        s["method"] = "w4a16";
        s["bits"] = 4;
        s["group_size"] = (strategy == "group" || strategy == "tensor_group")
                              ? wv.u64_of("group_size").value_or(128)
                              : 0;
        s["sym"] = wv.bool_of("symmetric").value_or(true);
      } else if (type == "float" && *num_bits == 4) {
        s["method"] = "nvfp4";
        s["bits"] = 4;
      } else {
        err.unsupported(wv.field("num_bits"),
                        "compressed-tensors weights of " + std::to_string(*num_bits) + "-bit " +
                            type + " ('" + wv.field("num_bits") + "') are not modelled");
        return nullptr;
      }
      if (!scheme.is_null() && scheme != s) {
        err.unsupported(gf, "'" + gf + "' mixes schemes (" + scheme_group + ": " +
                                scheme["method"].get<std::string>() + ", " + it.key() + ": " +
                                s["method"].get<std::string>() +
                                "); mixed-precision checkpoints are not modelled");
        return nullptr;
      }
      scheme = s;
      scheme_group = it.key();
    }
    if (scheme.is_null()) {
      err.invalid(gf, "'" + gf + "' quantizes no weights");
      return nullptr;
    }
    out = scheme;
    unquantized = string_list(q, {"ignore"});
  } else if (m == "bitsandbytes") {
    // BitsAndBytesConfig: load_in_4bit/load_in_8bit False, bnb_4bit_use_double_quant False.
    const bool four = q.bool_of("load_in_4bit").value_or(false);
    const bool eight = q.bool_of("load_in_8bit").value_or(false);
    if (four == eight) {
      err.invalid(q.field("load_in_4bit"), "a bitsandbytes config must set exactly one of '" +
                                               q.field("load_in_4bit") + "' and '" +
                                               q.field("load_in_8bit") + "'");
      return nullptr;
    }
    out["method"] = "bitsandbytes";
    out["bits"] = four ? 4 : 8;
    if (four) out["double_quant"] = q.bool_of("bnb_4bit_use_double_quant").value_or(false);
    unquantized = string_list(q, {"llm_int8_skip_modules"});
  } else if (m == "mxfp4") {
    out["method"] = "mxfp4";
    unquantized = string_list(q, {"modules_to_not_convert"});
  } else if (m == "modelopt" || m == "modelopt_fp4") {
    std::string algo = m == "modelopt_fp4" ? "NVFP4" : "";
    if (const auto a = q.str_of("quant_algo")) algo = *a;
    if (const json* inner = q.get("quantization"); inner && inner->is_object()) {
      const view iv(*inner, q.field("quantization") + ".", err);
      if (const auto a = iv.str_of("quant_algo")) algo = *a;
    }
    std::string upper = algo;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.rfind("FP8", 0) == 0) {
      out["method"] = "fp8";
      out["bits"] = 8;
    } else if (upper == "NVFP4") {
      out["method"] = "nvfp4";
      out["bits"] = 4;
    } else {
      err.unsupported(q.field("quant_algo"), "ModelOpt quant_algo '" + algo + "' ('" +
                                                 q.field("quant_algo") +
                                                 "') is not modelled; FP8 and NVFP4 are");
      return nullptr;
    }
    unquantized = string_list(q, {"exclude_modules"});
  } else {
    err.unsupported(q.field("quant_method"),
                    "quantization method '" + *method_text + "' ('" + q.field("quant_method") +
                        "') is not modelled; supported: awq, gptq, auto-round, fp8, fbgemm_fp8, "
                        "compressed-tensors, bitsandbytes, mxfp4, modelopt");
    return nullptr;
  }
  if (!unquantized.empty()) out["unquantized"] = unquantized;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Error translation: canonical names -> the HF fields they came from.

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t pos = s.find(from); pos != std::string::npos;
       pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

error translate(error e, const builder& b, const std::string& text_path) {
  auto hf_of = [&](const std::string& canonical) {
    for (const auto& [k, from] : b.origin) {
      if (k == canonical) return from;
    }
    return text_path + hf_name_of(canonical);
  };
  const auto dot = e.field.find('.');
  const std::string head = e.field.substr(0, dot);
  if (!head.empty()) {
    e.field = hf_of(head) + (dot == std::string::npos ? "" : e.field.substr(dot));
  }
  // Longest names first, so that 'num_heads' never rewrites part of another name.
  std::vector<std::string> keys = arch_keys();
  std::sort(keys.begin(), keys.end(),
            [](const std::string& x, const std::string& y) { return x.size() > y.size(); });
  for (const auto& k : keys) {
    if (e.message.find("'" + k) == std::string::npos) continue;
    const std::string to = hf_of(k);
    replace_all(e.message, "'" + k + "'", "'" + to + "'");
    replace_all(e.message, "'" + k + ".", "'" + to + ".");
  }
  return e;
}

}  // namespace

result<hf_conversion> convert_hf_config(const json& root, const std::string& prefix) {
  const std::string object_field =
      prefix.empty() ? std::string("hf_config") : prefix.substr(0, prefix.size() - 1);
  if (!root.is_object()) {
    return make_error(error_code::invalid_argument,
                      "'" + object_field + "' must be a JSON object (a Hugging Face config.json)",
                      object_field);
  }
  errors err;
  builder b;
  const view outer(root, prefix, err);
  const auto outer_type_raw = outer.str_of("model_type");
  if (err.first) return *err.first;
  if (!outer_type_raw || outer_type_raw->empty()) {
    return make_error(error_code::invalid_argument,
                      "'" + outer.field("model_type") +
                          "' is required: the model_type of the config.json, e.g. \"llama\"",
                      outer.field("model_type"));
  }
  const std::string outer_type = to_lower(*outer_type_raw);

  // The language model's config: text_config for multimodal repositories, else the top level.
  const json* tc = outer.get("text_config");
  if (tc != nullptr && !tc->is_object()) {
    return make_error(error_code::invalid_argument,
                      "'" + outer.field("text_config") + "' must be an object",
                      outer.field("text_config"));
  }
  const bool nested = tc != nullptr;
  const view text(nested ? *tc : root, nested ? outer.field("text_config") + "." : prefix, err);
  std::string text_type = outer_type;
  if (nested)
    text_type = to_lower(text.str_of("model_type").value_or(default_text_type(outer_type)));
  const json* vc = outer.get("vision_config");
  const bool multimodal = nested || (vc != nullptr);

  const text_class* cls = find_text_class(text_type);
  const std::string rules = cls ? cls->rules : "generic";
  // Nested sub-configs are written as a diff against the class defaults; the top level states
  // every model-specific size (see the header).
  const bool use_defaults = nested && cls != nullptr && cls->has_defaults;

  std::string canonical_type = text_type;
  if (rules == "falcon") canonical_type = "falcon";  // RefinedWeb/RefinedWebModel are Falcon
  b.set("model_type", canonical_type, text.field("model_type"));
  if (multimodal) b.set("multimodal_model_type", outer_type, outer.field("model_type"));

  // Reads a size: the first alias present, else the class default (nested), else required.
  auto size = [&](const char* canonical, std::initializer_list<const char*> keys, u64 dflt,
                  bool required) -> std::optional<u64> {
    if (const char* k = text.first(keys)) {
      const auto v = text.u64_of(k);
      if (v) b.set(canonical, *v, text.field(k));
      return v;
    }
    const std::string f = text.field(*keys.begin());
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
  };
  auto flag = [&](const char* canonical, std::initializer_list<const char*> keys,
                  std::optional<bool> dflt) -> std::optional<bool> {
    if (const char* k = text.first(keys)) {
      const auto v = text.bool_of(k);
      if (v) b.set(canonical, *v, text.field(k));
      return v;
    }
    if (dflt) b.set(canonical, *dflt, text.field(*keys.begin()));
    return dflt;
  };
  const u64 d_vocab = cls ? cls->vocab : 0, d_hidden = cls ? cls->hidden : 0;
  const u64 d_layers = cls ? cls->layers : 0, d_heads = cls ? cls->heads : 0;

  // --- core sizes ------------------------------------------------------------------------------
  const auto layers = size("num_layers", {"num_hidden_layers", "n_layer", "n_layers", "num_layers"},
                           d_layers, true);
  const auto hidden =
      size("hidden_size", {"hidden_size", "n_embd", "d_model", "model_dim"}, d_hidden, true);
  size("num_heads", {"num_attention_heads", "n_head", "n_heads", "num_heads"}, d_heads, true);
  size("vocab_size", {"vocab_size", "padded_vocab_size", "n_vocab"}, d_vocab, true);
  if (err.first) return *err.first;

  // head_dim: the config's when set and > 0 (vLLM get_head_size), else the class default.
  if (const auto hd = text.u64_of("head_dim"); hd && *hd > 0 && rules != "deepseek") {
    b.set("head_dim", *hd, text.field("head_dim"));
  } else if (cls && cls->head_dim > 0 && rules != "deepseek" && !text.has_key("head_dim")) {
    b.set("head_dim", cls->head_dim, text.field("head_dim"));
  }

  // KV heads (vLLM get_total_num_kv_heads).
  if (rules == "falcon") {
    // RefinedWeb (Falcon-40B's first config) is the new decoder architecture.
    const bool new_arch =
        text.bool_of("new_decoder_architecture").value_or(text_type == "refinedweb");
    b.set("new_decoder_architecture", new_arch, text.field("new_decoder_architecture"));
    const bool multi_query = text.bool_of("multi_query").value_or(true);
    if (new_arch) {
      const char* k = text.first({"num_kv_heads", "n_head_kv"});
      if (k) {
        if (auto v = text.u64_of(k)) b.set("num_kv_heads", *v, text.field(k));
      } else {
        err.invalid(text.field("num_kv_heads"),
                    "'" + text.field("num_kv_heads") +
                        "' is required with new_decoder_architecture (Falcon 40B/180B)");
      }
    } else if (multi_query) {
      // multi_query without the new architecture: one KV head, whatever num_kv_heads says.
      b.set("num_kv_heads", 1, text.field("multi_query"));
    } else if (const char* k = text.first({"num_kv_heads", "n_head_kv"})) {
      if (auto v = text.u64_of(k)) b.set("num_kv_heads", *v, text.field(k));
    }
  } else if (rules == "mpt") {
    const json* ac = text.get("attn_config");
    if (ac != nullptr && !ac->is_object()) {
      err.invalid(text.field("attn_config"),
                  "'" + text.field("attn_config") + "' must be an object");
    } else if (ac != nullptr) {
      const view av(*ac, text.field("attn_config") + ".", err);
      if (auto v = av.u64_of("kv_n_heads")) b.set("num_kv_heads", *v, av.field("kv_n_heads"));
    }
  } else if (const char* k = text.first(
                 {"num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num"})) {
    if (auto v = text.u64_of(k)) b.set("num_kv_heads", *v, text.field(k));
  } else if (cls && cls->kv_heads > 0 && !text.has_key("num_key_value_heads")) {
    b.set("num_kv_heads", cls->kv_heads, text.field("num_key_value_heads"));
  }

  // --- feed-forward ----------------------------------------------------------------------------
  const u64 d_inter = cls ? cls->intermediate : 0;
  if (rules == "falcon") {
    // FalconConfig: ffn_hidden_size None -> 4 * hidden_size.
    const auto f = text.u64_of("ffn_hidden_size");
    b.set("intermediate_size", f.value_or(4 * hidden.value_or(0)), text.field("ffn_hidden_size"));
  } else if (rules == "mpt") {
    // MptConfig: expansion_ratio 4; the FFN is expansion_ratio * d_model.
    const auto r = text.u64_of("expansion_ratio");
    b.set("intermediate_size", r.value_or(4) * hidden.value_or(0), text.field("expansion_ratio"));
  } else if (rules == "llama4") {
    // Llama4TextConfig: intermediate_size 8192 is the expert size, intermediate_size_mlp 16384
    // the dense layers'.
    size("intermediate_size", {"intermediate_size_mlp"}, 16384, true);
    size("moe_intermediate_size", {"intermediate_size"}, d_inter, true);
  } else if (rules == "generic") {
    // Not required for MoE configs, nor for the GPT-style types whose FFN resolve_arch makes
    // 4 x hidden_size when the config has none (gpt2's n_inner None).
    const bool four_x = text_type == "gpt2" || text_type == "gpt_bigcode" || text_type == "gptj" ||
                        text_type == "codegen" || text_type == "bloom";
    size("intermediate_size", {"intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim"}, 0,
         !four_x && !text.first({"num_local_experts", "num_experts", "n_routed_experts"}));
  } else {
    size("intermediate_size", {"intermediate_size"}, d_inter, true);
  }
  if (err.first) return *err.first;

  // --- family flags (vLLM's model files) -------------------------------------------------------
  const bool layer_norm = rules == "falcon" || rules == "mpt" || rules == "gpt_neox" ||
                          rules == "phi" || rules == "stablelm";
  const bool plain_mlp =
      rules == "falcon" || rules == "mpt" || rules == "gpt_neox" || rules == "phi";
  if (rules != "generic") {
    b.set("norm", layer_norm ? "layer" : "rms", text.field("model_type"));
    b.set("mlp", plain_mlp ? "plain" : "gated", text.field("model_type"));
  }
  if (rules == "llama" || rules == "mistral" || rules == "mixtral" || rules == "gemma" ||
      rules == "gemma2" || rules == "gemma3" || rules == "deepseek" || rules == "llama4") {
    // q/k/v/o biases together (LlamaAttention bias=attention_bias); mlp_bias where the class has
    // it.
    flag("attention_bias", {"attention_bias"}, false);
    flag("mlp_bias", {"mlp_bias"}, false);
  } else if (rules == "qwen2" || rules == "qwen2_moe") {
    b.set("qkv_bias", true, text.field("model_type"));  // Qwen2: q/k/v biases, o_proj none
    b.set("attention_bias", false, text.field("model_type"));
  } else if (rules == "qwen3" || rules == "qwen3_moe") {
    flag("qkv_bias", {"attention_bias"}, false);
    b.set("attention_bias", false, text.field("attention_bias"));
  } else if (rules == "phi") {
    b.set("attention_bias", true, text.field("model_type"));
    b.set("mlp_bias", true, text.field("model_type"));
    b.set("parallel_attn", true, text.field("model_type"));
    b.set("partial_rotary_factor", text.f64_of("partial_rotary_factor").value_or(0.5),
          text.field("partial_rotary_factor"));
  } else if (rules == "phi3") {
    b.set("attention_bias", false, text.field("model_type"));
    if (auto p = text.f64_of("partial_rotary_factor"))
      b.set("partial_rotary_factor", *p, text.field("partial_rotary_factor"));
  } else if (rules == "falcon") {
    const bool bias = text.bool_of("bias").value_or(false);  // FalconConfig bias False: all linears
    b.set("attention_bias", bias, text.field("bias"));
    b.set("mlp_bias", bias, text.field("bias"));
    flag("parallel_attn", {"parallel_attn"}, true);
  } else if (rules == "mpt") {
    const bool no_bias = text.bool_of("no_bias").value_or(true);  // MptConfig no_bias True
    b.set("attention_bias", !no_bias, text.field("no_bias"));
    b.set("mlp_bias", !no_bias, text.field("no_bias"));
    b.set("tie_word_embeddings", true, text.field("model_type"));  // MPT's LM head is wte
  } else if (rules == "gpt_neox") {
    flag("attention_bias", {"attention_bias"}, true);
    b.set("mlp_bias", true, text.field("model_type"));
    flag("parallel_attn", {"use_parallel_residual"}, true);
    b.set("partial_rotary_factor", text.f64_of("rotary_pct").value_or(0.25),
          text.field("rotary_pct"));
  } else if (rules == "stablelm") {
    flag("qkv_bias", {"use_qkv_bias"}, false);
    flag("parallel_attn", {"use_parallel_residual"}, false);
    b.set("partial_rotary_factor", text.f64_of("partial_rotary_factor").value_or(0.25),
          text.field("partial_rotary_factor"));
  } else if (rules == "gpt_oss") {
    flag("attention_bias", {"attention_bias"}, true);
    b.set("mlp_bias", true, text.field("model_type"));  // expert and router biases
  } else {
    flag("attention_bias", {"attention_bias", "bias"}, std::nullopt);
    flag("mlp_bias", {"mlp_bias"}, std::nullopt);
    flag("qkv_bias", {"qkv_bias", "use_qkv_bias"}, std::nullopt);
    flag("parallel_attn", {"parallel_attn", "use_parallel_residual"}, std::nullopt);
    if (const char* k = text.first({"partial_rotary_factor", "rotary_pct"})) {
      if (auto p = text.f64_of(k)) b.set("partial_rotary_factor", *p, text.field(k));
    }
  }
  if (rules != "mpt") {
    // PretrainedConfig's tie_word_embeddings default is True unless the class overrides it.
    flag("tie_word_embeddings", {"tie_word_embeddings"}, cls ? cls->tie : true);
  }

  // --- mixture of experts ----------------------------------------------------------------------
  const auto set_u64 = [&](const char* canonical, const view& v, const char* key) {
    if (auto x = v.u64_of(key)) b.set(canonical, *x, v.field(key));
  };
  const auto moe_u64 = [&](const char* canonical, std::initializer_list<const char*> keys,
                           std::optional<u64> dflt) {
    if (const char* k = text.first(keys)) {
      set_u64(canonical, text, k);
    } else if (dflt && !text.has_key(*keys.begin())) {
      b.set(canonical, *dflt, text.field(*keys.begin()));
    }
  };
  // Dense layers listed in mlp_only_layers (Qwen MoE): expressible when they are the first k.
  const auto mlp_only_layers = [&]() {
    const json* v = text.get("mlp_only_layers");
    if (v == nullptr) return;
    const std::string f = text.field("mlp_only_layers");
    if (!v->is_array()) {
      err.invalid(f, "'" + f + "' must be an array of layer indices");
      return;
    }
    u64 k = 0;
    for (const auto& x : *v) {
      if (as_index(x) != k) {
        err.unsupported(f, "'" + f +
                               "' lists dense layers other than the first k; the calculator "
                               "models dense layers only as a leading block");
        return;
      }
      ++k;
    }
    if (k > 0) b.set("first_k_dense_replace", k, f);
  };
  if (rules == "mixtral") {
    // MixtralConfig / GraniteMoeConfig: num_local_experts 8, num_experts_per_tok 2; experts are
    // intermediate_size wide.
    moe_u64("num_experts", {"num_local_experts"}, 8);
    moe_u64("num_experts_per_tok", {"num_experts_per_tok"}, 2);
    if (b.has("intermediate_size")) {
      b.set("moe_intermediate_size", b.out["intermediate_size"], text.field("intermediate_size"));
    }
  } else if (rules == "qwen2_moe") {
    // Qwen2MoeConfig: num_experts 60, top-k 4, moe_intermediate_size 1408, one shared expert of
    // shared_expert_intermediate_size 5632, decoder_sparse_step 1.
    moe_u64("num_experts", {"num_experts"}, 60);
    moe_u64("num_experts_per_tok", {"num_experts_per_tok"}, 4);
    moe_u64("moe_intermediate_size", {"moe_intermediate_size"}, 1408);
    moe_u64("shared_expert_intermediate_size", {"shared_expert_intermediate_size"}, 5632);
    if (b.has("shared_expert_intermediate_size") &&
        b.out["shared_expert_intermediate_size"].get<u64>() > 0) {
      b.set("num_shared_experts", 1, text.field("shared_expert_intermediate_size"));
    }
    moe_u64("moe_layer_freq", {"decoder_sparse_step"}, std::nullopt);
    mlp_only_layers();
  } else if (rules == "qwen3_moe") {
    // Qwen3MoeConfig: num_experts 128, top-k 8, moe_intermediate_size 768, no shared expert.
    // (Qwen3-VL's MoE text config: no defaults pinned down here, the keys are required.)
    const bool known = cls != nullptr && cls->has_defaults;
    moe_u64("num_experts", {"num_experts"}, known ? std::optional<u64>(128) : std::nullopt);
    moe_u64("num_experts_per_tok", {"num_experts_per_tok"},
            known ? std::optional<u64>(8) : std::nullopt);
    moe_u64("moe_intermediate_size", {"moe_intermediate_size"},
            known ? std::optional<u64>(768) : std::nullopt);
    moe_u64("moe_layer_freq", {"decoder_sparse_step"}, std::nullopt);
    mlp_only_layers();
  } else if (rules == "deepseek") {
    // DeepseekV3Config: 256 routed experts, top-8, moe_intermediate_size 2048, 1 shared expert,
    // first_k_dense_replace 3. DeepseekV2Config: n_routed_experts None (dense), moe 1407.
    const bool v3 = text_type != "deepseek_v2";
    moe_u64("num_experts", {"n_routed_experts"}, v3 ? std::optional<u64>(256) : std::nullopt);
    moe_u64("num_experts_per_tok", {"num_experts_per_tok"},
            v3 ? std::optional<u64>(8) : std::nullopt);
    moe_u64("moe_intermediate_size", {"moe_intermediate_size"}, v3 ? 2048 : 1407);
    moe_u64("num_shared_experts", {"n_shared_experts"}, v3 ? std::optional<u64>(1) : std::nullopt);
    moe_u64("first_k_dense_replace", {"first_k_dense_replace"}, v3 ? 3 : 0);
    moe_u64("moe_layer_freq", {"moe_layer_freq"}, std::nullopt);
    // MLA: kv_lora_rank 512, q_lora_rank 1536 (null: no q compression), qk_rope_head_dim 64,
    // qk_nope_head_dim 128, v_head_dim 128.
    moe_u64("kv_lora_rank", {"kv_lora_rank"}, 512);
    if (!text.has_key("q_lora_rank")) {
      b.set("q_lora_rank", 1536, text.field("q_lora_rank"));
    } else {
      moe_u64("q_lora_rank", {"q_lora_rank"}, std::nullopt);
    }
    moe_u64("qk_rope_head_dim", {"qk_rope_head_dim"}, 64);
    moe_u64("qk_nope_head_dim", {"qk_nope_head_dim"}, 128);
    moe_u64("v_head_dim", {"v_head_dim"}, 128);
  } else if (rules == "gpt_oss") {
    // GptOssConfig: num_local_experts 128, experts_per_token 4; experts are intermediate_size
    // (2880) wide.
    moe_u64("num_experts", {"num_local_experts"}, 128);
    moe_u64("num_experts_per_tok", {"num_experts_per_tok", "experts_per_token"}, 4);
    if (b.has("intermediate_size")) {
      b.set("moe_intermediate_size", b.out["intermediate_size"], text.field("intermediate_size"));
    }
  } else if (rules == "llama4") {
    // Llama4TextConfig: 16 local experts, top-1, one shared expert of the expert size,
    // interleave_moe_layer_step 1 (moe_layers derived from it when absent).
    moe_u64("num_experts", {"num_local_experts"}, 16);
    moe_u64("num_experts_per_tok", {"num_experts_per_tok"}, 1);
    b.set("num_shared_experts", 1, text.field("model_type"));
    u64 step = text.u64_of("interleave_moe_layer_step").value_or(1);
    if (const json* ml = text.get("moe_layers"); ml != nullptr && layers) {
      // Llama4TextConfig: moe_layers defaults to range(step - 1, num_hidden_layers, step); an
      // explicit list must have that form.
      const std::string f = text.field("moe_layers");
      bool regular = ml->is_array() && !ml->empty() && as_index((*ml)[0]).has_value();
      if (regular) {
        step = *as_index((*ml)[0]) + 1;
        u64 expect = step - 1;
        for (const auto& x : *ml) {
          regular = regular && as_index(x) == expect;
          expect += step;
        }
        regular = regular && expect - step < *layers && expect >= *layers;
      }
      if (!regular) {
        err.unsupported(f, "'" + f +
                               "' is not every n-th layer; irregular MoE layer sets are not "
                               "modelled");
      }
    }
    if (step > 1) b.set("moe_layer_freq", step, text.field("interleave_moe_layer_step"));
    // Chunked local attention on all but every no_rope_layer_interval-th layer.
    if (!text.has_key("attention_chunk_size")) {
      b.set("attention_chunk_size", 8192, text.field("attention_chunk_size"));
    } else {
      set_u64("attention_chunk_size", text, "attention_chunk_size");
    }
    u64 interval = text.u64_of("no_rope_layer_interval").value_or(4);
    if (const json* nr = text.get("no_rope_layers");
        nr != nullptr && nr->is_array() && !nr->empty()) {
      // no_rope_layers[i] == 0 marks the global (NoPE) layers.
      u64 first_global = 0;
      while (first_global < nr->size() && (*nr)[first_global] != 0) ++first_global;
      interval = first_global + 1;
      for (u64 i = 0; i < nr->size(); ++i) {
        const bool global = (*nr)[i] == 0;
        if (global != ((i + 1) % interval == 0)) {
          err.unsupported(text.field("no_rope_layers"),
                          "'" + text.field("no_rope_layers") +
                              "' is not every n-th layer; irregular global layers are not "
                              "modelled");
          break;
        }
      }
    }
    b.set("no_rope_layer_interval", interval, text.field("no_rope_layer_interval"));
  } else if (rules == "generic") {
    moe_u64("num_experts",
            {"num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"},
            std::nullopt);
    moe_u64("num_experts_per_tok", {"num_experts_per_tok", "moe_top_k", "experts_per_token"},
            std::nullopt);
    moe_u64("moe_intermediate_size", {"moe_intermediate_size", "expert_intermediate_size"},
            std::nullopt);
    moe_u64("num_shared_experts", {"n_shared_experts", "num_shared_experts"}, std::nullopt);
    moe_u64("shared_expert_intermediate_size", {"shared_expert_intermediate_size"}, std::nullopt);
    moe_u64("first_k_dense_replace", {"first_k_dense_replace"}, std::nullopt);
    moe_u64("moe_layer_freq",
            {"moe_layer_freq", "decoder_sparse_step", "interleave_moe_layer_step"}, std::nullopt);
    for (const char* k :
         {"kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"}) {
      moe_u64(k, {k}, std::nullopt);
    }
  }
  if (err.first) return *err.first;

  // --- lengths and RoPE ------------------------------------------------------------------------
  {
    // vLLM _get_and_verify_max_len: the minimum over these keys; model_max_length overrides.
    std::optional<u64> len;
    std::string len_from;
    for (const char* k :
         {"max_position_embeddings", "n_positions", "max_seq_len", "seq_length",
          "max_target_positions", "max_sequence_length", "max_seq_length", "seq_len"}) {
      if (auto v = text.u64_of(k); v && *v > 0 && (!len || *v < *len)) {
        len = v;
        len_from = text.field(k);
      }
    }
    if (auto v = text.u64_of("model_max_length"); v && *v > 0) {
      len = v;
      len_from = text.field("model_max_length");
    }
    if (!len && cls && cls->max_pos > 0) {
      len = cls->max_pos;  // the class default max_position_embeddings
      len_from = text.field("max_position_embeddings");
    }
    if (len) b.set("max_position_embeddings", *len, len_from);
  }
  {
    const json* rope = text.get("rope_scaling");
    std::string rope_from = text.field("rope_scaling");
    const json* params = text.get("rope_parameters");  // transformers 5
    if (params != nullptr && params->is_object()) {
      const json* p = params;
      std::string pf = text.field("rope_parameters");
      if (!p->contains("rope_type") && p->contains("full_attention") &&
          (*p)["full_attention"].is_object()) {
        p = &(*p)["full_attention"];  // per-layer-type parameters (Gemma 3)
        pf += ".full_attention";
      }
      if (rope == nullptr) {
        rope = p;
        rope_from = pf;
      }
      if (p->contains("rope_theta") && (*p)["rope_theta"].is_number()) {
        b.set("rope_theta", (*p)["rope_theta"], pf + ".rope_theta");
      }
    }
    if (rope != nullptr) {
      if (!rope->is_object()) {
        err.invalid(rope_from, "'" + rope_from + "' must be an object or null");
      } else {
        const view rv(*rope, rope_from + ".", err);
        const char* tk = rv.first({"rope_type", "type"});
        const std::string type = tk ? to_lower(rv.str_of(tk).value_or("")) : "";
        if (!type.empty() && type != "default") {
          json r{{"rope_type", type}};
          if (const json* f = rv.get("factor")) r["factor"] = *f;
          if (const json* o = rv.get("original_max_position_embeddings")) {
            r["original_max_position_embeddings"] = *o;
          } else if (const json* top = text.get("original_max_position_embeddings")) {
            r["original_max_position_embeddings"] = *top;  // Phi-3 LongRoPE keeps it outside
          }
          b.set("rope_scaling", r, rope_from);
        }
      }
    }
    if (const char* k = text.first({"rope_theta", "rotary_emb_base"})) {
      if (auto t = text.f64_of(k)) b.set("rope_theta", *t, text.field(k));
    }
  }
  if (rules == "gemma2" || rules == "gemma3") {
    // final_logit_softcapping: Gemma2Config 30.0, Gemma3TextConfig None.
    if (auto s = text.f64_of("final_logit_softcapping")) {
      b.set("logit_softcapping", *s, text.field("final_logit_softcapping"));
    } else if (rules == "gemma2" && !text.has_key("final_logit_softcapping")) {
      b.set("logit_softcapping", 30.0, text.field("final_logit_softcapping"));
    }
  }
  if (err.first) return *err.first;

  // --- attention windows -----------------------------------------------------------------------
  {
    // The window and which layers use it. Class defaults: MistralConfig sliding_window 4096,
    // Gemma2Config 4096 on every other layer, Gemma3TextConfig 4096 with sliding_window_pattern
    // 6, GptOssConfig 128 on every other layer; Qwen's window is off unless use_sliding_window.
    u64 window = 0;  // 0: no sliding window
    std::string window_from = text.field("sliding_window");
    if (text.has("sliding_window")) {
      window = text.u64_of("sliding_window").value_or(0);
    } else if (!text.has_key("sliding_window")) {
      if (rules == "mistral" || rules == "gemma2" || rules == "gemma3") window = 4096;
      if (rules == "gpt_oss") window = 128;
    }
    const u64 n = layers.value_or(0);
    std::vector<bool> sliding(n, window > 0);
    std::string layout_from = window_from;
    if (rules == "gemma2" || rules == "gpt_oss") {
      for (u64 i = 0; i < n; ++i) sliding[i] = window > 0 && (i % 2 == 0);  // even layers slide
    }
    if (rules == "gemma3" || text.has("sliding_window_pattern")) {
      const u64 p = text.u64_of("sliding_window_pattern").value_or(6);
      if (p == 0) {
        err.invalid(text.field("sliding_window_pattern"),
                    "'" + text.field("sliding_window_pattern") + "' must be at least 1");
      }
      for (u64 i = 0; i < n && p > 0; ++i) sliding[i] = window > 0 && ((i + 1) % p != 0);
      layout_from = text.field("sliding_window_pattern");
    }
    // Qwen: use_sliding_window False switches the window off; when on, layers from
    // max_window_layers on slide (Qwen2Config max_window_layers 28).
    if (text.has_key("use_sliding_window") || rules == "qwen2" || rules == "qwen2_moe" ||
        rules == "qwen3" || rules == "qwen3_moe") {
      const bool on = text.bool_of("use_sliding_window").value_or(false);
      // max_window_layers defaults: 28 (Qwen2/Qwen2-MoE/Qwen3/Qwen3-MoE), 80 (Qwen2-VL text);
      // a config of another type with use_sliding_window slides on every layer.
      const bool qwen =
          rules == "qwen2" || rules == "qwen2_moe" || rules == "qwen3" || rules == "qwen3_moe";
      const u64 from =
          text.u64_of("max_window_layers")
              .value_or(!qwen ? 0 : (text_type.find("_vl") != std::string::npos ? 80 : 28));
      for (u64 i = 0; i < n; ++i) sliding[i] = on && window > 0 && i >= from;
      layout_from = text.field("max_window_layers");
    }
    if (const json* lt = text.get("layer_types")) {
      const std::string f = text.field("layer_types");
      if (!lt->is_array() || lt->size() != n) {
        err.invalid(f, "'" + f + "' must list one type per layer (" + std::to_string(n) +
                           " for num_hidden_layers)");
      } else {
        for (u64 i = 0; i < n; ++i) {
          const json& t = (*lt)[i];
          const std::string s = t.is_string() ? t.get<std::string>() : std::string();
          if (s == "sliding_attention") {
            sliding[i] = true;
          } else if (s == "full_attention" || s == "chunked_attention" ||
                     s == "linear_attention") {  // state layers: convert_state_layers
            sliding[i] = false;
          } else {
            err.unsupported(f, "'" + f + "' has layer type " + view::excerpt(t) + " (layer " +
                                   std::to_string(i) +
                                   "); only full, sliding and chunked attention are modelled");
            break;
          }
        }
        layout_from = f;
        if (window == 0 && std::find(sliding.begin(), sliding.end(), true) != sliding.end()) {
          err.invalid(window_from, "'" + f + "' has sliding_attention layers but '" + window_from +
                                       "' is not set");
        }
      }
    }
    const window_layout w = sliding_layout(sliding);
    if (!w.expressible) {
      err.unsupported(layout_from, "the sliding-window layers given by '" + layout_from +
                                       "' are not every layer nor all but every n-th layer; "
                                       "that layout is not modelled");
    } else if (w.any_sliding) {
      b.set("sliding_window", window, window_from);
      if (w.pattern > 0) b.set("sliding_window_pattern", w.pattern, layout_from);
    }
  }
  if (auto sl = convert_state_layers(nested ? *tc : root, text.field(""), layers.value_or(0))) {
    for (auto& [key, value, from] : *sl) b.set(key, std::move(value), from);
  } else {
    err.fail(sl.err());
  }
  if (err.first) return *err.first;

  // --- dtype, quantization, vision -------------------------------------------------------------
  {
    const char* k = text.first({"torch_dtype", "dtype"});
    const view* v = k ? &text : nullptr;
    if (k == nullptr && nested) {
      k = outer.first({"torch_dtype", "dtype"});
      v = k ? &outer : nullptr;
    }
    if (v != nullptr) {
      if (auto s = v->str_of(k)) b.set("torch_dtype", *s, v->field(k));
    }
  }
  if (const json* qc = outer.get("quantization_config")) {
    const std::string f = outer.field("quantization_config");
    json q = quantization_from_hf(*qc, f, err);
    if (err.first) return *err.first;
    b.set("quantization", q, f);
  }
  if (vc != nullptr) {
    const std::string f = outer.field("vision_config");
    if (!vc->is_object())
      return make_error(error_code::invalid_argument, "'" + f + "' must be an object", f);
    const view v(*vc, f + ".", err);
    std::string vtype = to_lower(v.str_of("model_type").value_or(default_vision_type(outer_type)));
    const vision_class* vcls = nullptr;
    for (const auto& c : kVisionClasses) {
      if (vtype == c.model_type) vcls = &c;
    }
    json vj = json::object();
    vj["type"] = vtype.empty() ? outer_type + " vision" : vtype;
    auto vsize = [&](const char* canonical, std::initializer_list<const char*> keys, u64 dflt) {
      if (const char* k = v.first(keys)) {
        if (auto x = v.u64_of(k)) vj[canonical] = *x;
      } else if (dflt > 0) {
        vj[canonical] = dflt;
      }
    };
    // Qwen2-VL's vision tower is embed_dim wide (its hidden_size is the projector output).
    vsize("hidden_size", {"embed_dim", "hidden_size", "width"}, vcls ? vcls->hidden : 0);
    vsize("num_layers", {"num_hidden_layers", "depth", "num_layers", "layers"},
          vcls ? vcls->layers : 0);
    vsize("num_heads", {"num_attention_heads", "num_heads", "heads"}, vcls ? vcls->heads : 0);
    vsize("patch_size", {"patch_size", "spatial_patch_size"}, vcls ? vcls->patch : 0);
    vsize("image_size", {"image_size"}, vcls ? vcls->image : 0);
    if (const char* k = v.first({"intermediate_size"})) {
      if (auto x = v.u64_of(k)) vj["intermediate_size"] = *x;
    } else if (auto r = v.f64_of("mlp_ratio"); r && vj.contains("hidden_size")) {
      vj["intermediate_size"] =
          static_cast<u64>(std::llround(*r * static_cast<double>(vj["hidden_size"].get<u64>())));
    } else if (vcls) {
      vj["intermediate_size"] = vcls->intermediate;
    }
    if (err.first) return *err.first;
    b.set("vision", vj, f);
  }
  if (err.first) return *err.first;

  // --- validate through the canonical parser and resolver --------------------------------------
  auto spec = parse_arch_spec(b.out, "");
  if (!spec) return translate(spec.err(), b, text.path());
  auto resolved = resolve_arch(*spec, "");
  if (!resolved) return translate(resolved.err(), b, text.path());
  hf_conversion out;
  out.spec = std::move(*spec);
  out.canonical = std::move(b.out);
  out.model_type = canonical_type;
  return out;
}

result<arch_spec> arch_from_hf_config(const json& config, const std::string& field_prefix) {
  auto c = convert_hf_config(config, field_prefix);
  if (!c) return c.err();
  return std::move(c->spec);
}

}  // namespace vllm_mem
