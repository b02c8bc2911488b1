// server_test.cpp — the real server on 127.0.0.1 with raw sockets: keep-alive, pipelining,
// limits (413, 431, 415, 501), malformed requests, HTTP/1.0, HEAD, and graceful stop.
#include <gtest/gtest.h>

#include <string>

#include "router.hpp"
#include "server.hpp"
#include "socket_client.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    live_ = new live_server(2);
    ASSERT_EQ(live_->start_error, "");
    router_ = &live_->router;
    server_ = &live_->server;
  }
  static void TearDownTestSuite() { delete live_; }

  static std::string exchange(const std::string& raw, int timeout_ms = 2000,
                              bool half_close = true) {
    return testing::exchange(server_->port(), raw, timeout_ms, half_close);
  }

  static std::string post(const std::string& body, const std::string& extra = "") {
    return "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
           extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  static int count(const std::string& s, const std::string& needle) {
    int n = 0;
    for (std::size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
  }

  static live_server* live_;
  static http::router* router_;
  static http::server* server_;
};

live_server* ServerTest::live_ = nullptr;
http::router* ServerTest::router_ = nullptr;
http::server* ServerTest::server_ = nullptr;

const std::string kBody = R"({"model_name": "meta-llama/Llama-2-7b", "max_seq_len": 2048})";

TEST_F(ServerTest, AnswersTheSeedRequest) {
  const std::string r = exchange(post(kBody));
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(r.find("\"model_params_memory_gb\":13.48"), std::string::npos);
}

TEST_F(ServerTest, PipelinedRequestsAnswerInOrder) {
  const std::string r =
      exchange(post(kBody) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + post(kBody));
  EXPECT_EQ(count(r, "HTTP/1.1 200 OK"), 3) << r;
  EXPECT_LT(r.find("model_params"), r.find("\"status\":\"ok\""));
}

TEST_F(ServerTest, MalformedSecondRequestDoesNotLoseTheFirst) {
  const std::string r = exchange(post(kBody) + "GARBAGE\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
}

TEST_F(ServerTest, BodyOverTheLimitIs413WithoutReadingIt) {
  const std::string r = exchange(
      "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 1000000000000\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
  EXPECT_NE(r.find("\"detail\""), std::string::npos);
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitIs413) {
  std::string req =
      "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(60000, ' ');
  for (int i = 0; i < 20; ++i) req += "EA60\r\n" + chunk + "\r\n";
  req += "0\r\n\r\n";
  const std::string r = exchange(req);
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r.substr(0, 200);
}

TEST_F(ServerTest, HugeHeaderIs431) {
  const std::string r =
      exchange("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r.substr(0, 200);
}

TEST_F(ServerTest, EncodingsAndContentTypesAreChecked) {
  EXPECT_EQ(exchange(post(kBody, "Content-Encoding: gzip\r\n")).rfind("HTTP/1.1 415", 0), 0u);
  const std::string form =
      "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
      "Content-Length: " +
      std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
  EXPECT_EQ(exchange(form).rfind("HTTP/1.1 415", 0), 0u);
  const std::string te =
      "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(exchange(te).rfind("HTTP/1.1 501", 0), 0u);
}

TEST_F(ServerTest, BadFramingIs400) {
  const std::string both =
      "POST /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  EXPECT_EQ(exchange(both).rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(exchange("NOT HTTP AT ALL\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
}

TEST_F(ServerTest, Http10HeadAndUnknownRoutes) {
  const std::string r10 = exchange("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r10.rfind("HTTP/1.0 200", 0), 0u) << r10;
  const std::string head = exchange("HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(head.find("\"name\""), std::string::npos);  // no body for HEAD
  const std::string nf = exchange("GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(nf.rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_NE(nf.find("\"detail\""), std::string::npos);
  const std::string opt =
      exchange("OPTIONS /estimate-gpu-memory HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(opt.rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_NE(opt.find("Allow: POST"), std::string::npos);
}

TEST_F(ServerTest, BadInputNeverKillsTheServer) {
  for (const char* body : {"{", "[]", "{\"model_name\": 1}", "\x01\x02\x03", "{\"a\":1,\"a\":2}"}) {
    const std::string r = exchange(post(body));
    EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << body;
  }
  EXPECT_EQ(exchange(post(kBody)).rfind("HTTP/1.1 200", 0), 0u);
}

TEST(ServerLifecycle, PortInUseIsAClearStartupError) {
  http::router r(cats());
  http::server_options o;
  o.port = 0;
  http::server first(r, o);
  ASSERT_EQ(first.start(), "");
  o.port = first.port();
  http::server second(r, o);
  const std::string err = second.start();
  EXPECT_NE(err.find("cannot listen"), std::string::npos) << err;
  first.stop();
  first.wait();
}

TEST(ServerLifecycle, StopEndsIdleKeepAliveConnections) {
  http::router r(cats());
  http::server_options o;
  o.port = 0;
  http::server s(r, o);
  ASSERT_EQ(s.start(), "");
  const int fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  char buf[4096];
  ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0);
  s.stop();
  s.wait();  // returns although the client keeps its connection open
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(::recv(fd, buf, sizeof buf, 0), 0);  // closed by the server
  ::close(fd);
}

}  // namespace
}  // namespace vllm_mem::testing
