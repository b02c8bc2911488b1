// reserved_memory_test.cpp — `reserved_memory_gib`, memory other processes hold on a shared GPU,
// under each version's budget rule (docs/vllm-versions.md "other processes"): charged as
// non-torch by the global budget, refused by V1's free-memory check, an out-of-memory for a
// per-instance V0 that fills T*u anyway, and the free headroom of 0.34's extensible KV cache.
// Llama-3.1-8B on one H100-80GB: T = 79.19 GiB, CUDA context 0.5 GiB, 20 GiB held elsewhere.
#include <gtest/gtest.h>

#include <cmath>

#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kReserved = 20LL << 30;

json body(const char* version, double utilization, double reserved_gib) {
  json b = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
            {"max_seq_len", 8192},
            {"gpu", "H100-80GB"},
            {"vllm_version", version}};
  if (utilization > 0) b["gpu_memory_utilization"] = utilization;
  if (reserved_gib > 0) b["reserved_memory_gib"] = reserved_gib;
  return b;
}

TEST(ReservedMemory, GlobalBudgetChargesItAsNonTorch) {
  // V1 0.8 (§4.2: non_torch = (T - free) - allocated): the KV cache is exactly 20 GiB smaller.
  for (const char* version : {"0.8.0", "0.6.4"}) {
    const estimate_result alone = run(body(version, 0.8, 0));
    const estimate_result shared = run(body(version, 0.8, 20));
    EXPECT_EQ(shared.deploy.profile.budget, budget_mode::global) << version;
    EXPECT_EQ(alone.startup.kv_cache_bytes - shared.startup.kv_cache_bytes, kReserved) << version;
    EXPECT_EQ(shared.startup.non_torch_bytes - alone.startup.non_torch_bytes,
              static_cast<std::uint64_t>(kReserved))
        << version;
    EXPECT_TRUE(shared.startup.fits) << version;
    EXPECT_EQ(shared.startup.requested_bytes, alone.startup.requested_bytes) << version;
  }
}

TEST(ReservedMemory, V1FreeMemoryCheckRefusesBelowTheBudget) {
  // V1 0.10 at 0.9: free 79.19 - 0.5 - 20 = 58.69 GiB < 0.9 x 79.19 = 71.27 GiB.
  const estimate_result shared = run(body("0.10.0", 0.9, 20));
  EXPECT_FALSE(shared.startup.fits);
  EXPECT_EQ(shared.startup.limit, limiting_factor::gpu_memory_utilization);
  EXPECT_NE(shared.startup.error.find("Free memory on device (58.69/79.19 GiB) on startup is less "
                                      "than desired GPU memory utilization (0.9, 71.27 GiB)"),
            std::string::npos)
      << shared.startup.error;
  EXPECT_EQ(shared.startup.verdict, startup_verdict::does_not_fit);
  // The margin is the shortfall: 58.69 - 71.27 = -12.58 GiB.
  EXPECT_NEAR(static_cast<double>(shared.startup.margin_bytes) / kGiB, -12.58, 0.01);
  EXPECT_NE(shared.startup.verdict_advice.find("lower --gpu-memory-utilization"),
            std::string::npos);

  // At 0.7 (55.43 GiB <= 58.69) it starts, and only its own memory counts: the same KV cache.
  const estimate_result alone = run(body("0.10.0", 0.7, 0));
  const estimate_result fits = run(body("0.10.0", 0.7, 20));
  EXPECT_TRUE(fits.startup.fits);
  EXPECT_EQ(fits.startup.kv_cache_bytes, alone.startup.kv_cache_bytes);
  EXPECT_EQ(fits.startup.non_torch_bytes, alone.startup.non_torch_bytes);
  // 24 GiB held: 54.69 GiB free < 55.43.
  EXPECT_EQ(run(body("0.10.0", 0.7, 24)).startup.limit, limiting_factor::gpu_memory_utilization);
}

