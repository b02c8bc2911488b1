// safetensors_header_fuzz.cpp — a safetensors file's start as the Hub reader sees it: an 8-byte
// little-endian header length, the JSON header, then tensor data (the rest of the input). The
// header goes through add_safetensors_header; the same JSON also through the index and the Hub
// count readers and the request's `safetensors` decoder (safetensors.hpp).
// Invariants: no internal errors; an accepted header's per-dtype bytes sum to its total, and
// loaded plus skipped bytes never exceed the data after the header.
// fuzz-options: -max_len=8192 -dict=fuzz/json.dict
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "vllm_mem/ingest/safetensors.hpp"
#include "vllm_mem/util/json_limits.hpp"

using namespace vllm_mem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n < 2 || n > size - 8) return 0;  // the reader's own check (src/hub/hub.cpp)
  const std::string_view header = fuzz::as_text(data + 8, static_cast<std::size_t>(n));
  const std::uint64_t data_bytes = size - 8 - n;
  auto parsed = parse_json_strict(header);
  if (!parsed) return 0;
  const nlohmann::json& j = *parsed;

  // The layer count the reader takes from config.json; the last data byte picks one here.
  const std::uint64_t num_layers = data_bytes > 0 ? data[size - 1] % 64 : 0;
  checkpoint_size into;
  if (auto s = add_safetensors_header(j, data_bytes, "model.safetensors", num_layers, into); !s) {
    fuzz::check_error(s.err(), header);
  } else {
    std::uint64_t sum = 0;
    for (const auto& [dtype, bytes] : into.bytes_per_dtype) sum += bytes;
    if (sum != into.total_bytes) fuzz::fail("bytes_per_dtype does not sum to total_bytes", header);
    if (into.total_bytes + into.skipped_bytes > data_bytes)
      fuzz::fail("more tensor bytes than data after the header", header);
  }
  if (auto c = checkpoint_size_from_index(j, "index"); !c) fuzz::check_error(c.err(), header);
  if (auto f = safetensors_index_files(j, "index"); !f) fuzz::check_error(f.err(), header);
  if (auto c = checkpoint_size_from_hub_counts(j, "hub"); !c) fuzz::check_error(c.err(), header);
  if (auto c = parse_checkpoint_size(j, "safetensors"); !c) fuzz::check_error(c.err(), header);
  return 0;
}
