// robustness_test.cpp — the server over real loopback sockets under hostile clients
// (engineering.md B.8): oversized bodies, headers, request lines and targets; deadlines (408,
// silent idle close); conflicting framing; the connection cap; slowloris; a client that never
// reads; long pipelines; random garbage; thousands of random mutations of valid JSON bodies for
// every POST endpoint. After the abuse the server still answers correctly and its connection
// gauge returns to 0. Limits and deadlines are small (server_options) so the tests run fast; no
// assertion depends on timing (waits are functional, with generous timeouts).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/socket_client.hpp"
#include "metrics.hpp"
#include "router.hpp"
#include "server.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Sanitizer builds run 5-20x slower: fewer iterations there, the same checks.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

http::server_options small_limits() {
  http::server_options o;
  o.port = 0;
  o.threads = 2;
  o.body_limit_bytes = 16 * 1024;
  o.header_limit_bytes = 2048;
  o.target_limit_bytes = 512;
  o.request_timeout = 2s;
  o.idle_timeout = 2s;
  o.send_timeout = 2s;
  o.shutdown_timeout = 2s;
  return o;
}

// A server on 127.0.0.1:<free port> over the embedded catalogs, stopped at the end of the scope.
class live_server {
 public:
  explicit live_server(http::server_options o) : server_(api(), std::move(o)) {
    const std::string err = server_.start();
    EXPECT_EQ(err, "");
  }
  ~live_server() {
    server_.stop();
    server_.wait();
  }
  std::uint16_t port() const { return server_.port(); }
  const http::metrics& metrics() const { return server_.metrics(); }
  http::server& get() { return server_; }

  // True once every connection the server had is closed.
  bool drains() const {
    return eventually([&] { return metrics().connections_open() == 0; });
  }
  // A normal request still gets the right answer.
  void still_serves() const {
    const auto r = fetch(port(), post_request("/estimate-gpu-memory", kSeedBody, true));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->body.find("\"model_params_memory_gb\":13.48"), std::string::npos) << r->body;
  }

  static inline const std::string kSeedBody =
      R"({"model_name": "meta-llama/Llama-2-7b", "max_seq_len": 2048})";

 private:
  http::server server_;
};

std::uint64_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

