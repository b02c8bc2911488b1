// api/vllm_flags.hpp — the flags of `vllm serve` that set no request field (vllm_flags.cpp), for
// the command-line reader (vllm_command.cpp).
#pragma once

#include <cstddef>
#include <string_view>

namespace vllm_mem {

struct other_flag {
  std::string_view name;  // without the leading dashes, e.g. "port", "tp"
  bool takes_value;
  const char* reason;  // what it does to GPU memory, or "does not change GPU memory"
};

// The flag named `name` (dashes, not underscores), or null.
const other_flag* find_other_flag(std::string_view name);
std::size_t other_flag_count();

}  // namespace vllm_mem
