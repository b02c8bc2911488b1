// serve_cli_test.cpp — `vllm-mem serve` as a process: SIGTERM/SIGINT finish a request in flight
// and exit 0, the access log's JSON lines, start-up failures (port in use, a broken --data-dir,
// bad environment values) with a clear message and a non-zero exit, flags over environment.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/socket_client.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

// A `vllm-mem serve --port 0 ...` child process with its stderr on a pipe.
class serve_process {
 public:
  // `args` after `serve` (with --port 0 unless they name a port); with `banner`, waits for the
  // start-up line and reads the port from it.
  explicit serve_process(const std::vector<std::string>& args, bool banner = true) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      for (const char* v : {"HF_ENDPOINT", "HF_TOKEN", "HF_HOME", "VLLM_MEM_DATA_DIR"})
        ::unsetenv(v);
      std::vector<std::string> all = {VLLM_MEM_BINARY, "serve"};
      if (std::find(args.begin(), args.end(), "--port") == args.end()) {
        all.push_back("--port");
        all.push_back("0");
      }
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(VLLM_MEM_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    err_fd_ = fds[0];
    if (!banner) return;
    // The start-up line names the port.
    const std::string marker = "serving on http://127.0.0.1:";
    read_stderr_until([&] { return err_.find(marker) != std::string::npos; });
    const std::size_t at = err_.find(marker);
    if (at != std::string::npos)
      port_ = static_cast<std::uint16_t>(std::stoi(err_.substr(at + marker.size())));
  }
  ~serve_process() {
    if (pid_ > 0 && exit_code_ == -2) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  std::uint16_t port() const { return port_; }
  const std::string& err() const { return err_; }
  void signal(int sig) { ::kill(pid_, sig); }

  // Waits for the exit (up to 30 s); the exit code, or -1 when killed by a signal or hung.
  int wait_exit() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      read_stderr_until([] { return false; }, 50);
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        read_stderr_until([] { return false; }, 50);
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
      }
    }
    return -1;
  }

 private:
  template <class Done>
  void read_stderr_until(Done done, int total_ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(total_ms);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{err_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      const auto n = ::read(err_fd_, buf, sizeof buf);
      if (n <= 0) return;
      err_.append(buf, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  int exit_code_ = -2;
  std::uint16_t port_ = 0;
  std::string err_;
};

const std::string kBody = R"({"model_name": "meta-llama/Llama-2-7b", "max_seq_len": 2048})";

bool refuses_connections(std::uint16_t port) {
  const int fd = connect_to(port, 1000);
  if (fd < 0) return true;
  ::close(fd);
  return false;
}

// A request half sent when SIGTERM arrives is finished and answered whole; then exit 0.
void finishes_in_flight_request(int sig) {
  serve_process p({"--access-log", "--data-dir", std::string(VLLM_MEM_SOURCE_DIR) + "/data"});
  ASSERT_NE(p.port(), 0) << p.err();
  const int fd = connect_to(p.port());
  ASSERT_GE(fd, 0);
  const std::string req = post_request("/estimate-gpu-memory", kBody);
  const std::size_t half = req.size() - kBody.size() / 2;
  ASSERT_TRUE(send_all(fd, req.substr(0, half)));
  // The first bytes must have reached the server before the signal (no timing assertion: a
  // request that began arriving is finished; one that did not is closed as idle).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  p.signal(sig);
  ASSERT_TRUE(eventually([&] { return refuses_connections(p.port()); }))
      << "still accepting after the signal";
  ASSERT_TRUE(send_all(fd, req.substr(half)));
  std::string pending;
  const auto r = read_reply(fd, pending);
  ::close(fd);
  ASSERT_TRUE(r) << p.err();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->has("Connection: close"));
  EXPECT_NE(r->body.find("\"model_params_memory_gb\":13.48"), std::string::npos);
  EXPECT_TRUE(json::accept(r->body));  // whole, not cut off
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
  EXPECT_NE(p.err().find(sig == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping"),
            std::string::npos)
      << p.err();
  EXPECT_NE(p.err().find("vllm-mem: stopped"), std::string::npos);
  // The access log: one JSON line per request. The probes that watch for the acceptor to close
  // may still be accepted while the stop begins; those connections are shed with a 503 line.
  int found = 0;
  std::size_t start = 0;
  while (start < p.err().size()) {
    const std::size_t end = p.err().find('\n', start);
    const std::string line = p.err().substr(start, end - start);
    start = end == std::string::npos ? p.err().size() : end + 1;
    if (line.empty() || line[0] != '{') continue;
    const json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    if (j["status"] == 503 && j["method"] == "") {
      EXPECT_EQ(j["route"], "other") << line;
      continue;
    }
    EXPECT_EQ(j["method"], "POST");
    EXPECT_EQ(j["route"], "/estimate-gpu-memory");
    EXPECT_EQ(j["target"], "/estimate-gpu-memory");
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(j["bytes"], r->body.size());
    EXPECT_TRUE(j["duration_us"].is_number_unsigned());
    EXPECT_EQ(j["remote"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
    EXPECT_EQ(j["time"].get<std::string>().size(), 24u);  // 2026-11-26T16:30:00.123Z
    ++found;
  }
  EXPECT_EQ(found, 1) << p.err();
}

TEST(ServeCli, SigtermFinishesTheRequestInFlightAndExits0) { finishes_in_flight_request(SIGTERM); }
TEST(ServeCli, SigintFinishesTheRequestInFlightAndExits0) { finishes_in_flight_request(SIGINT); }

TEST(ServeCli, PortInUseFailsClearly) {
  serve_process first({});
  ASSERT_NE(first.port(), 0) << first.err();
  for (const char* level : {"info", "quiet"}) {  // start-up errors print at every level
    const auto r = run_cli("serve --log-level " + std::string(level) + " --port " +
                           std::to_string(first.port()));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out, "");
  }
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait_exit(), 0);
}

TEST(ServeCli, QuietPrintsNothing) {
  // A free port: bound by the kernel's choice, then released for the server.
  std::uint16_t port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  serve_process p({"--port", std::to_string(port), "--access-log", "--log-level", "quiet"}, false);
  ASSERT_TRUE(eventually([&] { return fetch(port, get_request("/healthz")).has_value(); }));
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0);
  EXPECT_EQ(p.err(), "");  // no start-up, access or shutdown line
}

TEST(ServeCli, BrokenDataDirFailsStartUpNamingTheFile) {
  temp_dir d;
  write_file(d.path() / "gpus.json", "{\"schema_version\": 1, \"gpus\": []}");
  write_file(d.path() / "models" / "broken.json", "{\"schema_version\": 1, \"models\": [");
  auto r = run_cli("serve --port 0 --data-dir " + d.path().string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find((d.path() / "models" / "broken.json").string()), std::string::npos) << r.err;
  // The same through the environment.
  r = run_cli("VLLM_MEM_DATA_DIR=" + d.path().string(), "serve --port 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("broken.json"), std::string::npos) << r.err;
  // A directory without the files.
  r = run_cli("serve --port 0 --data-dir " + (d.path() / "nothing").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nothing"), std::string::npos) << r.err;
}

TEST(ServeCli, BadEnvironmentValuesNameTheVariable) {
  for (const char* env : {"VLLM_MEM_PORT=abc", "VLLM_MEM_BODY_LIMIT_BYTES=64k",
                          "VLLM_MEM_MAX_CONNECTIONS=0", "VLLM_MEM_LOG_LEVEL=loud",
                          "VLLM_MEM_REQUEST_TIMEOUT_SECONDS=-1", "VLLM_MEM_ACCESS_LOG=maybe"}) {
    const auto r = run_cli(env, "serve");
    EXPECT_EQ(r.exit_code, 2) << env;
    const std::string name = std::string(env).substr(0, std::string(env).find('='));
    EXPECT_NE(r.err.find("environment variable " + name), std::string::npos) << r.err;
  }
  auto r = run_cli("serve --max-connections 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--max-connections"), std::string::npos) << r.err;
  // A flag wins over its variable: the bad variable is not even read; the host then fails.
  r = run_cli("VLLM_MEM_BODY_LIMIT_BYTES=abc VLLM_MEM_HOST=999.1.1.1",
              "serve --body-limit-bytes 1000 --port 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid host '999.1.1.1'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vllm_mem::testing
