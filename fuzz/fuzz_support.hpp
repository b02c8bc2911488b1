// fuzz_support.hpp — what the fuzz targets share: the embedded catalogs loaded once, and cheap
// invariant checks that abort() (so libFuzzer, or the replay test, reports the input) when the
// code under test breaks a promise of its contract rather than merely rejecting the input.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vllm_mem/ingest/catalogs.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz invariant violated: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(std::min<std::size_t>(detail.size(), 4000)),
               detail.data());
  std::abort();
}

inline const catalogs& embedded() {
  static const catalogs c = [] {
    auto r = load_embedded_catalogs();
    if (!r) fail("the embedded catalogs do not load", r.err().message);
    return std::move(*r);
  }();
  return c;
}

// An error the core returns for bad input says what is wrong; an `internal` error is a bug.
inline void check_error(const error& e, std::string_view input) {
  if (e.message.empty()) fail("an error without a message", input);
  if (e.code == error_code::internal) fail("an internal error: " + e.message, input);
}

// Keys whose value may legitimately be negative: vLLM's "Available KV cache memory", which is
// below zero when the model does not fit, and the signed margin past the start check
// (startup.hpp, docs/api.md).
inline bool may_be_negative(std::string_view key) {
  return key == "kv_cache_bytes" || key == "kv_cache_gib" || key == "margin_gib";
}

// A size, count or memory figure: must be a number (a NaN written as null would hide here).
inline bool is_size_key(std::string_view key) {
  auto ends = [&](std::string_view s) {
    return key.size() >= s.size() && key.substr(key.size() - s.size()) == s;
  };
  return ends("_gb") || ends("_gib") || ends("_bytes") || ends("_tokens");
}

// Every number in a response is finite and at most 2^60, sizes are numbers, and nothing is
// negative except the signed figures above.
inline void check_numbers(const nlohmann::json& j, std::string_view key, std::string_view input,
                          std::string_view body) {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      for (auto it = j.begin(); it != j.end(); ++it) check_numbers(*it, it.key(), input, body);
      return;
    case nlohmann::json::value_t::array:
      for (const auto& x : j) check_numbers(x, key, input, body);
      return;
    case nlohmann::json::value_t::number_float: {
      const double x = j.get<double>();
      if (!std::isfinite(x)) fail("a non-finite number under '" + std::string(key) + "'", body);
      if (x > 0x1p60) fail("a number over 2^60 under '" + std::string(key) + "'", input);
      if (x < 0 && !may_be_negative(key))
        fail("a negative number under '" + std::string(key) + "'", std::string(input));
      return;
    }
    case nlohmann::json::value_t::number_integer:
      if (j.get<std::int64_t>() < 0 && !may_be_negative(key))
        fail("a negative number under '" + std::string(key) + "'", std::string(input));
      return;
    case nlohmann::json::value_t::number_unsigned:
      // Byte counts stay below 2^60 (checked_math.hpp); a larger one has wrapped.
      if (j.get<std::uint64_t>() > (1ULL << 60))
        fail("a number over 2^60 under '" + std::string(key) + "'", std::string(input));
      return;
    case nlohmann::json::value_t::null:
      // The GPU catalog's one documented unknown: a GPU without a CUDA memory reading.
      if (is_size_key(key) && key != "cuda_total_gib")
        fail("null under the size '" + std::string(key) + "'", body);
      return;
    default:
      return;
  }
}

// An API answer (already parsed): an error is {"detail": a non-empty text, "field"}, anything
// else passes check_numbers.
inline void check_api_json(const nlohmann::json& j, int status, std::string_view input,
                           std::string_view body) {
  if (status >= 400) {
    const auto d = j.is_object() ? j.find("detail") : j.end();
    if (!j.is_object() || d == j.end() || !d->is_string() ||
        d->get_ref<const std::string&>().empty() || !j.contains("field"))
      fail("an error without {\"detail\", \"field\"}", body);
    return;
  }
  check_numbers(j, "", input, body);
}

}  // namespace vllm_mem::fuzz
