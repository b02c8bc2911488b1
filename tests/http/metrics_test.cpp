// metrics_test.cpp — the metrics block without sockets: route templates, counting, the
// Prometheus text; the settings table (flags, environment variables, parsers); and
// parse_request_bytes, the server's request checks over raw bytes (what fuzz/http_parser_fuzz.cpp
// drives).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "metrics.hpp"
#include "server.hpp"
#include "server_options.hpp"

namespace vllm_mem::testing {
namespace {

using http::reject_reason;
using http::route_id;
using http::route_of;

TEST(Metrics, RoutesAreTemplatesNotRawPaths) {
  EXPECT_EQ(route_of("/estimate-gpu-memory"), route_id::estimate);
  EXPECT_EQ(route_of("/models/meta-llama%2FLlama-3.1-8B"), route_id::model);
  EXPECT_EQ(route_of("/models/"), route_id::other);
  EXPECT_EQ(route_of("/known-architectures?family=llama"), route_id::known_architectures);
  EXPECT_EQ(route_of("/ui/"), route_id::ui);
  EXPECT_EQ(route_of("/ui/main-5Q3VZK2P.js"), route_id::ui_asset);
  EXPECT_EQ(route_of("/metrics"), route_id::metrics);
  EXPECT_EQ(route_of("/no/such/thing"), route_id::other);
  EXPECT_EQ(route_of(""), route_id::other);
  EXPECT_EQ(http::route_name(route_id::model), "/models/{id}");
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < http::route_count; ++i)
    names.insert(http::route_name(static_cast<route_id>(i)));
  EXPECT_EQ(names.size(), http::route_count);  // one label value per route
}

TEST(Metrics, RendersCountersHistogramAndGauges) {
  http::metrics m;
  m.connection_opened();
  EXPECT_EQ(m.connection_count_after_open(), 1u);
  m.request_started();
  m.request_done(route_id::model, 200, 80);       // first bucket (<= 100 us)
  m.request_done(route_id::model, 404, 1500);     // <= 2.5 ms
  m.request_done(route_id::model, 200, 9000000);  // over every bound: +Inf only
  m.request_finished();
  m.rejected(reject_reason::body_too_large);
  m.rejected(reject_reason::body_too_large);
  EXPECT_EQ(m.requests(route_id::model, 200), 2u);
  std::string out;
  m.render(out, "9.9.9");
  for (const char* line : {
           "vllm_mem_build_info{version=\"9.9.9\"} 1\n",
           "vllm_mem_http_requests_total{route=\"/models/{id}\",code=\"200\"} 2\n",
           "vllm_mem_http_requests_total{route=\"/models/{id}\",code=\"404\"} 1\n",
           "vllm_mem_http_request_duration_seconds_bucket{route=\"/models/{id}\",le=\"0.000100\"} "
           "1\n",
           "vllm_mem_http_request_duration_seconds_bucket{route=\"/models/{id}\",le=\"0.002500\"} "
           "2\n",
           "vllm_mem_http_request_duration_seconds_bucket{route=\"/models/{id}\",le=\"2.500000\"} "
           "2\n",
           "vllm_mem_http_request_duration_seconds_bucket{route=\"/models/{id}\",le=\"+Inf\"} 3\n",
           "vllm_mem_http_request_duration_seconds_sum{route=\"/models/{id}\"} 9.001580\n",
           "vllm_mem_http_request_duration_seconds_count{route=\"/models/{id}\"} 3\n",
           "vllm_mem_http_requests_in_flight 0\n",
           "vllm_mem_http_connections_open 1\n",
           "vllm_mem_http_connections_total 1\n",
           "vllm_mem_http_rejected_total{reason=\"body_too_large\"} 2\n",
           "vllm_mem_http_rejected_total{reason=\"connection_limit\"} 0\n",
           "# TYPE vllm_mem_http_request_duration_seconds histogram\n",
       }) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  }
  // Routes without requests have no series.
  EXPECT_EQ(out.find("route=\"/plan\""), std::string::npos);
}

TEST(ServerOptions, EverySettingHasAFlagAndAnEnvironmentVariable) {
  std::set<std::string_view> flags, envs;
  for (const auto& s : http::server_settings()) {
    EXPECT_EQ(s.flag.rfind("--", 0), 0u);
    EXPECT_EQ(s.env.rfind("VLLM_MEM_", 0), 0u);
    flags.insert(s.flag);
    envs.insert(s.env);
    http::server_options o;
    if (s.flag != "--host") {  // an address is checked when the server binds it
      EXPECT_NE(http::apply_setting(o, s, "not a value"), "") << s.flag;
    }
  }
  EXPECT_EQ(flags.size(), http::server_settings().size());
  EXPECT_EQ(envs.size(), http::server_settings().size());
}

const http::server_setting& setting(std::string_view flag) {
  for (const auto& s : http::server_settings()) {
    if (s.flag == flag) return s;
  }
  ADD_FAILURE() << flag;
  return http::server_settings().front();
}

