// api/external_model.cpp — validating Hub ids and attaching found models to requests.
#include "vllm_mem/api/external_model.hpp"

#include "vllm_mem/ingest/hf_config.hpp"

namespace vllm_mem {

namespace {

bool valid_part(std::string_view p) {
  if (p.empty() || p.size() > 96) return false;
  for (char c : p) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  if (p.front() == '.' || p.front() == '-' || p.back() == '.' || p.back() == '-') return false;
  return p.find("..") == std::string_view::npos && p.find("--") == std::string_view::npos;
}

}  // namespace

bool valid_hub_model_id(std::string_view id) {
  const auto slash = id.find('/');
  if (slash == std::string_view::npos) return false;
  return valid_part(id.substr(0, slash)) && valid_part(id.substr(slash + 1));
}

bool request_describes_model(const estimate_request& r) {
  if (r.hf_config || r.params_billions) return true;
  const auto& a = r.architecture;
  return a && a->num_layers && a->hidden_size && a->num_heads && a->vocab_size;
}

status attach_external_model(estimate_request& r, const external_model& m) {
  auto c = convert_hf_config(m.config, "hf_config.");
  if (!c) {
    error e = c.err();
    e.message = "the config.json of " + r.model_name + " (" + m.origin + "): " + e.message;
    return e;
  }
  r.hf_config = std::move(c->spec);
  r.hf_config_model_type = c->model_type;
  if (m.safetensors && !r.safetensors) r.safetensors = m.safetensors;
  r.model_origin = m.origin;
  return ok_status();
}

}  // namespace vllm_mem
