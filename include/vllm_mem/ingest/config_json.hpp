// ingest/config_json.hpp — config.json text as Python writes it.
//
// Contract: Python's json module writes the floats nan, inf and -inf as the bare tokens NaN,
// Infinity and -Infinity (json.dump's allow_nan=True, the default; e.g. Nemotron-H's
// time_step_limit [0.0, Infinity]) and json.load reads them back; RFC 8259 JSON, and so
// parse_json_strict, has no such tokens.
//  * `python_nonfinite_to_null(text, member)` is `text` with each of those tokens outside strings
//    replaced by null, or nullopt when there is none to replace (the common case: no copy).
//    Infinity and -Infinity are padded with spaces, so byte offsets in later parse errors stay
//    those of the file; NaN becomes null, one byte longer. With a `member`, only the value of the
//    top-level object's member of that name (as written, without escapes) is relaxed: a request
//    body's hf_config, while the rest of the body stays strict.
//  * `parse_config_json(text, limits)`: parse_json_strict after that replacement over the whole
//    text. A non-finite number reads as null, which convert_hf_config takes as absent.
// Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

std::optional<std::string> python_nonfinite_to_null(std::string_view text,
                                                    std::string_view member = {});

result<nlohmann::json> parse_config_json(std::string_view text, const json_limits& limits = {});

}  // namespace vllm_mem
