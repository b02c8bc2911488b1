// server_options.hpp — every setting of the HTTP service, in one place, with the `vllm-mem serve`
// flag and the environment variable that change it.
//
// Contract: `server_options` holds the limits and their defaults (engineering.md B.1; the table in
// docs/operations.md is this file's). `server_settings()` lists, per setting, its flag, its
// environment variable and a parser; `apply_setting` parses a text into the options and returns
// "" or why the value is invalid (the caller names the flag or the variable). A flag wins over
// its environment variable; the CLI does the I/O (reading flags and the environment). No Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vllm_mem::http {

enum class log_level { quiet, error, info, debug };

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  unsigned threads = 0;  // 0: one per hardware thread
  // Request size: the body after de-chunking (413), the whole header with the request line
  // (431), the request target alone (414).
  std::size_t body_limit_bytes = 64 * 1024;
  std::size_t header_limit_bytes = 8 * 1024;
  std::size_t target_limit_bytes = 4 * 1024;
  // Deadlines. request: to receive a whole request on a new connection (408 when it began
  // arriving, a silent close when nothing came). idle: on a kept-alive connection, to wait for
  // the next request and receive it. send: to write a response. shutdown: for requests in flight
  // after SIGTERM.
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds idle_timeout{10000};
  std::chrono::milliseconds send_timeout{10000};
  std::chrono::milliseconds shutdown_timeout{5000};
  unsigned max_requests_per_connection = 1000;
  unsigned max_connections = 10000;  // 503 beyond
  // quiet: nothing; error: server errors; info: start-up and shutdown lines, and one JSON line
  // per request when access_log is set; debug: always the access lines.
  log_level level = log_level::info;
  bool access_log = false;

  bool logs_requests() const {
    return level == log_level::debug || (access_log && level == log_level::info);
  }
};

struct server_setting {
  std::string_view flag;  // "--body-limit-bytes"
  std::string_view env;   // "VLLM_MEM_BODY_LIMIT_BYTES"
  std::string_view help;  // with the unit and the default
  bool is_switch;  // a flag without a value (--access-log); its variable takes 1/0/true/false
};

const std::vector<server_setting>& server_settings();

// Parses `text` as the value of `setting` (one of server_settings()) into `opt`. Returns "" or
// why the text is not a valid value (without naming the flag or variable).
std::string apply_setting(server_options& opt, const server_setting& setting,
                          std::string_view text);

std::string_view log_level_name(log_level l);

}  // namespace vllm_mem::http
