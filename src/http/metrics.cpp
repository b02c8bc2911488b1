// metrics.cpp — route templates, counters and the Prometheus text rendering.
#include "metrics.hpp"

#include <algorithm>

namespace vllm_mem::http {

namespace {

constexpr std::array<std::string_view, route_count> kRouteNames{"/",
                                                                "/estimate-gpu-memory",
                                                                "/plan",
                                                                "/solve",
                                                                "/placement",
                                                                "/sweep",
                                                                "/known-architectures",
                                                                "/gpus",
                                                                "/models/{id}",
                                                                "/healthz",
                                                                "/readyz",
                                                                "/metrics",
                                                                "/ui",
                                                                "/ui/{asset}",
                                                                "/openapi.json",
                                                                "/docs",
                                                                "/versions",
                                                                "/mcp",
                                                                "other"};

constexpr std::array<std::string_view, reject_reason_count> kReasonNames{
    "body_too_large",   "header_too_large", "target_too_long",      "timeout",     "send_timeout",
    "connection_limit", "bad_framing",      "unsupported_encoding", "content_type"};

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<std::size_t>(buf + sizeof buf - p));
}

// Microseconds as seconds with six decimals, exactly (no floating point).
void append_seconds(std::string& out, std::uint64_t us) {
  append_uint(out, us / 1000000);
  out += '.';
  const std::uint64_t frac = us % 1000000;
  std::string digits;
  append_uint(digits, frac);
  out.append(6 - digits.size(), '0');
  out += digits;
}

}  // namespace

route_id route_of(std::string_view target) {
  const std::size_t q = target.find('?');
  const std::string_view path = q == std::string_view::npos ? target : target.substr(0, q);
  struct exact {
    std::string_view path;
    route_id id;
  };
  static constexpr std::array<exact, 17> kExact{{
      {"/", route_id::root},
      {"/estimate-gpu-memory", route_id::estimate},
      {"/plan", route_id::plan},
      {"/solve", route_id::solve},
      {"/placement", route_id::placement},
      {"/sweep", route_id::sweep},
      {"/known-architectures", route_id::known_architectures},
      {"/gpus", route_id::gpus},
      {"/healthz", route_id::healthz},
      {"/readyz", route_id::readyz},
      {"/metrics", route_id::metrics},
      {"/ui", route_id::ui},
      {"/ui/", route_id::ui},
      {"/openapi.json", route_id::openapi},
      {"/docs", route_id::docs},
      {"/versions", route_id::versions},
      {"/mcp", route_id::mcp},
  }};
  for (const auto& e : kExact) {
    if (path == e.path) return e.id;
  }
  if (path.size() > 8 && path.substr(0, 8) == "/models/") return route_id::model;
  if (path.size() > 4 && path.substr(0, 4) == "/ui/") return route_id::ui_asset;
  if (path.size() > 6 && path.substr(0, 6) == "/docs/") return route_id::docs;
  return route_id::other;
}

std::string_view route_name(route_id r) { return kRouteNames[static_cast<std::size_t>(r)]; }

std::string_view reason_name(reject_reason r) { return kReasonNames[static_cast<std::size_t>(r)]; }

std::size_t metrics::status_slot(int status) {
  return static_cast<std::size_t>(std::clamp(status, min_status, max_status) - min_status);
}

