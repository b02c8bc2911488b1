// util/json_limits.cpp — a SAX pass that bounds the JSON before the DOM is built.
#include "vllm_mem/util/json_limits.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

class limit_checker : public nlohmann::json_sax<json> {
 public:
  explicit limit_checker(const json_limits& l) : limits_(l) {}
  std::string message;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& s) override { return check_string(s) && value(); }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) override { return open(true); }
  bool key(string_t& k) override {
    if (!check_string(k)) return false;
    auto& keys = keys_.back();
    if (!keys.insert(k).second) return fail("duplicate key '" + k.substr(0, 64) + "'");
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    std::string what = e.what();
    // nlohmann's messages look like "[json.exception.parse_error.101] parse error at line 1,
    // column 5: syntax error while parsing value - invalid literal; last read: 'x'".
    const auto colon = what.find("parse error");
    if (colon != std::string::npos) what = what.substr(colon);
    message = "malformed JSON at byte " + std::to_string(position) + ": " + what;
    return false;
  }

 private:
  bool fail(std::string m) {
    message = std::move(m);
    return false;
  }
  bool value() {
    if (++values_ > limits_.max_values)
      return fail("too many JSON values (limit " + std::to_string(limits_.max_values) + ")");
    return true;
  }
  bool check_string(const std::string& s) {
    if (s.size() > limits_.max_string_bytes) {
      return fail("a JSON string is longer than " + std::to_string(limits_.max_string_bytes) +
                  " bytes");
    }
    return true;
  }
  bool open(bool object) {
    if (!value()) return false;
    if (++depth_ > limits_.max_depth)
      return fail("JSON nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    if (object) keys_.emplace_back();
    kinds_.push_back(object);
    return true;
  }
  bool close() {
    --depth_;
    if (kinds_.back()) keys_.pop_back();
    kinds_.pop_back();
    return true;
  }
  const json_limits& limits_;
  std::size_t depth_ = 0;
  std::size_t values_ = 0;
  std::vector<std::set<std::string>> keys_;
  std::vector<bool> kinds_;
};

// The fast path: a strict recursive-descent reader for the JSON a client normally sends (ASCII
// strings without escapes, numbers that fit their type) that builds the DOM in one pass under the
// same limits. Whatever it does not accept (escapes, non-ASCII, a number nlohmann would turn
// into a double or reject, any error at all) falls back to the checked nlohmann path below, so
// every error message and every accepted document stays nlohmann's.
class fast_reader {
 public:
  fast_reader(std::string_view text, const json_limits& l)
      : p_(text.data()), end_(text.data() + text.size()), limits_(l) {}

  bool read(json& out) {
    skip_ws();
    if (!value(out, 0)) return false;
    skip_ws();
    return p_ == end_;
  }

 private:
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool value(json& out, std::size_t depth) {
    if (p_ == end_ || ++values_ > limits_.max_values) return false;
    switch (*p_) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        return literal("true", out, json(true));
      case 'f':
        return literal("false", out, json(false));
      case 'n':
        return literal("null", out, json(nullptr));
      default:
        return number(out);
    }
  }

  bool literal(std::string_view word, json& out, json v) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    out = std::move(v);
    return true;
  }

  bool string(std::string& out) {
    const char* start = ++p_;
    while (end_ - p_ >= 8) {
      std::uint64_t x;
      std::memcpy(&x, p_, 8);
      if (json_special_byte8(x)) break;
      p_ += 8;
    }
    while (p_ != end_ && !json_special_byte(static_cast<unsigned char>(*p_))) ++p_;
    if (p_ == end_ || *p_ != '"') return false;  // escapes, control or non-ASCII bytes: fall back
    const auto n = static_cast<std::size_t>(p_ - start);
    if (n > limits_.max_string_bytes) return false;
    out.assign(start, n);
    ++p_;
    return true;
  }

  bool number(json& out) {
    // RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (!is_float) {
      // nlohmann: unsigned when there is no sign, signed otherwise; out of range becomes a
      // double there, and falls back here.
      if (negative) {
        std::int64_t v = 0;
        const auto r = std::from_chars(start, p_, v);
        if (r.ec != std::errc{} || r.ptr != p_) return false;
        out = v;
      } else {
        std::uint64_t v = 0;
        const auto r = std::from_chars(start, p_, v);
        if (r.ec != std::errc{} || r.ptr != p_) return false;
        out = v;
      }
      return true;
    }
    double v = 0;
    const auto r = std::from_chars(start, p_, v);  // correctly rounded, as strtod
    if (r.ec != std::errc{} || r.ptr != p_ || !std::isfinite(v)) return false;
    out = v;
    return true;
  }

  bool object(json& out, std::size_t depth) {
    if (depth > limits_.max_depth) return false;
    ++p_;
    out = json::object();
    auto& members = *out.get_ptr<json::object_t*>();
    skip_ws();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      std::string k;
      if (!string(k)) return false;
      skip_ws();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      auto [it, inserted] = members.emplace(std::move(k), json());
      if (!inserted) return false;  // duplicate key: the checked path names it
      if (!value(it->second, depth)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  bool array(json& out, std::size_t depth) {
    if (depth > limits_.max_depth) return false;
    ++p_;
    out = json::array();
    auto& items = *out.get_ptr<json::array_t*>();
    skip_ws();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      items.emplace_back();
      if (!value(items.back(), depth)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  const char* p_;
  const char* end_;
  const json_limits& limits_;
  std::size_t values_ = 0;
};

}  // namespace

bool parse_json_fast(std::string_view text, const json_limits& limits, json& out) {
  return fast_reader(text, limits).read(out);
}

result<json> parse_json_strict(std::string_view text, const json_limits& limits) {
  if (json fast; parse_json_fast(text, limits, fast)) return fast;
  limit_checker checker(limits);
  const bool ok =
      json::sax_parse(text.begin(), text.end(), &checker, json::input_format_t::json, true);
  if (!ok) {
    return make_error(error_code::invalid_argument,
                      checker.message.empty() ? std::string("malformed JSON") : checker.message,
                      "body");
  }
  return json::parse(text, nullptr, false);
}

}  // namespace vllm_mem