TEST(ServerOptions, DefaultsAndParsers) {
  http::server_options o;
  EXPECT_EQ(o.body_limit_bytes, 65536u);
  EXPECT_EQ(o.header_limit_bytes, 8192u);
  EXPECT_EQ(o.request_timeout, std::chrono::seconds(10));
  EXPECT_EQ(o.send_timeout, std::chrono::seconds(10));
  EXPECT_EQ(http::apply_setting(o, setting("--body-limit-bytes"), "1000"), "");
  EXPECT_EQ(o.body_limit_bytes, 1000u);
  EXPECT_NE(http::apply_setting(o, setting("--body-limit-bytes"), "-1"), "");
  EXPECT_NE(http::apply_setting(o, setting("--body-limit-bytes"), "10k"), "");
  EXPECT_NE(http::apply_setting(o, setting("--port"), "65536"), "");
  EXPECT_EQ(http::apply_setting(o, setting("--port"), "0"), "");
  EXPECT_EQ(http::apply_setting(o, setting("--request-timeout"), "0.25"), "");
  EXPECT_EQ(o.request_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(http::apply_setting(o, setting("--idle-timeout"), "75"), "");
  EXPECT_EQ(o.idle_timeout, std::chrono::seconds(75));
  for (const char* bad : {"0", "", ".5", "1.", "1.2345", "-1", "1e3", "99999999"}) {
    EXPECT_NE(http::apply_setting(o, setting("--send-timeout"), bad), "") << bad;
  }
  EXPECT_EQ(http::apply_setting(o, setting("--log-level"), "debug"), "");
  EXPECT_EQ(o.level, http::log_level::debug);
  EXPECT_TRUE(o.logs_requests());
  EXPECT_NE(http::apply_setting(o, setting("--log-level"), "loud"), "");
  EXPECT_EQ(http::apply_setting(o, setting("--log-level"), "quiet"), "");
  EXPECT_EQ(http::apply_setting(o, setting("--access-log"), "true"), "");
  EXPECT_FALSE(o.logs_requests());  // quiet wins over --access-log
  EXPECT_EQ(http::apply_setting(o, setting("--log-level"), "info"), "");
  EXPECT_TRUE(o.logs_requests());
}

// --- parse_request_bytes ------------------------------------------------------------------

http::server_options limits() {
  http::server_options o;
  o.body_limit_bytes = 1024;
  o.header_limit_bytes = 1024;
  o.target_limit_bytes = 128;
  return o;
}

const std::string kPost =
    "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    "Content-Length: 2\r\n\r\n{}";

TEST(ParseRequestBytes, AcceptsValidAndPipelinedRequests) {
  auto st = http::parse_request_bytes(kPost, limits());
  EXPECT_EQ(st.requests_accepted, 1u);
  EXPECT_EQ(st.status, 0);
  EXPECT_FALSE(st.incomplete);
  st = http::parse_request_bytes(kPost + "GET /healthz HTTP/1.1\r\n\r\n" + kPost, limits());
  EXPECT_EQ(st.requests_accepted, 3u);
  st = http::parse_request_bytes(
      "POST /plan HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      limits());
  EXPECT_EQ(st.requests_accepted, 1u);
  EXPECT_EQ(st.status, 0);
  // Ends inside a request: the server would wait, then answer 408.
  st = http::parse_request_bytes(kPost.substr(0, 30), limits());
  EXPECT_EQ(st.requests_accepted, 0u);
  EXPECT_TRUE(st.incomplete);
  // Connection: close ends the connection: what follows is never read.
  st = http::parse_request_bytes("GET / HTTP/1.1\r\nConnection: close\r\n\r\nGARBAGE\r\n\r\n",
                                 limits());
  EXPECT_EQ(st.requests_accepted, 1u);
  EXPECT_EQ(st.status, 0);
}

TEST(ParseRequestBytes, RefusesAsTheServerDoes) {
  struct probe {
    std::string raw;
    int status;
    reject_reason reason;
  };
  const std::string post_head =
      "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  const std::vector<probe> probes = {
      {post_head + "Content-Length: 2000\r\n\r\n", 413, reject_reason::body_too_large},
      {post_head + "Transfer-Encoding: chunked\r\n\r\n400\r\n" + std::string(1024, 'a') +
           "\r\n1\r\na\r\n0\r\n\r\n",
       413, reject_reason::body_too_large},
      {"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431,
       reject_reason::header_too_large},
      {"GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n", 414, reject_reason::target_too_long},
      {"GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n", 414, reject_reason::target_too_long},
      {post_head + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       reject_reason::bad_framing},
      {post_head + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n", 400,
       reject_reason::bad_framing},
      {post_head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400,
       reject_reason::bad_framing},
      {"NOT HTTP\r\n\r\n", 400, reject_reason::bad_framing},
      {post_head + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
       reject_reason::unsupported_encoding},
      {post_head + "Content-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}", 415,
       reject_reason::unsupported_encoding},
      {"POST /plan HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}", 415,
       reject_reason::content_type},
      {"POST /plan HTTP/1.1\r\nContent-Type: application/jsonp\r\nContent-Length: 2\r\n\r\n{}", 415,
       reject_reason::content_type},
  };
  for (const auto& p : probes) {
    const auto st = http::parse_request_bytes(p.raw, limits());
    EXPECT_EQ(st.status, p.status) << p.raw.substr(0, 120) << " -> " << st.detail;
    EXPECT_EQ(st.reason, p.reason) << p.raw.substr(0, 120);
    EXPECT_FALSE(st.detail.empty());
    EXPECT_EQ(st.requests_accepted, 0u);
  }
  // A bad second request does not undo the first.
  const auto st = http::parse_request_bytes(kPost + "GARBAGE\r\n\r\n", limits());
  EXPECT_EQ(st.requests_accepted, 1u);
  EXPECT_EQ(st.status, 400);
}

}  // namespace
}  // namespace vllm_mem::testing
