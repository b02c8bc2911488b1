// ingest/name_estimate.hpp — parameter counts from model names and architectures from parameter
// counts (the seed's estimate for unknown models).
//
// Contract: `params_from_name` finds the size in a name ("Llama-2-13b-chat" -> 13e9,
// "Qwen1.5-1.8B" -> 1.8e9, "Mixtral-8x7B" -> 8 experts of 7e9, "opt-350m" -> 350e6), taking
// the largest size token, and ignoring version numbers and tokens glued to letters ("A3B").
// `arch_from_params` returns a Llama-style architecture (grouped-query attention with up to 8
// KV heads of 128, gated MLP of 3.5x hidden, 32000-token vocabulary) whose parameter count is
// close to `params`: depth by range, hidden size from the quadratic of the parameter equation,
// rounded to a multiple of 8 heads (heads and the 8 KV heads divide by tensor_parallel_size 1, 2,
// 4 and 8, as vLLM requires), then the depth solved again for that hidden size.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vllm_mem/model/architecture.hpp"

namespace vllm_mem {

struct name_size {
  double total_params = 0;
  std::uint64_t experts = 0;  // > 1 for "NxM" names
  double expert_params = 0;
  std::string text;  // the token that named it ("13b")
};

std::optional<name_size> params_from_name(std::string_view name);

arch_spec arch_from_params(double params, std::uint64_t experts = 0);

}  // namespace vllm_mem
