// ingest/config_json.cpp — Python's NaN / Infinity / -Infinity tokens read as null.
#include "vllm_mem/ingest/config_json.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace vllm_mem {

namespace {

// The tokens Python's json.dump writes for non-finite floats, with what replaces each: null,
// padded to the token's length where it is longer than null.
struct nonfinite_token {
  std::string_view token;
  std::string_view replacement;
};
constexpr nonfinite_token kTokens[] = {
    {"NaN", "null"},
    {"Infinity", "null    "},
    {"-Infinity", "null     "},
};

const nonfinite_token* token_at(std::string_view text, std::size_t i) {
  for (const auto& t : kTokens) {
    if (text.compare(i, t.token.size(), t.token) == 0) return &t;
  }
  return nullptr;
}

// Walks the text outside strings, keeping the container depth and, at depth 1 of a top-level
// object, which member's value it is in.
class scanner {
 public:
  scanner(std::string_view text, std::string_view member)
      : text_(text), member_(member), relaxed_(member.empty()) {}

  std::optional<std::string> run() {
    for (std::size_t i = 0; i < text_.size(); ++i) {
      const char c = text_[i];
      if (c == '"') {
        i = string_end(i);
      } else if (c == 'N' || c == 'I' || c == '-') {
        if (const nonfinite_token* t = relaxed_ ? token_at(text_, i) : nullptr) {
          out_.append(text_.substr(copied_, i - copied_)).append(t->replacement);
          i += t->token.size() - 1;
          copied_ = i + 1;
          changed_ = true;
        }
      } else {
        structure(c);
      }
    }
    if (!changed_) return std::nullopt;
    out_.append(text_.substr(copied_));
    return std::move(out_);
  }

 private:
  // The index of the closing quote of the string opening at `open` (the text's end when it has
  // none); a key of the top-level object is remembered.
  std::size_t string_end(std::size_t open) {
    std::size_t j = open + 1;
    while (j < text_.size() && text_[j] != '"') j += text_[j] == '\\' ? 2 : 1;
    if (expect_key_) {
      key_ = text_.substr(open + 1, std::min(j, text_.size()) - open - 1);
      expect_key_ = false;
    }
    return j;
  }

  void structure(char c) {
    if (member_.empty()) return;  // everything is relaxed: no need to follow the structure
    switch (c) {
      case '{':
      case '[':
        if (depth_ == 0) top_object_ = c == '{';
        expect_key_ = ++depth_ == 1 && top_object_;
        break;
      case '}':
      case ']':
        if (depth_ > 0) --depth_;
        if (depth_ == 0) relaxed_ = false;
        break;
      case ',':
        if (depth_ == 1) {
          expect_key_ = top_object_;
          relaxed_ = false;
        }
        break;
      case ':':
        if (depth_ == 1 && top_object_) relaxed_ = key_ == member_;
        break;
      default:
        break;
    }
  }

  std::string_view text_;
  std::string_view member_;
  bool relaxed_;  // tokens here are replaced
  std::size_t depth_ = 0;
  bool top_object_ = false;
  bool expect_key_ = false;  // the next string is a key of the top-level object
  std::string_view key_;     // the current key of the top-level object
  std::string out_;
  std::size_t copied_ = 0;  // text_[0, copied_) is in out_
  bool changed_ = false;
};

}  // namespace

std::optional<std::string> python_nonfinite_to_null(std::string_view text,
                                                    std::string_view member) {
  if (text.find("NaN") == std::string_view::npos &&
      text.find("Infinity") == std::string_view::npos) {
    return std::nullopt;  // the common case, without a pass over the structure
  }
  return scanner(text, member).run();
}

result<nlohmann::json> parse_config_json(std::string_view text, const json_limits& limits) {
  if (const auto relaxed = python_nonfinite_to_null(text))
    return parse_json_strict(*relaxed, limits);
  return parse_json_strict(text, limits);
}

}  // namespace vllm_mem
