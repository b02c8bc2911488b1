// test_support.hpp — shared fixtures: the embedded catalogs, loaded once.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vllm_mem/catalogs.hpp"
#include "vllm_mem/estimate.hpp"

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

}  // namespace vllm_mem::testing
