// util/json_writer.cpp — compact JSON text, formatted exactly as nlohmann::json::dump formats it.
#include "vllm_mem/util/json_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

json_writer::json_writer(std::string& out) : out_(out) {
  // Write into the string's own storage: size it for a typical response, trim in finish().
  const std::size_t used = out_.size();
  out_.resize(used + 2048);
  p_ = out_.data() + used;
  end_ = out_.data() + out_.size();
}

void json_writer::finish() {
  out_.resize(static_cast<std::size_t>(p_ - out_.data()));
  end_ = p_;
}

void json_writer::grow(std::size_t n) {
  const std::size_t used = static_cast<std::size_t>(p_ - out_.data());
  out_.resize(std::max(2 * out_.size(), used + n + 1024));
  p_ = out_.data() + used;
  end_ = out_.data() + out_.size();
}

namespace {

bool plain(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (json_special_byte8(x)) return false;
  }
  for (; i < s.size(); ++i) {
    if (json_special_byte(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

json_writer& json_writer::string(std::string_view s) {
  if (!plain(s)) {
    // Escapes, UTF-8 and the replacement of invalid bytes: nlohmann's serializer itself.
    const std::string text = nlohmann::json(std::string(s))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    room(text.size() + 1);
    if (need_comma_) *p_++ = ',';
    std::memcpy(p_, text.data(), text.size());
    p_ += text.size();
    need_comma_ = true;
    return *this;
  }
  room(s.size() + 3);
  if (need_comma_) *p_++ = ',';
  *p_++ = '"';
  std::memcpy(p_, s.data(), s.size());
  p_ += s.size();
  *p_++ = '"';
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::u64(std::uint64_t v) {
  room(24);
  if (need_comma_) *p_++ = ',';
  p_ = std::to_chars(p_, end_, v).ptr;
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::i64(std::int64_t v) {
  room(24);
  if (need_comma_) *p_++ = ',';
  p_ = std::to_chars(p_, end_, v).ptr;
  need_comma_ = true;
  return *this;
}

namespace {

char* write_cents(char* p, double v) {
  // Most numbers of a response are k / 100.0 (values rounded to 2 decimals). For those, with
  // k < kCentsLimit, nlohmann's shortest form is the integer part, '.', and one or two decimals
  // (".0" for whole numbers): printed from k directly, it is the same text (a unit test compares
  // it with nlohmann's formatter over that range). Anything else is left to nlohmann.
  constexpr std::uint64_t kCentsLimit = 100000000;
  const double a = std::signbit(v) ? -v : v;
  if (!(a < static_cast<double>(kCentsLimit) / 100.0)) return nullptr;
  const auto k = static_cast<std::uint64_t>(std::llround(a * 100.0));
  if (static_cast<double>(k) / 100.0 != a) return nullptr;
  if (std::signbit(v)) *p++ = '-';
  p = std::to_chars(p, p + 24, k / 100).ptr;
  *p++ = '.';
  const auto cents = static_cast<char>(k % 100);
  *p++ = static_cast<char>('0' + cents / 10);
  if (cents % 10 != 0) *p++ = static_cast<char>('0' + cents % 10);
  return p;
}

}  // namespace

json_writer& json_writer::f64(double v) {
  if (!std::isfinite(v)) return null();  // what nlohmann writes; the core only makes finite ones
  room(64);
  if (need_comma_) *p_++ = ',';
  if (char* end = write_cents(p_, v)) {
    p_ = end;
  } else {
    // nlohmann's own number formatter (Grisu2), so the text matches dump() byte for byte.
    p_ = nlohmann::detail::to_chars(p_, end_, v);
  }
  need_comma_ = true;
  return *this;
}

}  // namespace vllm_mem
