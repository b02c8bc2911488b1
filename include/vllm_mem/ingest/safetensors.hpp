// ingest/safetensors.hpp — the exact bytes of a checkpoint, from safetensors metadata.
//
// Contract: a safetensors file is an 8-byte little-endian header length, a JSON header mapping
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (plus an optional
// "__metadata__" object of strings), then the tensor data. These functions read the parsed
// header JSON (the caller does the I/O), a sharded checkpoint's model.safetensors.index.json, or
// the Hugging Face Hub's per-dtype parameter counts, and return the bytes per dtype and in total.
//  * `add_safetensors_header` checks every entry (known dtype, shape, offsets inside the data and
//    consistent with shape x dtype size, no two tensors overlapping) and adds it; tensors vLLM does
//    not load (decoder layers at or beyond `num_layers`, e.g. DeepSeek's multi-token-prediction
//    layer, and rotary_emb.inv_freq buffers) are counted in `skipped_bytes` instead.
//  * `checkpoint_size_from_index` takes metadata.total_size (no per-dtype split).
//  * `parse_checkpoint_size` decodes the API's `safetensors` request object:
//    {"total_bytes": N, "bytes_per_dtype": {"BF16": n, ...}} (either or both; they must agree).
// Errors are invalid_argument naming the file/field and the rule. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct checkpoint_size {
  std::uint64_t total_bytes = 0;
  std::map<std::string, std::uint64_t> bytes_per_dtype;  // empty when only a total is known
  std::uint64_t skipped_bytes = 0;                       // tensors vLLM does not load
  std::uint64_t tensors = 0;
  std::uint64_t files = 0;
};

// Bits per element of a safetensors dtype name ("BF16" -> 16, "F8_E4M3" -> 8, "F4" -> 4); 0 for
// an unknown name.
std::uint32_t safetensors_dtype_bits(std::string_view dtype);

// `data_bytes`: bytes after the header in the file (offsets are checked against it); `what` names
// the file in errors; `num_layers` (0: unknown) marks the decoder layers vLLM loads.
status add_safetensors_header(const nlohmann::json& header, std::uint64_t data_bytes,
                              const std::string& what, std::uint64_t num_layers,
                              checkpoint_size& into);

result<checkpoint_size> checkpoint_size_from_index(const nlohmann::json& index,
                                                   const std::string& what);

// The shard file names of an index's weight_map, sorted and unique; each is a plain file name
// (no directory part, ends in .safetensors), else an error.
result<std::vector<std::string>> safetensors_index_files(const nlohmann::json& index,
                                                         const std::string& what);

// The Hub API's "safetensors" object: {"parameters": {"BF16": count, ...}, "total": count}.
result<checkpoint_size> checkpoint_size_from_hub_counts(const nlohmann::json& safetensors,
                                                        const std::string& what);

result<checkpoint_size> parse_checkpoint_size(const nlohmann::json& j, const std::string& field);

// {"total_bytes": N, "bytes_per_dtype": {...}} (the request form; bytes_per_dtype only when known).
nlohmann::json to_json(const checkpoint_size& c);

}  // namespace vllm_mem
