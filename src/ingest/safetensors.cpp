// ingest/safetensors.cpp — checkpoint bytes from safetensors headers, indexes and Hub counts.
#include "vllm_mem/ingest/safetensors.hpp"

#include <algorithm>
#include <set>
#include <tuple>
#include <vector>

#include "vllm_mem/util/checked_math.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

// 1 PiB: far above any checkpoint, low enough that sums of a few of them cannot overflow.
constexpr std::uint64_t kMaxBytes = 1ULL << 50;
static_assert(kMaxBytes <= kMaxByteCount);

error bad(const std::string& field, std::string message) {
  return make_error(error_code::invalid_argument, std::move(message), field);
}

// A non-negative integer (parsed JSON stores it unsigned, JSON built in code signed).
std::optional<std::uint64_t> as_u64(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  return std::nullopt;
}

bool add_checked(std::uint64_t& acc, std::uint64_t x) {
  checked_u64 c;
  acc = c.at_most(c.add(acc, x), kMaxBytes);
  return !c.overflow();
}

// The decoder layer index in names such as "model.layers.61.mlp.experts.0.w1.weight" (also
// under "language_model." prefixes), or nullopt.
std::optional<std::uint64_t> layer_index(std::string_view name) {
  const std::string_view key = "layers.";
  std::size_t pos = name.find(key);
  while (pos != std::string_view::npos) {
    if (pos == 0 || name[pos - 1] == '.') {
      std::size_t i = pos + key.size();
      std::uint64_t n = 0;
      std::size_t digits = 0;
      while (i < name.size() && name[i] >= '0' && name[i] <= '9' && digits < 9) {
        n = n * 10 + static_cast<std::uint64_t>(name[i] - '0');
        ++i;
        ++digits;
      }
      if (digits > 0 && i < name.size() && name[i] == '.') return n;
    }
    pos = name.find(key, pos + 1);
  }
  return std::nullopt;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::uint32_t safetensors_dtype_bits(std::string_view d) {
  static const std::pair<std::string_view, std::uint32_t> table[] = {
      {"F64", 64},        {"I64", 64},       {"U64", 64},    {"F32", 32},      {"I32", 32},
      {"U32", 32},        {"F16", 16},       {"BF16", 16},   {"I16", 16},      {"U16", 16},
      {"F8_E4M3", 8},     {"F8_E5M2", 8},    {"F8_E8M0", 8}, {"F8_E4M3FN", 8}, {"I8", 8},
      {"U8", 8},          {"BOOL", 8},       {"F6_E2M3", 6}, {"F6_E3M2", 6},   {"F4", 4},
      {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}};
  for (const auto& [name, bits] : table) {
    if (d == name) return bits;
  }
  return 0;
}

status add_safetensors_header(const json& header, std::uint64_t data_bytes, const std::string& what,
                              std::uint64_t num_layers, checkpoint_size& into) {
  if (!header.is_object()) return bad(what, what + ": the safetensors header is not a JSON object");
  checkpoint_size add;
  // (begin, end, name) of every tensor with data: they must not overlap, else bytes count twice.
  std::vector<std::tuple<std::uint64_t, std::uint64_t, const std::string*>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const std::string where = what + ": tensor '" + name.substr(0, 120) + "'";
    const json& t = *it;
    if (!t.is_object() || !t.contains("dtype") || !t["dtype"].is_string() || !t.contains("shape") ||
        !t["shape"].is_array() || !t.contains("data_offsets") || !t["data_offsets"].is_array() ||
        t["data_offsets"].size() != 2) {
      return bad(what, where + " needs \"dtype\", \"shape\" and two \"data_offsets\"");
    }
    const std::string dtype = t["dtype"].get<std::string>();
    const std::uint32_t bits = safetensors_dtype_bits(dtype);
    if (bits == 0) return bad(what, where + " has unknown dtype '" + dtype.substr(0, 32) + "'");
    const json& off = t["data_offsets"];
    if (!as_u64(off[0]) || !as_u64(off[1])) {
      return bad(what, where + ": data_offsets must be non-negative integers");
    }
    const std::uint64_t begin = *as_u64(off[0]);
    const std::uint64_t end = *as_u64(off[1]);
    if (begin > end || end > data_bytes) {
      return bad(what, where + ": data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) + "] lie outside the " + std::to_string(data_bytes) +
                           " data bytes");
    }
    checked_u64 c;
    std::uint64_t elements = 1;
    for (const auto& d : t["shape"]) {
      const auto dim = as_u64(d);
      if (!dim) return bad(what, where + ": shape must hold non-negative integers");
      elements = c.mul(elements, *dim);
    }
    const std::uint64_t bytes = end - begin;
    const std::uint64_t expected = c.mul(elements, bits);
    if (c.overflow()) return bad(what, where + ": shape overflows");
    if (bits % 8 == 0 && expected / 8 != bytes) {
      return bad(what, where + ": " + std::to_string(bytes) + " data bytes do not match shape x " +
                           dtype + " (" + std::to_string(expected / 8) + " bytes)");
    }
    ++add.tensors;
    if (bytes > 0) ranges.emplace_back(begin, end, &name);
    const auto layer = layer_index(name);
    const bool skipped =
        (num_layers > 0 && layer && *layer >= num_layers) || ends_with(name, "rotary_emb.inv_freq");
    if (skipped) {
      if (!add_checked(add.skipped_bytes, bytes)) return bad(what, what + ": sizes overflow");
      continue;
    }
    if (!add_checked(add.total_bytes, bytes) || !add_checked(add.bytes_per_dtype[dtype], bytes)) {
      return bad(what, what + ": sizes overflow");
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    const auto& [b0, e0, n0] = ranges[i - 1];
    const auto& [b1, e1, n1] = ranges[i];
    if (b1 < e0) {
      return bad(what, what + ": tensor '" + n1->substr(0, 120) + "' (data_offsets [" +
                           std::to_string(b1) + ", " + std::to_string(e1) + "]) overlaps tensor '" +
                           n0->substr(0, 120) + "' ([" + std::to_string(b0) + ", " +
                           std::to_string(e0) + "])");
    }
  }
  if (!add_checked(into.total_bytes, add.total_bytes) ||
      !add_checked(into.skipped_bytes, add.skipped_bytes)) {
    return bad(what, what + ": sizes overflow");
  }
  for (const auto& [d, n] : add.bytes_per_dtype) {
    if (!add_checked(into.bytes_per_dtype[d], n)) return bad(what, what + ": sizes overflow");
  }
  into.tensors += add.tensors;
  into.files += 1;
  return ok_status();
}