TEST(Robustness, OversizedBodiesHeadersAndTargets) {
  live_server s(small_limits());
  // An announced body over the limit: 413 at once, without reading it, and the connection closes.
  auto r = fetch(s.port(),
                 "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: "
                 "application/json\r\nContent-Length: 100000\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(r->has("Connection: close"));
  // A body sent whole: the client still reads the answer (the server drains before closing).
  r = fetch(s.port(), post_request("/estimate-gpu-memory", std::string(40000, ' ')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // Chunked: the limit applies after de-chunking.
  std::string chunked =
      "POST /plan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 10; ++i) chunked += "1000\r\n" + std::string(4096, ' ') + "\r\n";
  chunked += "0\r\n\r\n";
  r = fetch(s.port(), chunked);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // One big header, and many small ones.
  r = fetch(s.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'a') + "\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 300; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  r = fetch(s.port(), many + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  // A request line over the header limit, and a target over its own limit.
  r = fetch(s.port(), "GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 414);
  r = fetch(s.port(), get_request("/models/" + std::string(600, 'a')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 414);
  r = fetch(s.port(), get_request("/models/" + std::string(400, 'a')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);  // under the limit: routed
  EXPECT_EQ(s.metrics().rejected_count(http::reject_reason::body_too_large), 3u);
  EXPECT_EQ(s.metrics().rejected_count(http::reject_reason::header_too_large), 2u);
  EXPECT_EQ(s.metrics().rejected_count(http::reject_reason::target_too_long), 2u);
  EXPECT_TRUE(s.drains());
  s.still_serves();
}

TEST(Robustness, ConflictingLengthsAreRejected) {
  live_server s(small_limits());
  const std::string head =
      "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\n";
  for (const std::string& framing : {
           std::string("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
           std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
           std::string("Content-Length: 5\r\nContent-Length: 6\r\n"),
           std::string("Content-Length: -5\r\n"),
           std::string("Content-Length: 99999999999999999999999\r\n"),
       }) {
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, head + framing + "\r\n0\r\n\r\n"));
    const std::string out = read_to_close(fd);  // answered, then closed
    ::close(fd);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << framing << out;
    EXPECT_NE(out.find("Connection: close"), std::string::npos);
  }
  // A negative chunk size.
  auto r = fetch(s.port(), head + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_GE(s.metrics().rejected_count(http::reject_reason::bad_framing), 6u);
  s.still_serves();
}

TEST(Robustness, DeadlinesAnswer408OrCloseSilently) {
  http::server_options o = small_limits();
  o.request_timeout = 300ms;
  o.idle_timeout = 300ms;
  live_server s(o);
  // A request that began arriving and stalls: 408, then the close.
  int fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\n"));
  std::string out = read_to_close(fd);
  ::close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  // A body that stalls halfway: 408 too.
  fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  const std::string whole = post_request("/estimate-gpu-memory", live_server::kSeedBody);
  ASSERT_TRUE(send_all(fd, whole.substr(0, whole.size() - 10)));
  out = read_to_close(fd);
  ::close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  // A connection that sends nothing, and a kept-alive one after its answer: closed, no bytes.
  fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_to_close(fd), "");
  ::close(fd);
  fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, get_request("/healthz", false)));
  std::string pending;
  const auto r = read_reply(fd, pending);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(read_to_close(fd), "");
  ::close(fd);
  EXPECT_EQ(s.metrics().rejected_count(http::reject_reason::timeout), 2u);
  EXPECT_TRUE(s.drains());
  s.still_serves();
}

TEST(Robustness, ConnectionCapSheds503) {
  http::server_options o = small_limits();
  o.max_connections = 4;
  o.request_timeout = 30s;
  live_server s(o);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect_to(s.port()));
    ASSERT_GE(held.back(), 0);
  }
  ASSERT_TRUE(eventually([&] { return s.metrics().connections_open() == 4; }));
  const auto r = fetch(s.port(), get_request("/healthz"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(r->has("Connection: close"));
  for (int fd : held) ::close(fd);
  EXPECT_TRUE(s.drains());
  EXPECT_EQ(s.metrics().rejected_count(http::reject_reason::connection_limit), 1u);
  s.still_serves();
}

// Hundreds of connections each sending a request one byte now and then: a new client is served
// while they are all still open.
TEST(Robustness, SlowlorisDoesNotStopNewClients) {
  http::server_options o = small_limits();
  o.request_timeout = 60s;  // the slow ones stay open for the whole test
  o.idle_timeout = 60s;
  live_server s(o);
  const int n = kSanitized ? 100 : 300;
  const std::string slow = "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    for (std::size_t pos = 0; !done.load(); pos = (pos + 1) % slow.size()) {
      for (int fd : fds) ::send(fd, slow.data() + pos, 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(20ms);
    }
  });
  ASSERT_TRUE(
      eventually([&] { return s.metrics().connections_open() == static_cast<std::uint64_t>(n); }));
  for (int round = 0; round < 5; ++round) {
    const auto r = fetch(s.port(), get_request("/healthz"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  s.still_serves();
  // All the slow ones were still open while the new clients were served.
  EXPECT_GE(s.metrics().connections_open(), static_cast<std::uint64_t>(n));
  done = true;
  trickle.join();
  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(s.drains());
}

// A client that pipelines many requests for a large answer and never reads: the send deadline
// closes it, and the server keeps serving others meanwhile.
TEST(Robustness, ClientThatNeverReadsIsClosedBySendDeadline) {
  http::server_options o = small_limits();
  o.send_timeout = 300ms;
  live_server s(o);
  const int fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  const int small_buffer = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small_buffer, sizeof small_buffer);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const std::string req = get_request("/known-architectures", false);
  for (int i = 0; i < 2000; ++i) {
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) break;
  }
  s.still_serves();
  EXPECT_TRUE(eventually(
      [&] { return s.metrics().rejected_count(http::reject_reason::send_timeout) == 1; }));
  EXPECT_TRUE(s.drains());  // the server closed it although the client never did
  ::close(fd);
  s.still_serves();
}

TEST(Robustness, LongPipelineIsAnsweredInOrder) {
  live_server s(small_limits());
  const int fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  const int n = 300;
  std::string all;
  for (int i = 0; i < n; ++i) {
    switch (i % 3) {
      case 0:
        all += get_request("/healthz", false);
        break;
      case 1:
        all += get_request("/models/no-such-model-" + std::to_string(i), false);
        break;
      default:
        all += post_request("/estimate-gpu-memory", live_server::kSeedBody);
    }
  }
  std::thread writer([&] { send_all(fd, all); });
  std::string pending;
  for (int i = 0; i < n; ++i) {
    const auto r = read_reply(fd, pending);
    ASSERT_TRUE(r) << i;
    switch (i % 3) {
      case 0:
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "{\"status\":\"ok\"}");
        break;
      case 1:
        EXPECT_EQ(r->status, 404);
        EXPECT_NE(r->body.find("no-such-model-" + std::to_string(i)), std::string::npos) << r->body;
        break;
      default:
        EXPECT_EQ(r->status, 200);
        EXPECT_NE(r->body.find("model_params_memory_gb"), std::string::npos);
    }
  }
  writer.join();
  ::close(fd);
  // Counted when each write completed, which may trail the client's read by a moment.
  EXPECT_TRUE(eventually([&] {
    return s.metrics().requests(http::route_id::healthz, 200) == 100u &&
           s.metrics().requests(http::route_id::model, 404) == 100u;
  }));
}

TEST(Robustness, RandomGarbageNeverGets5xx) {
  live_server s(small_limits());
  std::mt19937 rng(20261126);
  const int n = kSanitized ? 60 : 300;
  for (int i = 0; i < n; ++i) {
    std::string bytes(std::uniform_int_distribution<std::size_t>(1, 3000)(rng), '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    if (i % 3 == 0) bytes = "GET / HTTP/1.1\r\n" + bytes;  // garbage after a good start
    if (i % 3 == 1) bytes += "\r\n\r\n";
    const int fd = connect_to(s.port(), 5000);
    ASSERT_GE(fd, 0);
    send_all(fd, bytes);
    ::shutdown(fd, SHUT_WR);
    const std::string out = read_to_close(fd);
    ::close(fd);
    if (!out.empty()) {
      EXPECT_EQ(out.rfind("HTTP/1.1 4", 0), 0u) << i << ": " << out.substr(0, 80);
    }
  }
  EXPECT_TRUE(s.drains());
  s.still_serves();
}

// --- random mutations of valid JSON bodies ----------------------------------------------------

json random_value(std::mt19937& rng) {
  static const std::vector<json> pool = {
      nullptr,
      true,
      false,
      0,
      -1,
      1,
      2,
      3,
      7,
      64,
      1000,
      4096,
      1.5,
      -2.5,
      0.0,
      1e-300,
      1e300,
      std::int64_t{1} << 62,
      std::numeric_limits<std::int64_t>::max(),
      std::numeric_limits<std::int64_t>::min(),
      std::numeric_limits<std::uint64_t>::max(),
      4294967296LL,
      "",
      "x",
      "H100",
      "L4",
      "float16",
      "fp8",
      "auto",
      "meta-llama/Llama-2-7b",
      "meta-llama/Llama-3.1-8B",
      std::string(300, 'z'),
      json::array(),
      json::object(),
      json::array({1, 2}),
      json::array({"H100", "L4"}),
      json::object({{"a", 1}}),
      json::array({json::object({{"model_name", "meta-llama/Llama-3.1-8B"}})})};
  return pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
}

// One random change somewhere in `j`: replace a value, drop a key, add a key, grow an array.
void mutate(json& j, std::mt19937& rng, int depth = 0) {
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  if ((j.is_object() || j.is_array()) && !j.empty() && depth < 4 && pick(3) != 0) {
    auto it = j.begin();
    std::advance(it, static_cast<long>(pick(j.size())));
    return mutate(*it, rng, depth + 1);
  }
  switch (pick(5)) {
    case 0:
      if (j.is_object() && !j.empty()) {
        auto it = j.begin();
        std::advance(it, static_cast<long>(pick(j.size())));
        j.erase(it);
        return;
      }
      break;
    case 1:
      if (j.is_object()) {
        static const char* keys[] = {
            "tensor_parallel_size", "max_model_len", "gpu",          "num_gpus",
            "kv_cache_dtype",       "max_num_seqs",  "quantization", "bogus"};
        j[keys[pick(8)]] = random_value(rng);
        return;
      }
      break;
    case 2:
      if (j.is_array()) {
        j.push_back(random_value(rng));
        return;
      }
      break;
    default:
      break;
  }
  j = random_value(rng);
}

// No NaN or Infinity anywhere, and no negative number under a key that names a size, except
// vLLM's "Available KV cache memory" (kv_cache_gib, kv_cache_bytes), negative by design when the
// weights do not fit (docs/api.md).
void expect_sane(const json& j, const std::string& where) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (v.is_number() && v.get<double>() < 0 && k != "kv_cache_gib" && k != "kv_cache_bytes" &&
          k != "margin_gib") {
        for (const char* unit : {"bytes", "_gb", "_gib", "tokens", "memory", "size", "params"}) {
          EXPECT_EQ(k.find(unit), std::string::npos) << where << ": " << k << " = " << v;
        }
      }
      expect_sane(v, where);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) expect_sane(v, where);
  } else if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << where;
  }
}

