// util/text.hpp — small text helpers shared by the parsers: edit distance for "did you mean" hints,
// ASCII lower-casing and number formatting for messages. Pure, thread-safe.
#pragma once

#include <cstdint>
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

// printf's "%.4g" (vLLM flag values such as --gpu-memory-utilization 0.95), without printf.
std::string format_g4(double v);
// A parameter count as "8.03B", "1.10T" or "350M" (printf's %.2f / %.0f with the unit).
std::string billions(double params);

// A fixed set of names looked up in O(1): a hash of the whole name picks a slot and one comparison
// confirms it (the parsers' key tables; no scan over the candidates). The slot mapping is
// searched at construction until no two names share a slot. Immutable after construction and
// safe to share between threads.
class name_index {
 public:
  explicit name_index(std::vector<std::string_view> names);
  // The position of `name` in the constructor's list, or -1.
  int find(std::string_view name) const {
    const int i = slots_[slot(name)];
    return i >= 0 && names_[static_cast<std::size_t>(i)] == name ? i : -1;
  }

 private:
  std::size_t slot(std::string_view s) const {
    return static_cast<std::size_t>((hash(s) * mul_) >> shift_);
  }
  static std::uint64_t hash(std::string_view s);

  std::vector<std::string_view> names_;
  std::vector<int> slots_;  // index into names_, -1 when empty
  std::uint64_t mul_ = 0;
  unsigned shift_ = 0;
};

// True when one of the 8 bytes packed in `x` is below 0x20, at or above 0x80, '"' or '\': the
// bytes a JSON string cannot carry as they are (a SWAR test for the JSON reader and writer).
constexpr bool json_special_byte8(std::uint64_t x) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (x - 0x20 * ones) & ~x & highs;
  return ((x & highs) | below_space | has_zero(x ^ ('"' * ones)) | has_zero(x ^ ('\\' * ones))) !=
         0;
}
constexpr bool json_special_byte(unsigned char b) {
  return b < 0x20 || b >= 0x80 || b == '"' || b == '\\';
}

}  // namespace vllm_mem
