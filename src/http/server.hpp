// server.hpp — the HTTP transport: Boost.Beast, asynchronous, one I/O thread per core.
//
// Contract: `server` listens on host:port (port 0 picks a free port, see `port()`), serves the
// router on every connection with HTTP/1.1 keep-alive and pipelining (answered in order), and
// enforces the limits in server_options (server_options.hpp; the table in docs/operations.md):
// header 431, request line or target 414, body 413, 408 when a request that began arriving
// misses its deadline (a silent close when nothing arrived), the send deadline (the connection
// is closed), 503 beyond the connection cap, Content-Encoding 415, Transfer-Encoding other than
// chunked 501, Content-Type other than application/json on POST 415, malformed framing
// (including Content-Length with Transfer-Encoding, or two different Content-Lengths) 400 and a
// close. One function decides these answers for the sessions and for `parse_request_bytes`.
// After an answer that closes the connection the server drains what the client still sends for a
// short while (a lingering close, as nginx does), so the client reads the answer instead of a
// reset.
//
// The server itself answers GET /metrics (from its `metrics`, Prometheus text) and, once a stop
// began, GET /readyz with 503; every other request goes to the router, which stays a pure
// function of the request and the catalogs. It counts every response in its metrics and, when
// server_options::logs_requests(), writes one JSON line per request to stderr (nothing is
// formatted when it does not).
//
// `stop()` stops accepting, closes idle connections, lets requests in flight finish (up to
// shutdown_timeout) and makes `wait()` return; it is safe to call from any thread. This file and
// server.cpp are the only places that include Beast.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "metrics.hpp"
#include "router.hpp"
#include "server_options.hpp"

namespace vllm_mem::http {

// What the server would do with `raw` arriving on one connection, without a socket: Beast's
// request parser with `opt`'s limits and the same buffer bound and checks as a session, over the
// pipelined requests in `raw` until the first refused one (the server then closes).
struct parse_status {
  std::size_t requests_accepted = 0;  // complete requests that would reach the router
  int status = 0;                     // the answer to the first refused request; 0 when none
  reject_reason reason = reject_reason::bad_framing;  // why, when status != 0
  std::string detail;
  bool incomplete = false;  // the bytes end inside a request (the deadline would answer 408)
};
parse_status parse_request_bytes(std::string_view raw, const server_options& opt);

class server {
 public:
  server(const router& r, server_options opt);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and starts the I/O threads; returns an error message on failure (port in use, ...).
  std::string start();
  std::uint16_t port() const;
  // Blocks until stop() was called (or SIGINT/SIGTERM when handle_signals was set) and every
  // connection closed or the shutdown deadline passed.
  void wait();
  void stop();
  // Installs SIGINT/SIGTERM handlers that call stop(); a second signal exits at once.
  void handle_signals();
  const http::metrics& metrics() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace vllm_mem::http
