// util/result.hpp — the core's error model.
//
// Contract: every fallible core function returns `result<T>`: either a value or an `error` with a
// code, a human-readable message that names the offending input and the rule it broke, and the
// request field it concerns (a dotted path such as "architecture.num_heads", empty when the error
// is not about one field). The core never throws for bad input; adapters map `error_code` to HTTP
// statuses and CLI exit codes. Thread-safety: plain values, no shared state.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vllm_mem {

enum class error_code {
  invalid_argument,  // the input breaks a documented rule (HTTP 400, CLI exit 2)
  not_found,         // a named thing (model, GPU) does not exist (HTTP 400/404, CLI exit 1)
  unsupported,       // valid input the calculator does not model (HTTP 400, CLI exit 1)
  out_of_range,      // arithmetic would overflow for this input (HTTP 400, CLI exit 1)
  forbidden,         // needs credentials we lack, e.g. a gated model (HTTP 403, CLI exit 1)
  unavailable,       // a service the answer depends on is unreachable (HTTP 424, CLI exit 1)
  internal,          // a bug; never expected (HTTP 500 without details, CLI exit 1)
};

struct error {
  error_code code = error_code::invalid_argument;
  std::string message;
  std::string field;
};

inline error make_error(error_code code, std::string message, std::string field = {}) {
  return error{code, std::move(message), std::move(field)};
}

template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  result(error e) : v_(std::move(e)) {}      // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const error& err() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, error> v_;
};

// result<void> stand-in.
struct ok_t {};
using status = result<ok_t>;
inline status ok_status() { return ok_t{}; }

}  // namespace vllm_mem