void metrics::request_done(route_id route, int status, std::uint64_t duration_us) {
  route_counters& c = routes_[static_cast<std::size_t>(route)];
  c.by_status[status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  const auto it = std::lower_bound(bucket_bounds_us.begin(), bucket_bounds_us.end(), duration_us);
  c.buckets[static_cast<std::size_t>(it - bucket_bounds_us.begin())].fetch_add(
      1, std::memory_order_relaxed);
  c.duration_sum_us.fetch_add(duration_us, std::memory_order_relaxed);
}

std::uint64_t metrics::requests(route_id route, int status) const {
  return routes_[static_cast<std::size_t>(route)].by_status[status_slot(status)].load(
      std::memory_order_relaxed);
}

void metrics::render(std::string& out, std::string_view version) const {
  out.reserve(out.size() + 4096);
  out +=
      "# HELP vllm_mem_build_info The running build.\n"
      "# TYPE vllm_mem_build_info gauge\n"
      "vllm_mem_build_info{version=\"";
  out += version;
  out += "\"} 1\n";

  out +=
      "# HELP vllm_mem_http_requests_total Requests answered, by route template and status "
      "code.\n# TYPE vllm_mem_http_requests_total counter\n";
  for (std::size_t r = 0; r < route_count; ++r) {
    for (std::size_t s = 0; s < status_slots; ++s) {
      const std::uint64_t n = routes_[r].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "vllm_mem_http_requests_total{route=\"";
      out += kRouteNames[r];
      out += "\",code=\"";
      append_uint(out, s + min_status);
      out += "\"} ";
      append_uint(out, n);
      out += '\n';
    }
  }

  out +=
      "# HELP vllm_mem_http_request_duration_seconds Time from a request fully received to its "
      "response fully written.\n# TYPE vllm_mem_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < route_count; ++r) {
    const route_counters& c = routes_[r];
    std::array<std::uint64_t, bucket_bounds_us.size() + 1> counts{};
    std::uint64_t total = 0;
    for (std::size_t b = 0; b < counts.size(); ++b) {
      counts[b] = c.buckets[b].load(std::memory_order_relaxed);
      total += counts[b];
    }
    if (total == 0) continue;
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < counts.size(); ++b) {
      cumulative += counts[b];
      out += "vllm_mem_http_request_duration_seconds_bucket{route=\"";
      out += kRouteNames[r];
      out += "\",le=\"";
      if (b < bucket_bounds_us.size()) {
        append_seconds(out, bucket_bounds_us[b]);
      } else {
        out += "+Inf";
      }
      out += "\"} ";
      append_uint(out, cumulative);
      out += '\n';
    }
    out += "vllm_mem_http_request_duration_seconds_sum{route=\"";
    out += kRouteNames[r];
    out += "\"} ";
    append_seconds(out, c.duration_sum_us.load(std::memory_order_relaxed));
    out += "\nvllm_mem_http_request_duration_seconds_count{route=\"";
    out += kRouteNames[r];
    out += "\"} ";
    append_uint(out, total);
    out += '\n';
  }

  out +=
      "# HELP vllm_mem_http_requests_in_flight Requests received and not yet answered.\n"
      "# TYPE vllm_mem_http_requests_in_flight gauge\nvllm_mem_http_requests_in_flight ";
  append_uint(out, in_flight_.load(std::memory_order_relaxed));
  out +=
      "\n# HELP vllm_mem_http_connections_open Client connections open.\n"
      "# TYPE vllm_mem_http_connections_open gauge\nvllm_mem_http_connections_open ";
  append_uint(out, connections_open_.load(std::memory_order_relaxed));
  out +=
      "\n# HELP vllm_mem_http_connections_total Client connections accepted (including those "
      "shed at the cap).\n# TYPE vllm_mem_http_connections_total counter\n"
      "vllm_mem_http_connections_total ";
  append_uint(out, connections_total_.load(std::memory_order_relaxed));
  out +=
      "\n# HELP vllm_mem_http_rejected_total Requests and connections refused before routing, "
      "by reason.\n# TYPE vllm_mem_http_rejected_total counter\n";
  for (std::size_t i = 0; i < reject_reason_count; ++i) {
    out += "vllm_mem_http_rejected_total{reason=\"";
    out += kReasonNames[i];
    out += "\"} ";
    append_uint(out, rejected_[i].load(std::memory_order_relaxed));
    out += '\n';
  }
}

}  // namespace vllm_mem::http