TEST(Robustness, RandomJsonMutationsNeverGet5xx) {
  http::server_options o = small_limits();
  o.request_timeout = 60s;  // a long /plan search must not be cut off under a sanitizer
  o.send_timeout = 60s;
  live_server s(o);
  const std::vector<std::pair<std::string, json>> seeds = {
      {"/estimate-gpu-memory", json::parse(R"({"model_name": "meta-llama/Llama-2-7b",
          "max_seq_len": 2048, "dtype": "float16", "max_batch_size": 32,
          "gpu_memory_utilization": 0.9, "architecture": {"num_layers": 32, "hidden_size": 4096,
          "num_heads": 32, "head_dim": 128, "intermediate_size": 11008}})")},
      {"/estimate-gpu-memory", json::parse(R"({"model_name": "meta-llama/Llama-3.1-8B-Instruct",
          "max_model_len": 8192, "gpu": "H100-80GB", "tensor_parallel_size": 1})")},
      {"/plan", json::parse(R"({"model_name": "meta-llama/Llama-3.1-8B", "max_model_len": 8192,
          "max_batch_size": 32, "gpus": ["H100-80GB", "L4"]})")},
      {"/solve", json::parse(R"({"model_name": "meta-llama/Llama-3.1-8B", "max_model_len": 8192,
          "gpu": "L4", "solve": ["max_model_len", "max_concurrency"]})")},
      {"/placement", json::parse(R"({"models": [{"model_name": "meta-llama/Llama-3.1-8B",
          "max_model_len": 4096}], "gpu": "L40S"})")},
      {"/sweep", json::parse(R"({"model_name": "meta-llama/Llama-3.1-8B", "max_model_len": 8192,
          "gpu": "L4"})")},
  };
  const int per_seed = kSanitized ? 80 : 600;
  std::mt19937 rng(9);
  int answered = 0, ok = 0;
  for (const auto& [path, seed] : seeds) {
    const int fd = connect_to(s.port(), 60000);
    ASSERT_GE(fd, 0);
    std::string pending;
    for (int i = 0; i < per_seed; ++i) {
      json body = seed;
      const int changes = 1 + static_cast<int>(rng() % 3);
      for (int c = 0; c < changes; ++c) mutate(body, rng);
      std::string text = body.dump();
      if (i % 10 == 0 && !text.empty()) text[rng() % text.size()] = static_cast<char>(rng());
      ASSERT_TRUE(send_all(fd, post_request(path, text)));
      const auto r = read_reply(fd, pending);
      ASSERT_TRUE(r) << path << " " << text;
      ++answered;
      EXPECT_LT(r->status, 500) << path << " " << text << " -> " << r->body;
      EXPECT_EQ(r->body.find("NaN"), std::string::npos) << text;
      EXPECT_EQ(r->body.find("Infinity"), std::string::npos) << text;
      if (r->status == 200) {
        ++ok;
        const json j = json::parse(r->body, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << r->body.substr(0, 200);
        expect_sane(j, path + " " + text);
      }
      if (r->status >= 500 || HasFailure()) break;
    }
    ::close(fd);
    if (HasFailure()) break;
  }
  EXPECT_EQ(answered, per_seed * static_cast<int>(seeds.size()));
  EXPECT_GT(ok, answered / 50);  // the mutations are not all trivially rejected
  EXPECT_TRUE(s.drains());
  s.still_serves();
}

