// interconnect_test.cpp — the non-torch term with tensor/pipeline parallelism follows the
// interconnect (NCCL's transport): NVLink keeps the calibrated 1.8-2.0 GiB, PCIe NCCL's few
// PCIe channels (profile.hpp nccl_pcie_device_bytes). Hand-checked bytes; the default from the
// catalog GPU or from a bare CUDA total; the echo in the answer.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/vllm/startup.hpp"

namespace vllm_mem::testing {
namespace {

vllm_profile profile(const char* version, engine_kind engine) {
  auto v = parse_vllm_version(version, "vllm_version");
  EXPECT_TRUE(v.ok());
  auto p = make_profile(*v, engine);
  EXPECT_TRUE(p.ok());
  return *p;
}

TEST(Interconnect, NcclPcieBuffersFromNcclsDefaults) {
  // Per connection: LL 8*512*8*16 = 524,288 + LL128 120*640*8*8 = 4,915,200 + Simple 4 MiB
  // 4,194,304 = 9,633,792 B; 2 communicators x 4 channels x 3 connections = 24.
  EXPECT_EQ(nccl_pcie_device_bytes(), 24ULL * 9633792ULL);
  EXPECT_EQ(nccl_pcie_device_bytes(), 231211008ULL);  // 0.2153 GiB
}

TEST(Interconnect, PcieTermPerVersionNeverAboveNvlink) {
  const double pcie = 231211008.0 / kGiB;
  for (const char* v : {"0.5.5", "0.6.3", "0.8.2", "0.10.1"}) {
    const vllm_profile p = profile(v, engine_kind::v0);
    EXPECT_NEAR(p.non_torch_pcie_gib, pcie, 1e-12) << v;
    EXPECT_GT(p.non_torch_nccl_gib, 1.7) << v;
  }
  for (const char* v : {"0.11.0", "0.19.0"}) {
    const vllm_profile p = profile(v, engine_kind::v1);
    EXPECT_NEAR(p.non_torch_pcie_gib, pcie, 1e-12) << v;
    EXPECT_GT(p.non_torch_nccl_gib, 1.7) << v;
  }
  // V1 0.7-0.10: the calibrated TP term (0.13) is already below NCCL's PCIe buffers.
  const vllm_profile p010 = profile("0.10.1", engine_kind::v1);
  EXPECT_DOUBLE_EQ(p010.non_torch_nccl_gib, 0.13);
  EXPECT_DOUBLE_EQ(p010.non_torch_pcie_gib, 0.13);
}

TEST(Interconnect, StartupNonTorchAtTensorParallel8OnPcieAndNvlink) {
  // Gemma-3-27B, V0 0.8.2, 8 GPUs of 14.56 GiB (row 1030's T4s), eager.
  const model_arch& a = arch_of("google/gemma-3-27b-it");
  deployment d;
  d.gpu_total_bytes = static_cast<std::uint64_t>(14.56 * kGiB);
  d.gpu_memory_utilization = 0.85;
  d.profile = profile("0.8.2", engine_kind::v0);
  d.tp = 8;
  d.max_model_len = 16384;
  d.max_num_seqs = 16;
  d.max_num_batched_tokens = 16384;
  d.enforce_eager = true;
  d.interconnect = interconnect_kind::pcie;
  auto pcie = simulate_startup(a, d);
  ASSERT_TRUE(pcie.ok());
  // 0.05 GiB (V0 >= 0.7 single GPU) + 231,211,008 B = 53,687,091.2 + 231,211,008 -> 284,898,099.
  EXPECT_EQ(pcie->non_torch_bytes, 284898099u);
  d.interconnect = interconnect_kind::nvlink;
  auto nvlink = simulate_startup(a, d);
  ASSERT_TRUE(nvlink.ok());
  // 0.05 + 2.0 GiB.
  EXPECT_EQ(nvlink->non_torch_bytes, static_cast<std::uint64_t>(2.05 * kGiB + 0.5));
  // The difference goes to the KV cache, byte for byte.
  EXPECT_EQ(pcie->kv_cache_bytes - nvlink->kv_cache_bytes,
            static_cast<std::int64_t>(nvlink->non_torch_bytes - pcie->non_torch_bytes));
  // One GPU: no NCCL, the interconnect does not matter.
  d.tp = 1;
  d.max_model_len = 2048;
  d.interconnect = interconnect_kind::pcie;
  const model_arch& small = arch_of("meta-llama/Meta-Llama-3-8B");
  auto one = simulate_startup(small, d);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->non_torch_bytes, static_cast<std::uint64_t>(0.05 * kGiB + 0.5));
}

nlohmann::json tp2_request() {
  return {{"model_name", "meta-llama/Meta-Llama-3-8B"},
          {"max_seq_len", 2048},
          {"tensor_parallel_size", 2},
          {"vllm_version", "0.19.0"}};
}

TEST(Interconnect, DefaultFromTheCatalogGpu) {
  auto body = tp2_request();
  body["gpu"] = "L40S";  // "PCIe 4.0 (no NVLink)"
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::pcie);
  body["gpu"] = "H100-80GB";  // "NVLink 4 (900 GB/s)"
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::nvlink);
  body["gpu"] = "A100-PCIe-80GB";  // "PCIe 4.0; NVLink bridge 600 GB/s": a bridge joins pairs only
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::pcie);
  body["interconnect"] = "nvlink";  // the request's own wins
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::nvlink);
}

TEST(Interconnect, DefaultFromABareCudaTotal) {
  auto body = tp2_request();
  body["gpu_memory_gib"] = 14.74;  // only the T4 (PCIe 3.0) has it
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::pcie);
  body["gpu_memory_gib"] = 14.56;  // a T4 on a host that reserves more: within 2% of 14.74
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::pcie);
  body["gpu_memory_gib"] = 22.16;  // L4, A10G, A10 (all PCIe) within 2%: they agree
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::pcie);
  body["gpu_memory_gib"] = 79.15;  // A100-80GB (NVLink) and A100-PCIe-80GB: ambiguous
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::nvlink);
  body["gpu_memory_gib"] = 39.39;  // A100-40GB (SXM, NVLink) only
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::nvlink);
  body["gpu_memory_gib"] = 30.0;  // no catalog GPU: NVLink, as before
  EXPECT_EQ(run(body).deploy.interconnect, interconnect_kind::nvlink);
  body["interconnect"] = "PCIe";
  const estimate_result e = run(body);
  EXPECT_EQ(e.deploy.interconnect, interconnect_kind::pcie);
  EXPECT_EQ(to_json(e)["vllm_startup"]["interconnect"], "pcie");
  // V1 0.19 at tp 2 over PCIe: 0.25 + 0.2153 GiB = 268,435,456 + 231,211,008 = 499,646,464 B.
  EXPECT_EQ(e.startup.non_torch_bytes, 499646464u);
}

TEST(Interconnect, BadValueIsA400NamingTheField) {
  auto body = tp2_request();
  body["gpu"] = "H100-80GB";
  body["interconnect"] = "infiniband";
  const error e = run_error(body);
  EXPECT_EQ(e.field, "interconnect");
  EXPECT_NE(e.message.find("\"nvlink\" or \"pcie\""), std::string::npos) << e.message;
}

}  // namespace
}  // namespace vllm_mem::testing
