// ingest/gpu_catalog.hpp — the GPU catalog (data/gpus.json): memory as CUDA reports it, and prices.
//
// Contract: `gpu_catalog::load` parses data/gpus.json strictly (format in data/schema.md); every
// id and alias is indexed case-insensitively (also with spaces, dashes and underscores ignored,
// so "h100 80gb", "H100-80GB" and "h100_80gb" are one name). Immutable after load; safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct cloud_instance {
  std::string provider;
  std::string instance;
  std::uint64_t gpus = 1;  // 0: a fraction of one GPU (vGPU slice), not priced per GPU
  std::optional<double> price_usd_per_hour;
  std::string price_type;
  std::string region;
  std::string source;
  std::string date;
};

struct gpu_entry {
  std::string id;
  std::string name;
  std::vector<std::string> aliases;
  std::string vendor;
  std::string architecture;
  std::string compute_capability;
  std::string interconnect;
  double memory_nominal_gb = 0;
  double cuda_total_gib = 0;  // 0: unknown (not usable for estimates)
  std::string cuda_total_source;
  double memory_bandwidth_gbps = 0;
  bool fp8_support = false;
  std::vector<cloud_instance> cloud_instances;

  // vLLM's default batch split (§8.2): >= 70 GiB and not an A100.
  bool big_for_vllm_defaults() const;
  // Cheapest on-demand price per GPU-hour among instances with a price, if any.
  std::optional<double> cheapest_price_per_gpu_hour() const;
  // The instance that price comes from (nullptr when none has a price).
  const cloud_instance* cheapest_instance() const;
};

class gpu_catalog {
 public:
  static result<gpu_catalog> load(std::string_view json_text);
  const std::vector<gpu_entry>& entries() const { return *entries_; }
  const gpu_entry* find(std::string_view name) const;
  std::vector<std::string> ids() const;

 private:
  std::shared_ptr<std::vector<gpu_entry>> entries_;
  std::shared_ptr<std::unordered_map<std::string, std::size_t>> index_;
};

// The key used by the index: lower-case, without spaces, dashes and underscores.
std::string gpu_key(std::string_view name);

}  // namespace vllm_mem
