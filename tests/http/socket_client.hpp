// socket_client.hpp — a raw HTTP/1.1 client over loopback sockets for the server tests: connect,
// send bytes, read whole responses (by Content-Length), read until the server closes. Every wait
// has a generous timeout so a broken server fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "router.hpp"
#include "server.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {

// A TCP connection to 127.0.0.1:port, or -1; receives time out after `timeout_ms`.
inline int connect_to(std::uint16_t port, int timeout_ms = 10000) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

inline bool send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until the peer closes (or the receive timeout); the bytes read.
inline std::string read_to_close(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Sends `raw` on a fresh connection, half-closes it (unless `half_close` is false) and reads until
// the server closes or `timeout_ms` passes: every byte the server sent. "connect failed" when the
// connection is refused.
inline std::string exchange(std::uint16_t port, const std::string& raw, int timeout_ms = 5000,
                            bool half_close = true) {
  const int fd = connect_to(port, timeout_ms);
  if (fd < 0) return "connect failed";
  send_all(fd, raw);
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string out = read_to_close(fd);
  ::close(fd);
  return out;
}

struct reply {
  int status = 0;
  std::string head;  // status line and fields
  std::string body;
  bool has(const std::string& field_line) const {
    return head.find(field_line) != std::string::npos;
  }
};

// Reads one response from `fd`; `pending` carries bytes read past it to the next call. nullopt
// when the connection closed or timed out first. `head_only`: a response to HEAD (no body).
inline std::optional<reply> read_reply(int fd, std::string& pending, bool head_only = false) {
  char buf[65536];
  auto fill = [&]() {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end = 0;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  reply r;
  r.head = pending.substr(0, end + 2);
  if (r.head.rfind("HTTP/1.", 0) != 0 || r.head.size() < 12) return std::nullopt;
  r.status = std::stoi(r.head.substr(9, 3));
  std::size_t length = 0;
  const std::size_t cl = r.head.find("Content-Length: ");
  if (cl != std::string::npos && !head_only) length = std::stoul(r.head.substr(cl + 16));
  while (pending.size() < end + 4 + length) {
    if (!fill()) return std::nullopt;
  }
  r.body = pending.substr(end + 4, length);
  pending.erase(0, end + 4 + length);
  return r;
}

// One request on a fresh connection: its response, or nullopt.
inline std::optional<reply> fetch(std::uint16_t port, const std::string& raw) {
  const int fd = connect_to(port);
  if (fd < 0) return std::nullopt;
  std::optional<reply> r;
  if (send_all(fd, raw)) {
    std::string pending;
    r = read_reply(fd, pending);
  }
  ::close(fd);
  return r;
}

inline std::string get_request(const std::string& target, bool close = true) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + (close ? "Connection: close\r\n" : "") +
         "\r\n";
}

inline std::string post_request(const std::string& target, const std::string& body,
                                bool close = false) {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         (close ? "Connection: close\r\n" : "") + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// The router over the embedded catalogs, served on a free loopback port until destroyed.
struct live_server {
  explicit live_server(unsigned threads) : router(cats()), server(router, options(threads)) {
    start_error = server.start();
  }
  ~live_server() {
    server.stop();
    server.wait();
  }
  static http::server_options options(unsigned threads) {
    http::server_options o;
    o.port = 0;
    o.threads = threads;
    return o;
  }
  http::router router;
  http::server server;
  std::string start_error;  // empty when it serves
};

// Polls `cond` every 10 ms for up to `timeout`: a functional wait, not a timing assertion.
template <class Cond>
bool eventually(Cond cond, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace vllm_mem::testing
