// util/json_limits.hpp — strict, bounded JSON parsing for request bodies.
//
// Contract: `parse_json_strict` parses `text` under the limits below (depth, string length,
// element count) and rejects duplicate object keys, so the DOM is bounded and unambiguous. The
// common request goes through a one-pass reader; anything it does not handle goes through a SAX
// pre-pass that enforces the limits and then nlohmann's parser, which give the error messages.
// NaN/Infinity, invalid UTF-8, trailing garbage and comments are rejected by the parser itself.
// Errors are invalid_argument with a message saying what and where (byte offset). Pure,
// thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct json_limits {
  std::size_t max_depth = 32;
  std::size_t max_string_bytes = 65536;
  std::size_t max_values = 100000;
};

result<nlohmann::json> parse_json_strict(std::string_view text, const json_limits& limits = {});

// The one-pass reader `parse_json_strict` tries first (exposed for tests). It accepts a subset of
// what parse_json_strict accepts (ASCII strings without escapes, integers that fit 64 bits,
// finite doubles) and builds the same DOM; false means "use the checked path", not "invalid".
bool parse_json_fast(std::string_view text, const json_limits& limits, nlohmann::json& out);

}  // namespace vllm_mem
