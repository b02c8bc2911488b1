// plan/placement.hpp — several models on shared GPUs: which instance on which GPUs, with which
// --gpu-memory-utilization, started in which order.
//
// Contract: placement packs instances (first fit, largest first) so that, on every GPU, the
// process footprints (budget T*u plus the CUDA context and CUDA graphs outside the budget) sum
// to at most the GPU's memory; the free memory left is shared out as more KV cache. Versions
// that charge co-located instances each other's memory (V0 0.6.4, V1 0.7-0.9.1, §3) get
// cumulative utilizations in start order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vllm_mem/ingest/gpu_catalog.hpp"
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/plan/setup.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct pool_entry {
  std::string gpu;  // catalog id
  std::uint64_t count = 1;
  std::uint64_t reserved_bytes = 0;  // per GPU, held by other processes before any instance
};

struct placement_request {
  std::vector<plan_request> models;  // each instance's model and workload (estimate fields)
  std::vector<pool_entry> pool;      // the GPUs, in order (their indices are CUDA_VISIBLE_DEVICES)
};
// An error about one model of a placement: "models[i]: ..." with the field under it.
error in_placement_model(std::size_t i, error e);

struct placed_instance {
  std::size_t model_index = 0;
  std::string model_name;
  std::string gpu;                         // catalog id
  std::vector<std::uint64_t> gpu_indices;  // into the pool's GPUs
  std::uint64_t tp = 1;
  double min_gpu_memory_utilization = 0;  // alone on the GPU
  double gpu_memory_utilization = 0;      // the flag to pass (with headroom shared out)
  std::uint64_t footprint_bytes = 0;      // per GPU, at gpu_memory_utilization
  std::uint64_t start_order = 0;
  plan_option option;  // the estimate at gpu_memory_utilization
};

struct pool_gpu {
  std::string gpu;
  std::uint64_t total_bytes = 0;
  std::uint64_t reserved_bytes = 0;    // other processes' (the pool's reserved_memory_gib)
  std::uint64_t used_bytes = 0;        // reserved_bytes + the placed instances' footprints
  std::vector<std::size_t> instances;  // into placement_result::instances
};

struct placement_result {
  bool fits = false;
  std::string reason;
  std::string budget_mode;  // per_instance | global
  std::vector<pool_gpu> gpus;
  std::vector<placed_instance> instances;
  std::vector<std::string> notes;
};

result<placement_result> place(const placement_request& r, const model_db& db,
                               const gpu_catalog& gpus);

}  // namespace vllm_mem
