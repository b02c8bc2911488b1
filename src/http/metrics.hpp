// metrics.hpp — the service's counters, rendered for GET /metrics in Prometheus text format.
//
// Contract: `metrics` is a fixed block of relaxed atomics: recording (request_done, rejected,
// connection_opened/closed, request_started) takes no lock, allocates nothing and is safe from
// any thread; `render` reads a snapshot (each counter on its own; counters read together may be
// a few requests apart under load, as with any Prometheus exporter). Requests are counted by
// route template (`route_of`: "/models/{id}", never the raw path, so the label set is fixed and
// small) and exact status code; the latency histogram is by route, in seconds, from the request
// fully received to its response fully written. No Beast and no I/O here: the server records,
// and answers GET /metrics itself with `render` (the router stays a pure function of the request
// and the catalogs).
//
// Names (all prefixed vllm_mem_):
//   http_requests_total{route,code}              counter
//   http_request_duration_seconds{route}         histogram (_bucket{le}, _sum, _count)
//   http_requests_in_flight                      gauge
//   http_connections_open                        gauge
//   http_connections_total                       counter (accepted, including those shed)
//   http_rejected_total{reason}                  counter (see reject_reason)
//   build_info{version}                          gauge, always 1
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vllm_mem::http {

// Route templates, the `route` label. `other` is every path no route serves (404s).
enum class route_id : std::uint8_t {
  root,
  estimate,
  plan,
  solve,
  placement,
  sweep,
  known_architectures,
  gpus,
  model,  // /models/{id}
  healthz,
  readyz,
  metrics,
  ui,        // /ui, /ui/
  ui_asset,  // /ui/{asset}
  openapi,   // /openapi.json
  docs,      // /docs, /docs/{asset}
  versions,  // /versions
  mcp,       // /mcp (the MCP transport, mcp.hpp)
  other,
  count_
};
inline constexpr std::size_t route_count = static_cast<std::size_t>(route_id::count_);

// The route template a request target (path and query) belongs to.
route_id route_of(std::string_view target);
std::string_view route_name(route_id r);

// Why a request or connection was refused before reaching the router (the `reason` label).
enum class reject_reason : std::uint8_t {
  body_too_large,        // 413
  header_too_large,      // 431
  target_too_long,       // 414
  timeout,               // 408: a request began arriving and missed its deadline
  send_timeout,          // the client did not read its response within the send deadline
  connection_limit,      // 503: over the connection cap
  bad_framing,           // 400: malformed request line, headers or chunking; CL + TE
  unsupported_encoding,  // 415 Content-Encoding, 501 Transfer-Encoding
  content_type,          // 415: a POST body that is not application/json
  count_
};
inline constexpr std::size_t reject_reason_count = static_cast<std::size_t>(reject_reason::count_);
std::string_view reason_name(reject_reason r);

class metrics {
 public:
  // Upper bounds of the latency buckets, in microseconds (+Inf is implicit).
  static constexpr std::array<std::uint64_t, 14> bucket_bounds_us{
      100,   250,   500,    1000,   2500,   5000,    10000,
      25000, 50000, 100000, 250000, 500000, 1000000, 2500000};

  void connection_opened() { connections_total_.fetch_add(1, std::memory_order_relaxed); }
  // The open-connections gauge; the server uses its value for the connection cap.
  std::uint64_t connection_count_after_open() {
    return connections_open_.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  void connection_closed() { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
  std::uint64_t connections_open() const {
    return connections_open_.load(std::memory_order_relaxed);
  }

  void request_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  // A request that request_started() counted is answered (or its connection closed).
  void request_finished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void request_done(route_id route, int status, std::uint64_t duration_us);
  void rejected(reject_reason r) {
    rejected_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }

  std::uint64_t requests(route_id route, int status) const;
  std::uint64_t rejected_count(reject_reason r) const {
    return rejected_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  }
  std::uint64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  // Appends the exposition text (version 0.0.4) to `out`.
  void render(std::string& out, std::string_view version) const;

 private:
  static constexpr int min_status = 100;
  static constexpr int max_status = 599;
  static constexpr std::size_t status_slots = max_status - min_status + 1;
  static std::size_t status_slot(int status);

  struct route_counters {
    std::array<std::atomic<std::uint64_t>, status_slots> by_status{};
    std::array<std::atomic<std::uint64_t>, bucket_bounds_us.size() + 1> buckets{};
    std::atomic<std::uint64_t> duration_sum_us{0};
  };
  std::array<route_counters, route_count> routes_{};
  std::array<std::atomic<std::uint64_t>, reject_reason_count> rejected_{};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_total_{0};
};

}  // namespace vllm_mem::http
