// server_options.cpp — the settings table and the parsers of flag and environment values.
#include "server_options.hpp"

#include <charconv>
#include <limits>

namespace vllm_mem::http {

namespace {

// `'text' rule`. Built by appending: GCC 12's -Wrestrict misfires on `"'" + std::string(...)` at
// -O3 (the Release build of make bench).
std::string quoted(std::string_view text, std::string_view rule) {
  std::string s = "'";
  s.append(text);
  s += "' ";
  s.append(rule);
  return s;
}

// A whole decimal number in [lo, hi]; "" or the reason.
std::string parse_uint(std::string_view text, std::uint64_t lo, std::uint64_t hi,
                       std::uint64_t& out) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return quoted(text, "is not a whole number");
  if (v < lo || v > hi)
    return std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]";
  out = v;
  return {};
}

// Seconds with up to three decimals ("10", "0.25") into milliseconds, in (0, 86400] s.
std::string parse_seconds(std::string_view text, std::chrono::milliseconds& out) {
  const std::string bad = quoted(text, "is not a number of seconds (e.g. 10 or 0.5)");
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 6 || frac.size() > 3 ||
      (dot != std::string_view::npos && frac.empty()))
    return bad;
  std::uint64_t ms = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad;
    ms = ms * 10 + static_cast<std::uint64_t>(c - '0');
  }
  ms *= 1000;
  std::uint64_t scale = 100;
  for (char c : frac) {
    if (c < '0' || c > '9') return bad;
    ms += static_cast<std::uint64_t>(c - '0') * scale;
    scale /= 10;
  }
  if (ms == 0 || ms > 86400 * 1000ULL) return std::string(text) + " is not in (0, 86400] seconds";
  out = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
  return {};
}

std::string parse_switch(std::string_view text, bool& out) {
  for (std::string_view t : {"1", "true", "yes", "on"}) {
    if (text == t) {
      out = true;
      return {};
    }
  }
  for (std::string_view f : {"0", "false", "no", "off", ""}) {
    if (text == f) {
      out = false;
      return {};
    }
  }
  return quoted(text, "is not one of 1, 0, true, false, yes, no, on, off");
}

template <typename T>
std::string set_uint(std::string_view text, std::uint64_t lo, std::uint64_t hi, T& field) {
  std::uint64_t v = 0;
  std::string err = parse_uint(text, lo, hi, v);
  if (err.empty()) field = static_cast<T>(v);
  return err;
}

constexpr std::uint64_t kMaxUnsigned = std::numeric_limits<unsigned>::max();

}  // namespace

const std::vector<server_setting>& server_settings() {
  static const std::vector<server_setting> settings{
      {"--host", "VLLM_MEM_HOST", "address to listen on (default 127.0.0.1)", false},
      {"--port", "VLLM_MEM_PORT", "port, 0 for any free one (default 8000)", false},
      {"--threads", "VLLM_MEM_THREADS", "I/O threads (default 0: one per core)", false},
      {"--body-limit-bytes", "VLLM_MEM_BODY_LIMIT_BYTES",
       "largest request body after de-chunking, else 413 (default 65536)", false},
      {"--header-limit-bytes", "VLLM_MEM_HEADER_LIMIT_BYTES",
       "largest request header with the request line, else 431 (default 8192)", false},
      {"--target-limit-bytes", "VLLM_MEM_TARGET_LIMIT_BYTES",
       "longest request target (path and query), else 414 (default 4096)", false},
      {"--request-timeout", "VLLM_MEM_REQUEST_TIMEOUT_SECONDS",
       "seconds to receive a whole request, else 408 (default 10)", false},
      {"--idle-timeout", "VLLM_MEM_IDLE_TIMEOUT_SECONDS",
       "seconds a kept-alive connection may wait for and receive its next request (default 10)",
       false},
      {"--send-timeout", "VLLM_MEM_SEND_TIMEOUT_SECONDS",
       "seconds to send a response before the connection is closed (default 10)", false},
      {"--shutdown-timeout", "VLLM_MEM_SHUTDOWN_TIMEOUT_SECONDS",
       "seconds requests in flight may take after SIGTERM/SIGINT (default 5)", false},
      {"--max-requests-per-connection", "VLLM_MEM_MAX_REQUESTS_PER_CONNECTION",
       "requests on one connection before Connection: close (default 1000)", false},
      {"--max-connections", "VLLM_MEM_MAX_CONNECTIONS",
       "concurrent connections; more are answered 503 and closed (default 10000)", false},
      {"--log-level", "VLLM_MEM_LOG_LEVEL",
       "quiet, error, info (start-up/shutdown lines; access lines with --access-log) or debug "
       "(always access lines) (default info)",
       false},
      {"--access-log", "VLLM_MEM_ACCESS_LOG", "one JSON line per request on stderr", true},
  };
  return settings;
}

std::string apply_setting(server_options& opt, const server_setting& s, std::string_view text) {
  const std::string_view f = s.flag;
  if (f == "--host") {
    if (text.empty()) return "the address is empty";
    opt.host = std::string(text);
    return {};
  }
  if (f == "--port") return set_uint(text, 0, 65535, opt.port);
  if (f == "--threads") return set_uint(text, 0, 1024, opt.threads);
  if (f == "--body-limit-bytes") return set_uint(text, 1, 1ULL << 30, opt.body_limit_bytes);
  if (f == "--header-limit-bytes") return set_uint(text, 1024, 1ULL << 20, opt.header_limit_bytes);
  if (f == "--target-limit-bytes") return set_uint(text, 16, 1ULL << 20, opt.target_limit_bytes);
  if (f == "--request-timeout") return parse_seconds(text, opt.request_timeout);
  if (f == "--idle-timeout") return parse_seconds(text, opt.idle_timeout);
  if (f == "--send-timeout") return parse_seconds(text, opt.send_timeout);
  if (f == "--shutdown-timeout") return parse_seconds(text, opt.shutdown_timeout);
  if (f == "--max-requests-per-connection")
    return set_uint(text, 1, kMaxUnsigned, opt.max_requests_per_connection);
  if (f == "--max-connections") return set_uint(text, 1, 1000000, opt.max_connections);
  if (f == "--log-level") {
    for (log_level l : {log_level::quiet, log_level::error, log_level::info, log_level::debug}) {
      if (text == log_level_name(l)) {
        opt.level = l;
        return {};
      }
    }
    return quoted(text, "is not one of quiet, error, info, debug");
  }
  if (f == "--access-log") return parse_switch(text, opt.access_log);
  std::string unknown = "unknown setting ";
  unknown.append(f);
  return unknown;
}

std::string_view log_level_name(log_level l) {
  switch (l) {
    case log_level::quiet:
      return "quiet";
    case log_level::error:
      return "error";
    case log_level::info:
      return "info";
    case log_level::debug:
      return "debug";
  }
  return "info";
}

}  // namespace vllm_mem::http