result<checkpoint_size> checkpoint_size_from_index(const json& index, const std::string& what) {
  if (!index.is_object() || !index.contains("metadata") || !index["metadata"].is_object() ||
      !index["metadata"].contains("total_size")) {
    return bad(what, what + ": no metadata.total_size");
  }
  const json& t = index["metadata"]["total_size"];
  // Some writers store the total as a float (e.g. 15231233024.0).
  std::uint64_t total = 0;
  if (as_u64(t)) {
    total = *as_u64(t);
  } else if (t.is_number_float() && t.get<double>() >= 1 && t.get<double>() < 1e15 &&
             t.get<double>() == static_cast<double>(static_cast<std::uint64_t>(t.get<double>()))) {
    total = static_cast<std::uint64_t>(t.get<double>());
  } else {
    return bad(what, what + ": metadata.total_size must be a positive integer");
  }
  if (total == 0 || total > kMaxBytes) {
    return bad(what, what + ": metadata.total_size must be between 1 and 2^50");
  }
  checkpoint_size c;
  c.total_bytes = total;
  auto files = safetensors_index_files(index, what);
  c.files = files ? files->size() : 0;
  return c;
}

result<std::vector<std::string>> safetensors_index_files(const json& index,
                                                         const std::string& what) {
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    return bad(what, what + ": no weight_map object");
  }
  std::set<std::string> files;
  for (const auto& f : index["weight_map"]) {
    if (!f.is_string()) return bad(what, what + ": weight_map values must be file names");
    const std::string name = f.get<std::string>();
    const bool plain = !name.empty() && name.size() <= 255 && ends_with(name, ".safetensors") &&
                       name.find("..") == std::string::npos &&
                       std::all_of(name.begin(), name.end(), [](char ch) {
                         return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                                (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
                       });
    if (!plain) {
      return bad(what, what + ": weight_map names '" + name.substr(0, 80) +
                           "', not a plain .safetensors file name");
    }
    files.insert(name);
  }
  return std::vector<std::string>(files.begin(), files.end());
}

