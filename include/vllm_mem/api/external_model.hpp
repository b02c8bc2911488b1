// api/external_model.hpp — a model found outside the database (a local folder, the Hugging Face
// cache or the Hub) and how it enters an estimate request.
//
// Contract: the I/O that finds the files lives in src/hub; the core only sees its result, an
// `external_model` (config.json and, when found, the checkpoint's exact bytes).
//  * `valid_hub_model_id` accepts ORG/NAME ids as the Hub writes them: two parts of
//    [A-Za-z0-9._-], each 1..96 characters, not starting or ending with '.' or '-', without ".."
//    or "--". Only a valid id may be put into a URL or a cache path.
//  * `request_describes_model` is true when the request itself says what the model is
//    (hf_config, params_billions or an architecture with every required size); then no lookup is
//    needed.
//  * `attach_external_model` converts the config (hf_config.hpp) into the request's hf_config and
//    sets its safetensors bytes (unless the request gave its own); errors name the config's
//    origin and the field.
// Pure, thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/safetensors.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct external_model {
  nlohmann::json config;                       // config.json
  std::optional<checkpoint_size> safetensors;  // exact tensor bytes, when found
  std::string origin;  // where it came from ("Hugging Face cache /...", "https://.../org/name")
};

// Finds a model by Hub id (injected into the router and used by the CLI; implemented in src/hub).
using model_lookup = std::function<result<external_model>(std::string_view model_id)>;

bool valid_hub_model_id(std::string_view id);

bool request_describes_model(const estimate_request& r);

status attach_external_model(estimate_request& r, const external_model& m);

}  // namespace vllm_mem
