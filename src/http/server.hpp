// server.hpp — the HTTP transport: Boost.Beast, asynchronous, one I/O thread per core.
//
// Contract: `server` listens on host:port (port 0 picks a free port, see `port()`), serves the
// router on every connection with HTTP/1.1 keep-alive and pipelining, and enforces the limits
// of docs/operations.md: header <= 8 KiB (431), body <= 1 MiB (413), a 10 s deadline to receive
// a request and to send a response, 15 s idle keep-alive, 10000 requests per connection, 10000
// concurrent connections (503 beyond), Content-Encoding refused (415), Transfer-Encoding other
// than chunked refused (501). `stop()` stops accepting, lets requests in flight finish (up to
// 5 s) and returns; it is safe to call from any thread or a signal handler's strand. This file
// and server.cpp are the only places that include Beast.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "router.hpp"

namespace vllm_mem::http {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  unsigned threads = 0;  // 0: one per hardware thread
  std::size_t body_limit = 1 << 20;
  std::size_t header_limit = 8192;
  unsigned request_timeout_seconds = 10;
  unsigned idle_timeout_seconds = 15;
  unsigned max_requests_per_connection = 10000;
  unsigned max_connections = 10000;
  bool access_log = false;
};

class server {
 public:
  server(const router& r, server_options opt);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and starts the I/O threads; returns an error message on failure (port in use, ...).
  std::string start();
  std::uint16_t port() const;
  // Blocks until stop() was called (or SIGINT/SIGTERM when handle_signals was set).
  void wait();
  void stop();
  // Installs SIGINT/SIGTERM handlers that call stop(); a second signal exits at once.
  void handle_signals();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace vllm_mem::http
