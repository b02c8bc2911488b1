// ingest/hf_config_multimodal.cpp — multimodal repositories: the text model a class nests in
// text_config when the config names none, torch_dtype inside or outside it, and vision_config as
// the canonical `vision` object (the vision classes' defaults fill what it omits).
#include <cmath>
#include <string>
#include <utility>

#include "hf_config_rules.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem::hf_rules {

namespace {

// The text model_type a multimodal class assumes when its text_config has none (the sub-config
// default of LlavaConfig, Gemma3Config, ...).
constexpr std::pair<const char*, const char*> kDefaultTextTypes[] = {
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

// The vision model_type a multimodal class assumes when its vision_config has none.
constexpr std::pair<const char*, const char*> kDefaultVisionTypes[] = {
    {"gemma3", "siglip_vision_model"},
    {"llava", "clip_vision_model"},
    {"llava_next", "clip_vision_model"},
    {"llava_next_video", "clip_vision_model"},
    {"mistral3", "pixtral"},
    {"llama4", "llama4_vision_model"},
};

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

// A vision size: the first alias present, else the class default.
struct vision_size {
  const char* canonical;
  key_list keys;
  u64 vision_class::*dflt;
};
// Qwen2-VL's vision tower is embed_dim wide (its hidden_size is the projector output).
constexpr vision_size kVisionSizes[] = {
    {"hidden_size", {"embed_dim", "hidden_size", "width"}, &vision_class::hidden},
    {"num_layers", {"num_hidden_layers", "depth", "num_layers", "layers"}, &vision_class::layers},
    {"num_heads", {"num_attention_heads", "num_heads", "heads"}, &vision_class::heads},
    {"patch_size", {"patch_size", "spatial_patch_size"}, &vision_class::patch},
    {"image_size", {"image_size"}, &vision_class::image},
    {"temporal_patch_size", {"temporal_patch_size"}, nullptr},
};

std::string default_vision_type(const std::string& outer) {
  for (const auto& [o, v] : kDefaultVisionTypes) {
    if (outer == o) return v;
  }
  return {};
}

const vision_class* find_vision_class(const std::string& type) {
  for (const auto& c : kVisionClasses) {
    if (type == c.model_type) return &c;
  }
  return nullptr;
}

}  // namespace

std::string default_text_type(const std::string& outer) {
  for (const auto& [o, t] : kDefaultTextTypes) {
    if (outer == o) return t;
  }
  return outer;
}

void read_dtype(reading& r) {
  const char* k = r.text.first({"torch_dtype", "dtype"});
  const view* v = k ? &r.text : nullptr;
  if (k == nullptr && r.nested) {
    k = r.outer.first({"torch_dtype", "dtype"});
    v = k ? &r.outer : nullptr;
  }
  if (v != nullptr) {
    if (auto s = v->str_of(k)) r.b.set("torch_dtype", *s, v->field(k));
  }
}

json vision_from_hf(const json& vc, const std::string& f, const std::string& outer_type,
                    errors& err) {
  const view v(vc, f + ".", err);
  const std::string vtype =
      to_lower(v.str_of("model_type").value_or(default_vision_type(outer_type)));
  const vision_class* vcls = find_vision_class(vtype);
  json vj = json::object();
  vj["type"] = vtype.empty() ? outer_type + " vision" : vtype;
  for (const auto& s : kVisionSizes) {
    const u64 dflt = vcls && s.dflt ? vcls->*s.dflt : 0;
    if (const char* k = v.first(s.keys)) {
      if (auto x = v.u64_of(k)) vj[s.canonical] = *x;
    } else if (dflt > 0) {
      vj[s.canonical] = dflt;
    }
  }
  if (const char* k = v.first({"intermediate_size"})) {
    if (auto x = v.u64_of(k)) vj["intermediate_size"] = *x;
  } else if (auto ratio = v.f64_of("mlp_ratio"); ratio && vj.contains("hidden_size")) {
    vj["intermediate_size"] =
        static_cast<u64>(std::llround(*ratio * static_cast<double>(vj["hidden_size"].get<u64>())));
  } else if (vcls) {
    vj["intermediate_size"] = vcls->intermediate;
  }
  return vj;
}

}  // namespace vllm_mem::hf_rules
