// server_head_test.cpp — the response head the server formats itself (instead of Beast's
// serializer): exact bytes of the status line and fields for keep-alive, close, HTTP/1.0, HEAD,
// 405 with Allow and the router's extra headers; bodies byte-identical to the router's; several
// requests on one connection reuse the session's buffers without mixing answers.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "router.hpp"
#include "server.hpp"
#include "socket_client.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

class ServerHead : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // more I/O threads than the machine may have cores: connections spread
    live_ = new live_server(3);
    ASSERT_EQ(live_->start_error, "");
    router_ = &live_->router;
    server_ = &live_->server;
  }
  static void TearDownTestSuite() { delete live_; }

  static std::string exchange(const std::string& raw) {
    return testing::exchange(server_->port(), raw);
  }

  static std::string post(const std::string& body, const std::string& version = "1.1",
                          const std::string& extra = "") {
    return "POST /estimate-gpu-memory HTTP/" + version +
           "\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  static std::string routed(const std::string& method, const std::string& target,
                            const std::string& body = "") {
    return router_->handle({method, target, body, "application/json", ""}).body;
  }

  static live_server* live_;
  static http::router* router_;
  static http::server* server_;
};

live_server* ServerHead::live_ = nullptr;
http::router* ServerHead::router_ = nullptr;
http::server* ServerHead::server_ = nullptr;

const std::string kBody = R"({"model_name": "meta-llama/Llama-3.1-8B", "max_seq_len": 4096})";
const std::string kGpuBody =
    R"({"model_name": "Qwen/Qwen2.5-7B", "max_seq_len": 8192, "gpu": "H100-80GB"})";

std::string head(const std::string& status_line, const std::string& fields, std::size_t length) {
  return status_line + "\r\nServer: vllm-mem\r\nContent-Type: application/json\r\n" + fields +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

TEST_F(ServerHead, KeepAliveThenCloseOnOneConnection) {
  const std::string a = routed("POST", "/estimate-gpu-memory", kBody);
  const std::string b = routed("POST", "/estimate-gpu-memory", kGpuBody);
  const std::string r =
      exchange(post(kBody) + post(kGpuBody) + post(kBody, "1.1", "Connection: close\r\n"));
  const std::string expected = head("HTTP/1.1 200 OK", "", a.size()) + a +
                               head("HTTP/1.1 200 OK", "", b.size()) + b +
                               head("HTTP/1.1 200 OK", "Connection: close\r\n", a.size()) + a;
  EXPECT_EQ(r, expected);
}

TEST_F(ServerHead, Http10KeepAliveAndClose) {
  const std::string a = routed("POST", "/estimate-gpu-memory", kBody);
  EXPECT_EQ(exchange(post(kBody, "1.0")), head("HTTP/1.0 200 OK", "", a.size()) + a);
  const std::string keep = post(kBody, "1.0", "Connection: keep-alive\r\n");
  EXPECT_EQ(exchange(keep + post(kBody, "1.0")),
            head("HTTP/1.0 200 OK", "Connection: keep-alive\r\n", a.size()) + a +
                head("HTTP/1.0 200 OK", "", a.size()) + a);
}

TEST_F(ServerHead, HeadHasTheLengthButNoBody) {
  const std::string gpus = routed("GET", "/gpus");
  EXPECT_EQ(exchange("HEAD /gpus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            head("HTTP/1.1 200 OK", "Connection: close\r\n", gpus.size()));
  // The pre-rendered bodies are written as they are.
  EXPECT_EQ(exchange("GET /gpus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            head("HTTP/1.1 200 OK", "Connection: close\r\n", gpus.size()) + gpus);
  const std::string all = routed("GET", "/known-architectures");
  EXPECT_EQ(exchange("GET /known-architectures HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            head("HTTP/1.1 200 OK", "Connection: close\r\n", all.size()) + all);
}

TEST_F(ServerHead, ErrorsCarryTheirReasonAllowAndExtraHeaders) {
  const std::string nf = routed("GET", "/missing");
  EXPECT_EQ(exchange("GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            head("HTTP/1.1 404 Not Found", "Connection: close\r\n", nf.size()) + nf);
  const std::string na = routed("PUT", "/estimate-gpu-memory");
  EXPECT_EQ(
      exchange("PUT /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "Content-Length: 0\r\n\r\n"),
      head("HTTP/1.1 405 Method Not Allowed", "Allow: POST\r\nConnection: close\r\n", na.size()) +
          na);
  const std::string bad = routed("POST", "/estimate-gpu-memory", "{");
  EXPECT_EQ(exchange(post("{", "1.1", "Connection: close\r\n")),
            head("HTTP/1.1 400 Bad Request", "Connection: close\r\n", bad.size()) + bad);
  // The router's own headers come after Allow and before Connection, as Beast wrote them.
  const http::response root = router_->handle({"GET", "/", "", "", ""});
  ASSERT_FALSE(root.headers.empty());
  std::string fields;
  for (const auto& [name, value] : root.headers) fields += name + ": " + value + "\r\n";
  EXPECT_EQ(
      exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      head("HTTP/1.1 200 OK", fields + "Connection: close\r\n", root.body.size()) + root.body);
}

TEST_F(ServerHead, ManyConnectionsAtOnceGetTheirOwnAnswers) {
  // Sessions on different I/O threads, each with its own reused buffers.
  const std::string a = routed("POST", "/estimate-gpu-memory", kBody);
  const std::string b = routed("POST", "/estimate-gpu-memory", kGpuBody);
  std::vector<std::thread> clients;
  std::vector<std::string> answers(12);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    clients.emplace_back([&, i] {
      std::string raw;
      for (int k = 0; k < 20; ++k) raw += post((i + k) % 2 ? kGpuBody : kBody);
      answers[i] = exchange(raw);
    });
  }
  for (auto& t : clients) t.join();
  for (std::size_t i = 0; i < answers.size(); ++i) {
    std::string expected;
    for (int k = 0; k < 20; ++k) {
      const std::string& body = (i + k) % 2 ? b : a;
      expected += head("HTTP/1.1 200 OK", "", body.size()) + body;
    }
    EXPECT_EQ(answers[i], expected) << i;
  }
}

}  // namespace
}  // namespace vllm_mem::testing