// After everything above on one server: still up, flat in memory, connection gauge at 0.
TEST(Robustness, ServerStaysUpAndFlatUnderAbuse) {
  live_server s(small_limits());
  std::mt19937 rng(1);
  auto abuse = [&] {
    for (int i = 0; i < 100; ++i) {
      switch (i % 4) {
        case 0:
          fetch(s.port(), post_request("/estimate-gpu-memory", std::string(20000, '[')));
          break;
        case 1:
          fetch(s.port(), "GET / HTTP/1.1\r\nX: " + std::string(4000, 'h') + "\r\n\r\n");
          break;
        case 2:
          fetch(s.port(), post_request("/plan", "{\"model_name\": 7}"));
          break;
        default:
          fetch(s.port(), get_request("/known-architectures"));
      }
    }
  };
  abuse();  // warm-up: allocator pools, buffers
  const std::uint64_t before = rss_kib();
  for (int round = 0; round < (kSanitized ? 1 : 5); ++round) abuse();
  const std::uint64_t after = rss_kib();
  EXPECT_TRUE(s.drains());
  if (!kSanitized) {
    EXPECT_LT(after, before + 16 * 1024) << "RSS grew from " << before << " to " << after << " KiB";
  }
  s.still_serves();
}

TEST(Robustness, MetricsEndpointCountsByRouteTemplate) {
  live_server s(small_limits());
  fetch(s.port(), get_request("/models/meta-llama%2FLlama-3.1-8B"));
  fetch(s.port(), get_request("/models/nope"));
  fetch(s.port(), get_request("/healthz"));
  fetch(s.port(), "GET / HTTP/1.1\r\nX: " + std::string(4000, 'h') + "\r\n\r\n");
  // Each answer is counted when its write completed, which may trail the client's read.
  ASSERT_TRUE(eventually([&] {
    return s.metrics().requests(http::route_id::healthz, 200) == 1 &&
           s.metrics().requests(http::route_id::other, 431) == 1 && s.metrics().in_flight() == 0 &&
           s.metrics().connections_open() == 0;
  }));
  const auto r = fetch(s.port(), get_request("/metrics"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->has("Content-Type: text/plain; version=0.0.4"));
  const std::string& m = r->body;
  EXPECT_NE(m.find("vllm_mem_http_requests_total{route=\"/models/{id}\",code=\"200\"} 1\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("vllm_mem_http_requests_total{route=\"/models/{id}\",code=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("vllm_mem_http_requests_total{route=\"/healthz\",code=\"200\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("vllm_mem_http_requests_total{route=\"other\",code=\"431\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("vllm_mem_http_rejected_total{reason=\"header_too_large\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("vllm_mem_http_request_duration_seconds_count{route=\"/healthz\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("vllm_mem_http_requests_in_flight 1\n"), std::string::npos);  // this one
  EXPECT_NE(m.find("vllm_mem_http_connections_open 1\n"), std::string::npos);
  EXPECT_NE(m.find("vllm_mem_build_info{version=\""), std::string::npos);
  const auto post = fetch(s.port(), post_request("/metrics", "{}", true));
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_TRUE(post->has("Allow: GET"));
}

// During a stop, a request that already began arriving is finished; /readyz then says 503.
TEST(Robustness, StopFinishesARequestThatBeganAndReadyzSays503) {
  live_server s(small_limits());
  const int fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  const std::string req = get_request("/readyz", false);
  ASSERT_TRUE(send_all(fd, req.substr(0, 10)));
  ASSERT_TRUE(eventually([&] { return s.metrics().connections_open() == 1; }));
  std::this_thread::sleep_for(200ms);  // lets the bytes reach the server (no timing assertion)
  s.get().stop();
  ASSERT_TRUE(send_all(fd, req.substr(10)));
  std::string pending;
  const auto r = read_reply(fd, pending);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "{\"status\":\"stopping\"}");
  EXPECT_TRUE(r->has("Connection: close"));
  ::close(fd);
  s.get().wait();
  EXPECT_EQ(s.metrics().connections_open(), 0u);
}

}  // namespace
}  // namespace vllm_mem::testing
