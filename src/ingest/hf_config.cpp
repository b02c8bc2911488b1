// ingest/hf_config.cpp — Hugging Face config.json -> canonical architecture (data/schema.md keys).
//
// The driver: picks the text model's config (text_config or the top level) and its class and
// family, runs the stages of hf_config_rules.hpp in order (the order in which values are recorded
// decides which HF field names them in errors; the first error wins), then validates the result
// through the canonical parser and resolver and names the HF fields in their errors. The rules
// per model_type are tables in hf_config_rules.cpp; the shared stages are in
// hf_config_layout.cpp, hf_config_multimodal.cpp and hf_config_quantization.cpp.
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/hf_state_layers.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "hf_config_rules.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

using namespace hf_rules;

// ---------------------------------------------------------------------------------------------
// Error translation: canonical names -> the HF fields they came from.

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

// The text model's stages, in order; false after an error (in err.first).
bool read_text_model(reading& r) {
  read_core_sizes(r);
  if (r.err.first) return false;
  read_head_dim(r);
  r.family.kv_heads(r);  // vLLM get_total_num_kv_heads
  r.family.ffn(r);
  if (r.err.first) return false;
  read_shape(r);
  r.family.biases(r);
  read_tie(r);
  read_mtp_layers(r);
  if (r.family.experts != nullptr) r.family.experts(r);
  if (r.err.first) return false;
  read_lengths(r);
  read_rope(r);
  read_softcap(r);
  if (r.err.first) return false;
  read_windows(r);
  if (r.err.first) return false;
  read_dtype(r);
  return true;
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
    // Appended, not "'" + field: GCC 12 at -O3 misreads that prepend as an overlapping copy
    // (-Wrestrict), which breaks the Release build of make bench.
    std::string msg = "'";
    msg += outer.field("model_type");
    msg += "' is required: the model_type of the config.json, e.g. \"llama\"";
    return make_error(error_code::invalid_argument, std::move(msg), outer.field("model_type"));
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
  const family_rules& family = find_family(cls ? cls->rules : "generic");
  // Nested sub-configs are written as a diff against the class defaults; the top level states
  // every model-specific size (see the header).
  const bool use_defaults = nested && cls != nullptr && cls->has_defaults;

  const std::string canonical_type = family.canonical_type ? family.canonical_type : text_type;
  b.set("model_type", canonical_type, text.field("model_type"));
  if (multimodal) b.set("multimodal_model_type", outer_type, outer.field("model_type"));

  reading r{outer, text, err, b, text_type, cls, family, nested, use_defaults, {}, {}};
  if (!read_text_model(r)) return *err.first;
  // Linear-attention / state-space layers (hf_state_layers.hpp).
  if (auto sl = convert_state_layers(nested ? *tc : root, text.field(""), r.layers.value_or(0))) {
    for (auto& [key, value, from] : *sl) b.set(key, std::move(value), from);
  } else {
    return sl.err();
  }
  if (const json* qc = outer.get("quantization_config")) {
    const std::string f = outer.field("quantization_config");
    json q = quantization_from_hf(*qc, f, err);
    if (err.first) return *err.first;
    // DeepseekV4FP8Config (deepseek_v4.py): the experts follow the config's expert_dtype, fp4
    // when absent (Mxfp4MoEMethod), fp8 blocks otherwise.
    if (text_type == "deepseek_v4" && q.is_object() && q.value("method", "") == "fp8_block") {
      const json* ed = text.get("expert_dtype");
      if (ed == nullptr || (ed->is_string() && ed->get<std::string>() == "fp4"))
        q["expert_method"] = "mxfp4";
    }
    b.set("quantization", q, f);
  }
  if (vc != nullptr) {
    const std::string f = outer.field("vision_config");
    if (!vc->is_object())
      return make_error(error_code::invalid_argument, "'" + f + "' must be an object", f);
    json v = vision_from_hf(*vc, f, outer_type, err);
    if (err.first) return *err.first;
    b.set("vision", v, f);
  }
  if (err.first) return *err.first;

  // Validate through the canonical parser and resolver.
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
