// util/checked_math.hpp — overflow-checked arithmetic on byte and element counts, in one place.
//
// Contract: sizes are std::uint64_t; a product or sum of them that does not fit 64 bits must
// never wrap silently. `checked_u64` accumulates: each operation returns the exact result while
// it fits and remembers an overflow otherwise (the caller reports it once, naming the input
// field). `saturating_mul`/`saturating_add` clamp to UINT64_MAX for comparisons ("does it fit?"),
// where "more than any memory" is the right answer. `kMaxByteCount` (2^60 bytes, 1 EiB) bounds
// every byte count the API reports: far above any real deployment, low enough that a few of them
// add up without overflow and convert to double exactly enough for GiB figures. Pure, constexpr.
#pragma once

#include <cstdint>
#include <limits>

namespace vllm_mem {

inline constexpr std::uint64_t kMaxByteCount = 1ULL << 60;

class checked_u64 {
 public:
  constexpr std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) overflow_ = true;
    return r;
  }
  constexpr std::uint64_t mul(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    return mul(mul(a, b), c);
  }
  constexpr std::uint64_t add(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) overflow_ = true;
    return r;
  }
  // Marks the accumulator as overflowed when `x` exceeds `max` (a documented bound).
  constexpr std::uint64_t at_most(std::uint64_t x, std::uint64_t max) {
    if (x > max) overflow_ = true;
    return x;
  }
  constexpr bool overflow() const { return overflow_; }

 private:
  bool overflow_ = false;
};

constexpr std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

}  // namespace vllm_mem