TEST(ReservedMemory, PerInstanceV0FillsTheBudgetAndRunsOutOfMemory) {
  // V0 0.6.6 at 0.9: 71.27 + 20 + 0.5 > 79.19, with no check before the KV allocation.
  const estimate_result shared = run(body("0.6.6", 0.9, 20));
  EXPECT_EQ(shared.deploy.profile.budget, budget_mode::per_instance);
  EXPECT_FALSE(shared.startup.fits);
  EXPECT_EQ(shared.startup.limit, limiting_factor::gpu_memory_utilization);
  EXPECT_NE(shared.startup.error.find("CUDA out of memory allocating the KV cache"),
            std::string::npos)
      << shared.startup.error;
  // At 0.7: 55.43 + 20.5 = 75.93 <= 79.19, and the KV cache is the instance's alone.
  const estimate_result fits = run(body("0.6.6", 0.7, 20));
  EXPECT_TRUE(fits.startup.fits);
  EXPECT_EQ(fits.startup.kv_cache_bytes, run(body("0.6.6", 0.7, 0)).startup.kv_cache_bytes);
}

TEST(ReservedMemory, ExtensibleCacheSeesLessFreeMemory) {
  // 0.34 at 0.95: A = min(requested - R, free - R - margin) - P. Alone the budget side binds;
  // with 20 GiB held free = 79.19 - 0.5 - 20 = 58.69 GiB binds, so the KV cache loses
  // requested - free + margin = 75.23 - 58.69 + 1.0 = 17.54 GiB.
  const estimate_result alone = run(body("0.34.0", 0.95, 0));
  const estimate_result shared = run(body("0.34.0", 0.95, 20));
  EXPECT_EQ(shared.deploy.profile.budget, budget_mode::extensible_kv);
  EXPECT_TRUE(shared.startup.fits);
  const std::int64_t free_bytes =
      static_cast<std::int64_t>(shared.startup.total_bytes - shared.startup.cuda_context_bytes) -
      kReserved;
  EXPECT_EQ(alone.startup.kv_cache_bytes - shared.startup.kv_cache_bytes,
            static_cast<std::int64_t>(shared.startup.requested_bytes) - free_bytes +
                static_cast<std::int64_t>(shared.startup.kv_margin_bytes));
  EXPECT_NEAR(
      static_cast<double>(alone.startup.kv_cache_bytes - shared.startup.kv_cache_bytes) / kGiB,
      17.54, 0.01);
  // Unset, the utilization asks for the whole GPU: a shared one is refused.
  const estimate_result unset = run(body("0.34.0", 0, 20));
  EXPECT_FALSE(unset.startup.fits);
  EXPECT_EQ(unset.startup.limit, limiting_factor::gpu_memory_utilization);
  EXPECT_NE(unset.startup.error.find("shared with another process"), std::string::npos);
  EXPECT_TRUE(run(body("0.34.0", 0, 0)).startup.fits);
}

TEST(ReservedMemory, WeightsMustFitBesideIt) {
  // 14.99 GiB of weights + 0.5 + 70 > 79.19: out of memory while loading, on every version.
  for (const char* version : {"0.8.0", "0.10.0", "0.6.6"}) {
    const estimate_result r = run(body(version, 0.1, 70));
    EXPECT_EQ(r.startup.limit, limiting_factor::weights) << version;
    EXPECT_NE(r.startup.error.find("other processes hold 70.00 GiB"), std::string::npos)
        << r.startup.error;
  }
}

