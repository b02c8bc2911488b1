// model/dtype.hpp — element types of weights, activations and the KV cache.
//
// Contract: sizes are in bits so that 4-bit types stay exact; byte counts are computed as
// elements * bits / 8 by callers with checked arithmetic. Parsing accepts the names users type
// (the seed's names and vLLM's aliases) and is case-insensitive. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vllm_mem {

enum class dtype : std::uint8_t { float32, float16, bfloat16, fp8, int8, int4 };

constexpr std::uint32_t dtype_bits(dtype t) {
  switch (t) {
    case dtype::float32:
      return 32;
    case dtype::float16:
      return 16;
    case dtype::bfloat16:
      return 16;
    case dtype::fp8:
      return 8;
    case dtype::int8:
      return 8;
    case dtype::int4:
      return 4;
  }
  return 16;
}

std::string_view dtype_name(dtype t);

// The `dtype` request field: float32/fp32/float, float16/fp16/half, bfloat16/bf16, int8, int4,
// fp8, and "auto" (returned as nullopt in `is_auto`).
struct dtype_choice {
  bool is_auto = false;
  dtype value = dtype::float16;
};
std::optional<dtype_choice> parse_dtype(std::string_view text);

// The `kv_cache_dtype` request field: the dtype names above plus vLLM's fp8, fp8_e4m3, fp8_e5m2.
std::optional<dtype_choice> parse_kv_cache_dtype(std::string_view text);

// Lower-cases ASCII; helper shared by all name parsers.
bool iequals(std::string_view a, std::string_view b);

}  // namespace vllm_mem
