// json_limits.cpp — a SAX pass that bounds the JSON before the DOM is built.
#include "vllm_mem/json_limits.hpp"

#include <set>
#include <string>
#include <vector>

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

}  // namespace

result<json> parse_json_strict(std::string_view text, const json_limits& limits) {
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
