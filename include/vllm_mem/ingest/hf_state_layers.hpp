// ingest/hf_state_layers.hpp — the state layers of a hybrid Hugging Face config as canonical keys
// (data/schema.md `linear_attention`, `full_attention_interval`), apart from hf_config's rules
// tables.
//
// Contract: `convert_state_layers` reads the text config object `text` (its keys named in
// messages as `path` + key) and returns the canonical fields to set, each with the config field
// it came from; empty for a config without state layers. Gated DeltaNet (transformers
// Qwen3NextConfig, Qwen3.5): linear_num_key_heads, linear_num_value_heads, linear_key_head_dim,
// linear_value_head_dim, linear_conv_kernel_dim, mamba_ssm_dtype, full_attention_interval
// (default 4) or a `layer_types` list, which must be linear_attention layers with every n-th
// layer full_attention (otherwise an `unsupported` error naming layer_types). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

using state_layer_field = std::tuple<std::string, nlohmann::json, std::string>;  // key, value, from

result<std::vector<state_layer_field>> convert_state_layers(const nlohmann::json& text,
                                                            const std::string& path,
                                                            std::uint64_t num_layers);

}  // namespace vllm_mem