TEST(ReservedMemory, EchoedAndRefusedAsTheApiSaysIt) {
  const http::response ok = api_post("/estimate-gpu-memory", body("0.8.0", 0.8, 20).dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  const json j = json::parse(ok.body);
  EXPECT_DOUBLE_EQ(j["vllm_startup"]["reserved_memory_gib"].get<double>(), 20.0);
  EXPECT_EQ(j["vllm_startup"]["vllm_args"].get<std::string>().find("reserved"), std::string::npos);
  const json bare =
      json::parse(api_post("/estimate-gpu-memory", body("0.8.0", 0.8, 0).dump()).body);
  EXPECT_FALSE(bare["vllm_startup"].contains("reserved_memory_gib"));

  for (const json& bad : {json(-1), json("20"), json(80.0)}) {
    json b = body("0.8.0", 0.8, 0);
    b["reserved_memory_gib"] = bad;
    const http::response r = api_post("/estimate-gpu-memory", b.dump());
    EXPECT_EQ(r.status, 400) << bad.dump() << " " << r.body;
    EXPECT_NE(r.body.find("reserved_memory_gib"), std::string::npos) << r.body;
  }
}

// POST /placement: a pool GPU's reserved_memory_gib is on the GPU before the first instance.
json place(const char* version, double reserved_gib) {
  json pool = {{"gpu", "H100-80GB"}, {"count", 1}};
  if (reserved_gib > 0) pool["reserved_memory_gib"] = reserved_gib;
  const json b = {{"models",
                   {{{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
                     {"max_model_len", 8192},
                     {"vllm_version", version}},
                    {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
                     {"max_model_len", 4096},
                     {"vllm_version", version}}}},
                  {"pool", json::array({pool})}};
  const http::response r = api_post("/placement", b.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body);
}

TEST(ReservedMemory, PlacementLeavesItToOtherProcesses) {
  // Per-instance budgets (V1 0.10): the footprints fit beside the 20 GiB, and the headroom
  // shared out as KV cache is what is left after it.
  const json alone = place("0.10.0", 0);
  const json shared = place("0.10.0", 20);
  ASSERT_TRUE(shared["fits"].get<bool>()) << shared.dump();
  const json& g = shared["gpus"][0];
  EXPECT_DOUBLE_EQ(g["reserved_gib"].get<double>(), 20.0);
  double footprints = 0;
  for (const auto& i : shared["instances"]) footprints += i["footprint_gib"].get<double>();
  EXPECT_NEAR(g["used_gib"].get<double>(), 20.0 + footprints, 0.02);
  EXPECT_LE(g["used_gib"].get<double>(), g["total_gib"].get<double>());
  double u_alone = 0, u_shared = 0;
  for (const auto& i : alone["instances"]) u_alone += i["gpu_memory_utilization"].get<double>();
  for (const auto& i : shared["instances"]) u_shared += i["gpu_memory_utilization"].get<double>();
  // 20 / 79.19 = 0.2526 of the GPU less to share out, to the 0.001 step of each of two flags.
  EXPECT_NEAR(u_alone - u_shared, 20.0 / 79.19, 0.003);

  // Global budgets (V0 0.6.4): the first instance's budget must also cover the 20 GiB.
  const json global = place("0.6.4", 20);
  ASSERT_TRUE(global["fits"].get<bool>()) << global.dump();
  for (const auto& i : global["instances"]) {
    if (i["start_order"].get<int>() != 0) continue;
    const double min_u = i["min_gpu_memory_utilization"].get<double>();
    EXPECT_NEAR(i["gpu_memory_utilization"].get<double>(),
                std::ceil((min_u + 20.0 / 79.19) * 1000.0 - 1e-9) / 1000.0, 1e-9);
  }
}

TEST(ReservedMemory, PlacementRefusesItWhereThePoolSetsIt) {
  const auto status_field = [](const json& b) {
    const http::response r = api_post("/placement", b.dump());
    EXPECT_EQ(r.status, 400) << r.body;
    return json::parse(r.body)["detail"].get<std::string>();
  };
  const json model = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"}};
  EXPECT_NE(status_field({{"models", {model}},
                          {"pool", {{{"gpu", "H100-80GB"}, {"reserved_memory_gib", 79.5}}}}})
                .find("pool[0].reserved_memory_gib"),
            std::string::npos);
  json with = model;
  with["reserved_memory_gib"] = 10;
  EXPECT_NE(status_field({{"models", {with}}, {"gpu", "H100-80GB"}})
                .find("models[0].reserved_memory_gib"),
            std::string::npos);
}

}  // namespace
}  // namespace vllm_mem::testing
