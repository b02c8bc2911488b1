// util/json_writer.hpp — appends compact JSON text to a std::string, without building a DOM.
//
// Contract: the text is byte-identical to nlohmann::json::dump(-1, ' ', false, replace) of the
// same values when the caller writes object keys in sorted (byte) order, as nlohmann's std::map
// objects print them: integers in decimal, doubles in nlohmann's shortest round-trip form
// (Grisu2, "2.0" for integral values; non-finite values, which the core never produces, become
// null as nlohmann writes them), strings with nlohmann's escaping. Keys must be plain ASCII
// names (letters, digits, '_'), as every key of the API is; they are copied without escaping.
// Commas are placed by the writer. The text is complete once the writer is destroyed (or after
// `finish()`). It is the one encoder of response bodies (estimate.hpp's `append_json`); tests
// check it against nlohmann by parsing and re-dumping. Not thread-safe per instance; no I/O.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vllm_mem {

class json_writer {
 public:
  explicit json_writer(std::string& out);
  ~json_writer() { finish(); }
  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }
  // An object key (a plain name, see above); the value written next belongs to it.
  json_writer& key(std::string_view k) {
    room(k.size() + 4);
    if (need_comma_) *p_++ = ',';
    *p_++ = '"';
    std::memcpy(p_, k.data(), k.size());
    p_ += k.size();
    *p_++ = '"';
    *p_++ = ':';
    need_comma_ = false;
    return *this;
  }

  json_writer& string(std::string_view s);
  json_writer& u64(std::uint64_t v);
  json_writer& i64(std::int64_t v);
  json_writer& f64(double v);
  json_writer& boolean(bool v) { return literal(v ? std::string_view("true") : "false"); }
  json_writer& null() { return literal("null"); }
  // A value that is already JSON text (written by nlohmann's dump, for rare parts).
  json_writer& raw(std::string_view json_text) { return literal(json_text); }

  // Trims the string to the text written so far (the destructor calls it).
  void finish();

 private:
  json_writer& open(char c) {
    room(2);
    if (need_comma_) *p_++ = ',';
    *p_++ = c;
    need_comma_ = false;
    return *this;
  }
  json_writer& close(char c) {
    room(1);
    *p_++ = c;
    need_comma_ = true;
    return *this;
  }
  json_writer& literal(std::string_view s) {
    room(s.size() + 1);
    if (need_comma_) *p_++ = ',';
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
    need_comma_ = true;
    return *this;
  }
  void room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) grow(n);
  }
  void grow(std::size_t n);

  std::string& out_;
  char* p_;
  char* end_;
  bool need_comma_ = false;
};

}  // namespace vllm_mem
