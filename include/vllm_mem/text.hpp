// text.hpp — small text helpers shared by the parsers: edit distance for "did you mean" hints,
// ASCII lower-casing and number formatting for messages. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vllm_mem {

std::string to_lower(std::string_view s);

// Levenshtein distance, case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name`, or empty when none is reasonably close.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

// Formats a double for a message without trailing zeros ("0.9", "1.5", "1e+30").
std::string format_number(double v);

}  // namespace vllm_mem