result<checkpoint_size> checkpoint_size_from_hub_counts(const json& s, const std::string& what) {
  if (!s.is_object() || !s.contains("parameters") || !s["parameters"].is_object() ||
      s["parameters"].empty()) {
    return bad(what, what + ": no safetensors.parameters object");
  }
  checkpoint_size c;
  for (auto it = s["parameters"].begin(); it != s["parameters"].end(); ++it) {
    const std::uint32_t bits = safetensors_dtype_bits(it.key());
    if (bits == 0 || bits % 8 != 0 || !as_u64(*it)) {
      return bad(what, what + ": cannot turn '" + it.key().substr(0, 32) + "' counts into bytes");
    }
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(*as_u64(*it), bits / 8, &bytes) ||
        !add_checked(c.total_bytes, bytes)) {
      return bad(what, what + ": sizes overflow");
    }
    c.bytes_per_dtype[it.key()] = bytes;
  }
  if (c.total_bytes == 0) return bad(what, what + ": the checkpoint holds no bytes");
  return c;
}

result<checkpoint_size> parse_checkpoint_size(const json& j, const std::string& field) {
  if (!j.is_object()) {
    return bad(field, "'" + field +
                          "' must be an object: {\"total_bytes\": N, \"bytes_per_dtype\": "
                          "{\"BF16\": n, ...}}");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "total_bytes" && it.key() != "bytes_per_dtype") {
      return bad(field + "." + it.key(), "unknown field '" + field + "." + it.key() +
                                             "'; use total_bytes and bytes_per_dtype");
    }
  }
  checkpoint_size c;
  std::uint64_t sum = 0;
  if (j.contains("bytes_per_dtype") && !j["bytes_per_dtype"].is_null()) {
    const std::string f = field + ".bytes_per_dtype";
    const json& m = j["bytes_per_dtype"];
    if (!m.is_object() || m.empty()) {
      return bad(f, "'" + f + "' must be a non-empty object of dtype -> bytes");
    }
    for (auto it = m.begin(); it != m.end(); ++it) {
      const std::string k = f + "." + it.key();
      if (safetensors_dtype_bits(it.key()) == 0) {
        return bad(
            k, "'" + k + "': unknown safetensors dtype (BF16, F16, F32, F8_E4M3, I32, U8, ...)");
      }
      const auto n = as_u64(*it);
      if (!n || *n > kMaxBytes) {
        return bad(k, "'" + k + "' must be a byte count between 0 and 2^50");
      }
      c.bytes_per_dtype[it.key()] = *n;
      if (!add_checked(sum, *n)) return bad(f, "'" + f + "' overflows");
    }
  }
  if (j.contains("total_bytes") && !j["total_bytes"].is_null()) {
    const std::string f = field + ".total_bytes";
    const json& t = j["total_bytes"];
    const auto n = as_u64(t);
    if (!n || *n == 0 || *n > kMaxBytes) {
      return bad(f, "'" + f + "' must be a byte count between 1 and 2^50");
    }
    c.total_bytes = *n;
    if (!c.bytes_per_dtype.empty() && sum != c.total_bytes) {
      return bad(f, "'" + f + "' (" + std::to_string(c.total_bytes) +
                        ") is not the sum of 'bytes_per_dtype' (" + std::to_string(sum) + ")");
    }
  } else {
    c.total_bytes = sum;
  }
  if (c.total_bytes == 0) {
    return bad(field + ".total_bytes", "'" + field + "' must give total_bytes or bytes_per_dtype");
  }
  return c;
}

json to_json(const checkpoint_size& c) {
  json j{{"total_bytes", c.total_bytes}};
  if (!c.bytes_per_dtype.empty()) j["bytes_per_dtype"] = c.bytes_per_dtype;
  return j;
}

}  // namespace vllm_mem
