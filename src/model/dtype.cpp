// model/dtype.cpp — dtype names and parsing.
#include "vllm_mem/model/dtype.hpp"

#include <array>
#include <utility>

namespace vllm_mem {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view dtype_name(dtype t) {
  switch (t) {
    case dtype::float32:
      return "float32";
    case dtype::float16:
      return "float16";
    case dtype::bfloat16:
      return "bfloat16";
    case dtype::fp8:
      return "fp8";
    case dtype::int8:
      return "int8";
    case dtype::int4:
      return "int4";
  }
  return "float16";
}

namespace {
constexpr std::array<std::pair<std::string_view, dtype>, 12> kDtypeNames{{
    {"float32", dtype::float32},
    {"fp32", dtype::float32},
    {"float", dtype::float32},
    {"float16", dtype::float16},
    {"fp16", dtype::float16},
    {"half", dtype::float16},
    {"bfloat16", dtype::bfloat16},
    {"bf16", dtype::bfloat16},
    {"int8", dtype::int8},
    {"int4", dtype::int4},
    {"fp8", dtype::fp8},
    {"float8", dtype::fp8},
}};
}  // namespace

std::optional<dtype_choice> parse_dtype(std::string_view text) {
  if (iequals(text, "auto")) return dtype_choice{true, dtype::float16};
  for (const auto& [name, t] : kDtypeNames) {
    if (iequals(text, name)) return dtype_choice{false, t};
  }
  return std::nullopt;
}

std::optional<dtype_choice> parse_kv_cache_dtype(std::string_view text) {
  // vLLM's cache dtypes (fp8 = fp8_e4m3 on CUDA); all fp8 variants take one byte per element.
  if (iequals(text, "fp8_e4m3") || iequals(text, "fp8_e5m2") || iequals(text, "fp8_inc")) {
    return dtype_choice{false, dtype::fp8};
  }
  return parse_dtype(text);
}

}  // namespace vllm_mem
