// util/text.cpp — helpers for names and messages.
#include "vllm_mem/util/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace vllm_mem {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::size_t edit_distance(std::string_view a_in, std::string_view b_in) {
  const std::string a = to_lower(a_in), b = to_lower(b_in);
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Accept a hint when at most ~40% of the longer name differs, or one is a prefix of the other.
  const std::size_t longer = std::max(name.size(), best.size());
  const bool prefix = !best.empty() && !name.empty() &&
                      (to_lower(best).rfind(to_lower(name), 0) == 0 ||
                       to_lower(name).rfind(to_lower(best), 0) == 0);
  if (best.empty() || (best_d * 5 > longer * 2 && !prefix)) return {};
  return best;
}

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// printf's "%.2fT", "%.2fB" or "%.0fM", printed by std::to_chars with a precision, which is
// specified to give printf's digits (as format_g4 does), at a fraction of snprintf's cost (the
// planner's searches run many estimates of large models).
std::string billions(double params) {
  const char unit = params >= 1e12 ? 'T' : params >= 1e9 ? 'B' : 'M';
  const double v = unit == 'T' ? params / 1e12 : unit == 'B' ? params / 1e9 : params / 1e6;
  char buf[400];  // any finite double in fixed notation
  const auto r =
      std::to_chars(buf, buf + sizeof buf - 1, v, std::chars_format::fixed, unit == 'M' ? 0 : 2);
  if (r.ec != std::errc()) return "?";
  *r.ptr = unit;
  return std::string(buf, r.ptr + 1);
}

std::string format_g4(double v) {
  // Mostly k / 100 below 100 (0.9, 0.95): printed from k, it is %.4g's text (at most 4 digits,
  // all kept, trailing zeros dropped; a test compares the whole range with printf). Otherwise
  // std::to_chars with a precision, which is specified to print printf's digits.
  if (v > 0 && v < 100) {
    const auto k = static_cast<std::uint64_t>(std::llround(v * 100.0));
    if (static_cast<double>(k) / 100.0 == v) {
      std::string s = std::to_string(k / 100);
      if (k % 100 != 0) {
        s += '.';
        s += static_cast<char>('0' + k / 10 % 10);
        if (k % 10 != 0) s += static_cast<char>('0' + k % 10);
      }
      return s;
    }
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 4);
  return std::string(buf, r.ptr);
}

std::uint64_t name_index::hash(std::string_view s) {
  // 8 bytes at a time, each word mixed by a multiply (the names are short).
  std::uint64_t h = s.size() * 0x9E3779B97F4A7C15ULL;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 29;
  }
  if (i < s.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 29;
  }
  return h;
}

name_index::name_index(std::vector<std::string_view> names) : names_(std::move(names)) {
  unsigned bits = 4;
  while ((std::size_t{1} << bits) < 4 * names_.size()) ++bits;
  shift_ = 64 - bits;
  slots_.assign(std::size_t{1} << bits, -1);
  // Odd multipliers from a fixed sequence until the names land in distinct slots; a denser
  // table is never needed, so growing it is the fallback.
  std::uint64_t m = 0xC2B2AE3D27D4EB4FULL;
  for (int attempt = 0;; ++attempt) {
    mul_ = m | 1;
    std::fill(slots_.begin(), slots_.end(), -1);
    bool clash = false;
    for (std::size_t i = 0; i < names_.size() && !clash; ++i) {
      int& s = slots_[slot(names_[i])];
      if (s >= 0 && names_[static_cast<std::size_t>(s)] != names_[i]) clash = true;
      if (s < 0) s = static_cast<int>(i);
    }
    if (!clash) return;
    m = m * 6364136223846793005ULL + 1442695040888963407ULL;
    if (attempt % 64 == 63) {
      ++bits;
      shift_ = 64 - bits;
      slots_.assign(std::size_t{1} << bits, -1);
    }
  }
}

}  // namespace vllm_mem
