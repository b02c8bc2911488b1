// ingest/hf_state_layers.cpp — hybrid configs' state layers as canonical keys (issue 15).
#include "vllm_mem/ingest/hf_state_layers.hpp"

#include <utility>

namespace vllm_mem {

using json = nlohmann::json;

result<std::vector<state_layer_field>> convert_state_layers(const json& text,
                                                            const std::string& path,
                                                            std::uint64_t num_layers) {
  std::vector<state_layer_field> out;
  if (!text.is_object()) return out;
  auto bad = [&](const std::string& key, const std::string& what, error_code code) {
    return make_error(code, "'" + path + key + "' " + what, path + key);
  };
  if (!text.contains("linear_num_value_heads")) {
    // linear_attention layers of another kind (lightning, KDA, ...) are not modelled.
    const auto lt = text.find("layer_types");
    if (lt != text.end() && lt->is_array()) {
      for (const json& t : *lt) {
        if (t == "linear_attention") {
          return bad("layer_types",
                     "has linear_attention layers without the gated DeltaNet keys "
                     "(linear_num_value_heads, ...); only gated_delta_net state layers are "
                     "modelled from a config",
                     error_code::unsupported);
        }
      }
    }
    return out;
  }
  json la = {{"kind", "gated_delta_net"}};
  const std::pair<const char*, const char*> keys[] = {{"linear_num_key_heads", "num_key_heads"},
                                                      {"linear_num_value_heads", "num_value_heads"},
                                                      {"linear_key_head_dim", "key_head_dim"},
                                                      {"linear_value_head_dim", "value_head_dim"},
                                                      {"linear_conv_kernel_dim", "conv_kernel"}};
  for (const auto& [hf, canonical] : keys) {
    const auto it = text.find(hf);
    if (it == text.end() || it->is_null()) continue;
    if (!it->is_number_unsigned()) {
      return bad(hf, "must be a positive integer, got " + it->dump(), error_code::invalid_argument);
    }
    la[canonical] = it->get<std::uint64_t>();
  }
  if (const auto it = text.find("mamba_ssm_dtype"); it != text.end() && it->is_string()) {
    la["ssm_dtype"] = it->get<std::string>();
  }
  out.emplace_back("linear_attention", std::move(la), path + "linear_num_value_heads");
  std::uint64_t interval = 4;  // Qwen3NextConfig's default
  if (const auto it = text.find("full_attention_interval");
      it != text.end() && it->is_number_unsigned()) {
    interval = it->get<std::uint64_t>();
  }
  if (const auto lt = text.find("layer_types");
      lt != text.end() && lt->is_array() && !lt->empty()) {
    std::uint64_t first_full = 0;
    while (first_full < lt->size() && (*lt)[first_full] != "full_attention") ++first_full;
    interval = first_full + 1;
    for (std::uint64_t i = 0; i < lt->size(); ++i) {
      const bool full = (*lt)[i] == "full_attention";
      if (full != ((i + 1) % interval == 0) || (!full && (*lt)[i] != "linear_attention")) {
        return bad("layer_types",
                   "(layer " + std::to_string(i) + ") is not linear_attention layers with every " +
                       std::to_string(interval) +
                       "-th layer full_attention; that layout is not modelled",
                   error_code::unsupported);
      }
    }
  }
  if (num_layers > 0) {
    out.emplace_back("full_attention_interval", interval, path + "full_attention_interval");
  }
  return out;
}

}  // namespace vllm_mem
