// hub_support.hpp — test helpers for model files and the Hub: temporary folders, small
// safetensors files written by the test, and a stand-in Hugging Face Hub on 127.0.0.1 (plain
// sockets, one request per connection, Range requests, gated and missing answers).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace vllm_mem::testing {

struct fake_tensor {
  std::string name;
  std::string dtype;  // safetensors name: BF16, F32, F8_E4M3, ...
  std::vector<std::uint64_t> shape;
};

inline std::uint64_t fake_dtype_bytes(const std::string& d) {
  if (d == "F32" || d == "I32") return 4;
  if (d == "F16" || d == "BF16") return 2;
  if (d == "F64" || d == "I64") return 8;
  return 1;  // F8_*, U8, I8
}

// An 8-byte little-endian header length, the JSON header, zero-filled tensor data.
inline std::string safetensors_bytes(const std::vector<fake_tensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    std::uint64_t n = fake_dtype_bytes(t.dtype);
    for (auto d : t.shape) n *= d;
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');  // safetensors pads the header with spaces
  std::string out(8, '\0');
  std::uint64_t len = h.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((len >> (8 * i)) & 0xff);
  out += h;
  out.append(static_cast<std::size_t>(offset), '\0');
  return out;
}

inline std::uint64_t tensor_bytes(const std::vector<fake_tensor>& tensors) {
  std::uint64_t total = 0;
  for (const auto& t : tensors) {
    std::uint64_t n = fake_dtype_bytes(t.dtype);
    for (auto d : t.shape) n *= d;
    total += n;
  }
  return total;
}

// A stand-in for the Hub: answers the routes it was given, 404 otherwise (with the Hub's
// X-Error-Code: RepoNotFound, or EntryNotFound when the repository has other files).
class stand_in_hub {
 public:
  struct route {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string required_token;  // gated: 401 without a token, 403 with another one
    bool ranges = false;         // honour Range: bytes=a-b with 206
  };

  stand_in_hub() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~stand_in_hub() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  stand_in_hub(const stand_in_hub&) = delete;
  stand_in_hub& operator=(const stand_in_hub&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void set(const std::string& path, route r) {
    std::lock_guard<std::mutex> lock(mu_);
    routes_[path] = std::move(r);
  }
  void set_json(const std::string& path, const nlohmann::json& j) {
    route r;
    r.body = j.dump();
    set(path, r);
  }
  void set_file(const std::string& path, std::string bytes, std::string token = {}) {
    route r;
    r.body = std::move(bytes);
    r.ranges = true;
    r.required_token = std::move(token);
    set(path, r);
  }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> authorizations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return authorizations_;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      serve(c);
      ::close(c);
    }
  }

  void serve(int c) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
    }
    std::istringstream lines(in);
    std::string method, target, version;
    lines >> method >> target >> version;
    std::string line, range, auth;
    std::getline(lines, line);
    while (std::getline(lines, line) && line != "\r") {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
      if (name == "range") range = value;
      if (name == "authorization") auth = value;
    }
    route r;
    bool found = false;
    bool repo_known = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(method + " " + target + (range.empty() ? "" : " [" + range + "]"));
      authorizations_.push_back(auth);
      if (auto it = routes_.find(target); it != routes_.end()) {
        r = it->second;
        found = true;
      }
      // /ORG/NAME/resolve/... : does the stand-in know other files of that repository?
      const auto resolve = target.find("/resolve/");
      if (resolve != std::string::npos) {
        const std::string repo = target.substr(0, resolve);
        for (const auto& [k, v] : routes_) repo_known = repo_known || k.rfind(repo + "/", 0) == 0;
      }
    }
    std::vector<std::pair<std::string, std::string>> headers;
    int status = 404;
    std::string body = "{\"error\":\"not found\"}";
    if (!found) {
      headers.emplace_back("X-Error-Code", repo_known ? "EntryNotFound" : "RepoNotFound");
    } else if (!r.required_token.empty() && auth != "Bearer " + r.required_token) {
      status = auth.empty() ? 401 : 403;
      body = "{\"error\":\"gated\"}";
      headers.emplace_back("X-Error-Code", "GatedRepo");
      headers.emplace_back("X-Error-Message", "Access to this model is restricted.");
    } else {
      status = r.status;
      body = r.body;
      headers = r.headers;
      if (r.ranges && range.rfind("bytes=", 0) == 0) {
        const auto dash = range.find('-');
        const std::uint64_t a = std::stoull(range.substr(6, dash - 6));
        const std::uint64_t b = std::stoull(range.substr(dash + 1));
        const std::uint64_t total = r.body.size();
        if (a < total) {
          const std::uint64_t last = std::min(b, total - 1);
          body = r.body.substr(static_cast<std::size_t>(a), static_cast<std::size_t>(last - a + 1));
          status = 206;
          headers.emplace_back("Content-Range", "bytes " + std::to_string(a) + "-" +
                                                    std::to_string(last) + "/" +
                                                    std::to_string(total));
        } else {
          status = 416;
          body.clear();
        }
      }
    }
    std::string out = "HTTP/1.1 " + std::to_string(status) +
                      " X\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    out += "\r\n";
    if (method != "HEAD") out += body;
    std::size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, route> routes_;
  std::vector<std::string> requests_;
  std::vector<std::string> authorizations_;
};

// Runs the built vllm-mem with `env_prefix` (e.g. "HF_ENDPOINT=... HF_HOME=...") and arguments;
// the Hub-related variables of the test's own environment are cleared first.
// A Qwen2-style model the database does not hold; its counts are checked by hand in
// tests/ingest/hf_config_test.cpp (110,640,128 parameters, 4096 KV bytes per token).
inline nlohmann::json tiny_qwen2_config() {
  return nlohmann::json{{"architectures", {"Qwen2ForCausalLM"}},
                        {"model_type", "qwen2"},
                        {"hidden_size", 1024},
                        {"intermediate_size", 2816},
                        {"num_hidden_layers", 4},
                        {"num_attention_heads", 16},
                        {"num_key_value_heads", 4},
                        {"vocab_size", 32000},
                        {"max_position_embeddings", 8192},
                        {"rope_theta", 1000000.0},
                        {"tie_word_embeddings", false},
                        {"torch_dtype", "bfloat16"},
                        {"use_sliding_window", false},
                        {"sliding_window", 8192},
                        {"max_window_layers", 4}};
}

}  // namespace vllm_mem::testing
