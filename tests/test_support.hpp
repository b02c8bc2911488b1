// test_support.hpp — shared fixtures: the embedded catalogs, loaded once.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "router.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/catalogs.hpp"

namespace vllm_mem::testing {

inline const catalogs& cats() {
  static const catalogs c = [] {
    auto r = load_embedded_catalogs();
    if (!r) {
      ADD_FAILURE() << r.err().message;
      std::abort();
    }
    return std::move(*r);
  }();
  return c;
}

inline const model_arch& arch_of(const std::string& id) {
  const model_entry* e = cats().models.find_exact(id);
  if (e == nullptr || !e->arch) {
    ADD_FAILURE() << "no resolved entry " << id;
    std::abort();
  }
  return *e->arch;
}

// Runs a request body through the same decoder and estimate as the API.
inline estimate_result run(const nlohmann::json& body) {
  auto req = parse_estimate_request(body);
  if (!req) {
    ADD_FAILURE() << req.err().message;
    std::abort();
  }
  auto res = estimate(*req, cats().models, cats().gpus);
  if (!res) {
    ADD_FAILURE() << res.err().message;
    std::abort();
  }
  return *res;
}

inline error run_error(const nlohmann::json& body) {
  auto req = parse_estimate_request(body);
  if (!req) return req.err();
  auto res = estimate(*req, cats().models, cats().gpus);
  if (res) {
    ADD_FAILURE() << "expected an error for " << body.dump();
    return {};
  }
  return res.err();
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// The pure router over the embedded catalogs, and one-line calls through it.
inline const http::router& api() {
  static const http::router r(cats());
  return r;
}
inline http::response api_post(const std::string& path, const std::string& body) {
  return api().handle({"POST", path, body, "application/json", ""});
}
inline http::response api_get(const std::string& target) {
  return api().handle({"GET", target, "", "", ""});
}

namespace fs = std::filesystem;

// A temporary folder removed with everything in it at the end of its scope.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("vllm-mem-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs the built vllm-mem with `args` (shell words), with the Hugging Face environment cleared,
// HF_HUB_OFFLINE=1 (tests never reach the real Hub; a test of a stand-in Hub says
// HF_HUB_OFFLINE=0) and `env_prefix` (e.g. "HF_HOME=/tmp/x") set; stdout and stderr are kept
// apart.
struct cli_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline cli_result run_cli(const std::string& env_prefix, const std::string& args) {
  temp_dir errdir;
  const fs::path err_file = errdir.path() / "stderr";
  const std::string cmd =
      "env -u HF_ENDPOINT -u HF_TOKEN -u HF_HUB_OFFLINE -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE "
      "-u HF_HOME -u VLLM_MEM_CACHE HF_HUB_OFFLINE=1 " +
      env_prefix + " '" + std::string(VLLM_MEM_BINARY) + "' " + args + " 2>" + err_file.string();
  cli_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  return r;
}
inline cli_result run_cli(const std::string& args) { return run_cli("", args); }

}  // namespace vllm_mem::testing
