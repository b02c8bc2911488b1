// planner_test.cpp — the deployment planner: plan, reverse solves, placement and sweeps agree
// with the forward estimate they are built on.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "test_support.hpp"
#include "vllm_mem/api/plan_json.hpp"
#include "vllm_mem/ingest/arch_json.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

const char* kLlama70 = "meta-llama/Llama-3.1-70B-Instruct";
const char* kLlama8 = "meta-llama/Llama-3.1-8B-Instruct";

json plan_json(const json& body) {
  auto req = parse_plan_request(body, cats().gpus);
  EXPECT_TRUE(req.ok()) << (req ? "" : req.err().message);
  if (!req) return {};
  auto res = plan(*req, cats().models, cats().gpus);
  EXPECT_TRUE(res.ok()) << (res ? "" : res.err().message);
  if (!res) return {};
  return to_json(*res);
}

json solve_json(const json& body) {
  auto req = parse_solve_request(body, cats().gpus);
  EXPECT_TRUE(req.ok()) << (req ? "" : req.err().message);
  if (!req) return {};
  auto res = solve(*req, cats().models, cats().gpus);
  EXPECT_TRUE(res.ok()) << (res ? "" : res.err().message);
  if (!res) return {};
  return to_json(*res);
}

json place_json(const json& body) {
  auto req = parse_placement_request(body, cats().gpus);
  EXPECT_TRUE(req.ok()) << (req ? "" : req.err().message);
  if (!req) return {};
  auto res = place(*req, cats().models, cats().gpus);
  EXPECT_TRUE(res.ok()) << (res ? "" : res.err().message);
  if (!res) return {};
  return to_json(*res);
}

json sweep_json(const json& body) {
  auto req = parse_sweep_request(body, cats().gpus);
  EXPECT_TRUE(req.ok()) << (req ? "" : req.err().message);
  if (!req) return {};
  auto res = sweep(*req, cats().models, cats().gpus);
  EXPECT_TRUE(res.ok()) << (res ? "" : res.err().message);
  if (!res) return {};
  return to_json(*res);
}

// The planner's fit rule, on the forward estimate: starts and holds the batch.
bool forward_fits(const json& body) {
  const estimate_result e = run(body);
  const bool batch = body.contains("max_batch_size");
  return e.startup.fits &&
         (!batch || e.startup.max_concurrency >=
                        static_cast<double>(body["max_batch_size"].get<std::uint64_t>()));
}

const json* find_option(const json& plan, const std::string& gpu, std::uint64_t n,
                        bool trade = false) {
  for (const auto& o : plan["options"]) {
    if (o["gpu"] == gpu && o["num_gpus"] == n && o["trades_precision"].is_null() != trade) {
      return &o;
    }
  }
  return nullptr;
}

// --------------------------------------------------------------------------------------------
// Plan

class Llama70Plan : public ::testing::Test {
 protected:
  static const json& p() {
    static const json plan =
        plan_json({{"model_name", kLlama70}, {"max_model_len", 8192}, {"max_batch_size", 32}});
    return plan;
  }
};

TEST_F(Llama70Plan, ResolvesTheInstructVariantInTheDatabase) {
  EXPECT_EQ(p()["resolved_model_id"], "meta-llama/Llama-3.1-70B");
  EXPECT_EQ(p()["workload"]["max_model_len"], 8192);
  EXPECT_EQ(p()["workload"]["max_batch_size"], 32);
}

TEST_F(Llama70Plan, OneH100IsInfeasibleBecauseOfTheWeights) {
  const json* o = find_option(p(), "H100-80GB", 1);
  ASSERT_NE(o, nullptr);
  EXPECT_FALSE((*o)["fits"].get<bool>());
  EXPECT_FALSE((*o)["starts"].get<bool>());
  EXPECT_EQ((*o)["limiting_factor"], "weights");
  // 70.6B parameters x 2 bytes = 131 GiB on one 79.19 GiB GPU.
  EXPECT_NE((*o)["reason"].get<std::string>().find("weights need 131"), std::string::npos)
      << (*o)["reason"];
}

TEST_F(Llama70Plan, TwoH100StartButTheirKvCacheDoesNotHold32Sequences) {
  const json* o = find_option(p(), "H100-80GB", 2);
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE((*o)["starts"].get<bool>());
  EXPECT_FALSE((*o)["fits"].get<bool>());
  EXPECT_EQ((*o)["limiting_factor"], "kv_cache");
  EXPECT_LT((*o)["max_concurrency"].get<double>(), 32.0);
}

TEST_F(Llama70Plan, FeasibleH100A100H200OptionsWithValidParallelSizes) {
  for (const char* gpu : {"H100-80GB", "A100-80GB", "H200-141GB"}) {
    const json* fit = nullptr;
    for (const auto& o : p()["options"]) {
      if (o["gpu"] == gpu && o["fits"].get<bool>() && o["trades_precision"].is_null()) fit = &o;
    }
    ASSERT_NE(fit, nullptr) << gpu;
    const auto tp = (*fit)["tensor_parallel_size"].get<std::uint64_t>();
    const auto pp = (*fit)["pipeline_parallel_size"].get<std::uint64_t>();
    EXPECT_EQ(tp * pp, (*fit)["num_gpus"].get<std::uint64_t>());
    EXPECT_EQ(64 % tp, 0u);                   // 64 attention heads
    EXPECT_TRUE(8 % tp == 0 || tp % 8 == 0);  // 8 KV heads
    EXPECT_GE((*fit)["max_concurrency"].get<double>(), 32.0);
    const std::string cmd = (*fit)["vllm_command"];
    EXPECT_EQ(cmd.rfind(std::string("vllm serve ") + kLlama70 + " ", 0), 0u) << cmd;
    EXPECT_NE(cmd.find("--max-model-len 8192"), std::string::npos);
    EXPECT_NE(cmd.find("--max-num-seqs 32"), std::string::npos);
    if (tp > 1) {
      EXPECT_NE(cmd.find("--tensor-parallel-size " + std::to_string(tp)), std::string::npos);
    }
    ASSERT_TRUE((*fit)["hourly_cost_usd"].is_number()) << gpu;
    const double per_gpu = (*fit)["price"]["usd_per_gpu_hour"];
    EXPECT_NEAR((*fit)["hourly_cost_usd"].get<double>(), per_gpu * (*fit)["num_gpus"].get<double>(),
                0.006);
    EXPECT_NEAR((*fit)["monthly_cost_usd"].get<double>(),
                (*fit)["hourly_cost_usd"].get<double>() * 730.0, 0.01 * 730.0);
    EXPECT_EQ((*fit)["price"]["source"], "catalog");
    EXPECT_TRUE((*fit)["price"]["instance"]["date"].is_string());
  }
  // 70B in 16 bit needs 4 H100s for 32 x 8k; 2 H200s hold it.
  const json* h100 = find_option(p(), "H100-80GB", 4);
  ASSERT_NE(h100, nullptr);
  EXPECT_TRUE((*h100)["fits"].get<bool>());
  const json* h200 = find_option(p(), "H200-141GB", 2);
  ASSERT_NE(h200, nullptr);
  EXPECT_TRUE((*h200)["fits"].get<bool>());
}

TEST_F(Llama70Plan, PerGpuNumbersEqualTheEstimateForTheSameSetup) {
  // Written by hand, as a client would: 4 x H100, tensor parallel 4.
  const estimate_result e = run({{"model_name", kLlama70},
                                 {"max_seq_len", 8192},
                                 {"max_batch_size", 32},
                                 {"gpu", "H100-80GB"},
                                 {"tensor_parallel_size", 4}});
  const json* o = find_option(p(), "H100-80GB", 4);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ((*o)["vllm_startup"], to_json(e)["vllm_startup"]);
  EXPECT_EQ((*o)["kv_cache_tokens"], e.startup.kv_cache_tokens);
  EXPECT_EQ((*o)["max_model_len_fit"], e.startup.max_model_len_fit);
  // And every option's own estimate_request reproduces its vllm_startup.
  for (const auto& opt : p()["options"]) {
    EXPECT_EQ(opt["vllm_startup"], to_json(run(opt["estimate_request"]))["vllm_startup"])
        << opt["estimate_request"];
  }
}

TEST_F(Llama70Plan, RankedFittingFirstThenRequestedPrecisionThenCost) {
  const json& opts = p()["options"];
  ASSERT_GT(opts.size(), 3u);
  bool seen_unfit = false, seen_trade = false;
  double last_cost = 0;
  for (const auto& o : opts) {
    const bool fits = o["fits"];
    if (!fits) seen_unfit = true;
    EXPECT_FALSE(fits && seen_unfit) << "a fitting option after a non-fitting one";
    if (!fits) continue;
    const bool trade = !o["trades_precision"].is_null();
    if (trade && !seen_trade) {
      seen_trade = true;
      last_cost = 0;
    }
    EXPECT_FALSE(!trade && seen_trade) << "requested precision after a trade";
    if (o["hourly_cost_usd"].is_number()) {
      EXPECT_GE(o["hourly_cost_usd"].get<double>() + 1e-9, last_cost);
      last_cost = o["hourly_cost_usd"];
    } else {
      last_cost = 1e18;  // unpriced options come after the priced ones
    }
  }
  EXPECT_TRUE(opts[0]["fits"].get<bool>());
  EXPECT_TRUE(opts[0]["trades_precision"].is_null());
  EXPECT_NE(p()["summary"].get<std::string>().find("Best for 8192-token context x 32"),
            std::string::npos);
}

TEST_F(Llama70Plan, PrecisionTradesOnlyWhenTheyNeedFewerGpus) {
  // fp8 weights (and KV) fit 32 x 8k on 2 H100s, where 16 bit needs 4.
  const json* trade = find_option(p(), "H100-80GB", 2, /*trade=*/true);
  ASSERT_NE(trade, nullptr);
  EXPECT_TRUE((*trade)["fits"].get<bool>());
  const std::string label = (*trade)["trades_precision"];
  EXPECT_NE(label.find("fp8"), std::string::npos);
  const std::string cmd = (*trade)["vllm_command"];
  EXPECT_TRUE(cmd.find("--quantization fp8") != std::string::npos ||
              cmd.find("--kv-cache-dtype fp8") != std::string::npos)
      << cmd;
  for (const auto& o : p()["options"]) {
    if (o["trades_precision"].is_null()) continue;
    EXPECT_TRUE(o["fits"].get<bool>());
    const json* exact = nullptr;
    for (const auto& e : p()["options"]) {
      if (e["gpu"] == o["gpu"] && e["fits"].get<bool>() && e["trades_precision"].is_null())
        exact = &e;
    }
    if (exact) {
      EXPECT_LT(o["num_gpus"], (*exact)["num_gpus"]) << o["gpu"];
    }
  }
  // No fp8 on a V100 (compute capability 7.0).
  for (const auto& o : p()["options"]) {
    if (o["gpu"] == "V100-32GB" && o["trades_precision"].is_string()) {
      EXPECT_EQ(o["trades_precision"].get<std::string>().find("fp8"), std::string::npos);
    }
  }
  // Ampere runs fp8 weights weight-only: the note says so.
  const json* a100 = find_option(p(), "A100-80GB", 2, true);
  ASSERT_NE(a100, nullptr);
  EXPECT_NE((*a100)["notes"].dump().find("Marlin"), std::string::npos);
}

// A setup that fits only within the error bar (verdict marginal) ranks after one that fits by
// more, however cheaper: at 30000 tokens one L4 has 0.84 GiB left against a 1.26 GiB error bar
// (vLLM 0.20), one L40S 21 GiB.
TEST(Plan, MarginalOptionsRankAfterSafeOnes) {
  json body = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
               {"max_model_len", 30000},
               {"max_num_seqs", 1},
               {"num_gpus", 1},
               {"gpus", {"L4", "L40S"}},
               {"vllm_version", "0.20.0"}};
  const json p = plan_json(body);
  ASSERT_EQ(p["options"].size(), 2u);
  EXPECT_EQ(p["options"][0]["gpu"], "L40S");
  EXPECT_EQ(p["options"][0]["vllm_startup"]["verdict"], "fits");
  EXPECT_EQ(p["options"][1]["gpu"], "L4");
  EXPECT_EQ(p["options"][1]["vllm_startup"]["verdict"], "marginal");
  EXPECT_LT(p["options"][1]["hourly_cost_usd"].get<double>(),
            p["options"][0]["hourly_cost_usd"].get<double>());
  // With room to spare, the cheaper L4 comes first again.
  body["max_model_len"] = 24000;
  EXPECT_EQ(plan_json(body)["options"][0]["gpu"], "L4");
}

TEST(Plan, WithoutPrecisionTradesThereAreNone) {
  const json p = plan_json({{"model_name", kLlama70},
                            {"max_model_len", 8192},
                            {"max_batch_size", 32},
                            {"gpus", {"H100-80GB", "L40S"}},
                            {"precision_trades", false}});
  for (const auto& o : p["options"]) {
    EXPECT_TRUE(o["trades_precision"].is_null());
    EXPECT_TRUE(o["gpu"] == "H100-80GB" || o["gpu"] == "L40S");
  }
}

TEST(Plan, ContractFieldsOnEveryOption) {
  const json p = plan_json({{"model_name", kLlama8}, {"max_model_len", 4096}, {"gpus", {"L4"}}});
  ASSERT_TRUE(p["options"].is_array());
  ASSERT_FALSE(p["options"].empty());
  for (const auto& o : p["options"]) {
    for (const char* k :
         {"gpu", "num_gpus", "tensor_parallel_size", "pipeline_parallel_size", "fits",
          "limiting_factor", "max_model_len_fit", "max_concurrency", "kv_cache_tokens",
          "vllm_startup", "vllm_command", "hourly_cost_usd", "monthly_cost_usd"}) {
      EXPECT_TRUE(o.contains(k)) << k;
    }
    EXPECT_TRUE(o["vllm_startup"].is_object());
  }
  // Without a batch, fits means vLLM starts; 8B fits one L4 at 4k.
  EXPECT_EQ(p["options"][0]["num_gpus"], 1);
  EXPECT_TRUE(p["options"][0]["fits"].get<bool>());
}

TEST(Plan, PriceOverridesAndBudget) {
  const json p = plan_json({{"model_name", kLlama70},
                            {"max_model_len", 8192},
                            {"max_batch_size", 32},
                            {"gpus", {"H100-80GB", "H200-141GB"}},
                            {"prices", {{"h100_80gb", 2.0}}},
                            {"budget_usd_per_hour", 9.0},
                            {"precision_trades", false}});
  const json* h100 = find_option(p, "H100-80GB", 4);
  ASSERT_NE(h100, nullptr);
  EXPECT_EQ((*h100)["price"]["source"], "request");
  EXPECT_DOUBLE_EQ((*h100)["hourly_cost_usd"].get<double>(), 8.0);
  EXPECT_TRUE((*h100)["within_budget"].get<bool>());
  // 2 x H200 at the catalog price ($7.91 per GPU-hour) is over $9/hour.
  const json* h200 = find_option(p, "H200-141GB", 2);
  ASSERT_NE(h200, nullptr);
  EXPECT_FALSE((*h200)["within_budget"].get<bool>());
  EXPECT_EQ(p["options"][0]["gpu"], "H100-80GB");
}

TEST(Plan, NothingFitsSaysWhyAndWhatWould) {
  const json p = plan_json({{"model_name", kLlama70},
                            {"max_model_len", 8192},
                            {"max_batch_size", 32},
                            {"gpu", "L4"},
                            {"num_gpus", 2},
                            {"precision_trades", false}});
  ASSERT_EQ(p["options"].size(), 1u);
  EXPECT_FALSE(p["options"][0]["fits"].get<bool>());
  const std::string summary = p["summary"];
  EXPECT_EQ(summary.rfind("Nothing fits", 0), 0u) << summary;
  EXPECT_NE(summary.find("weights"), std::string::npos) << summary;
  bool more = false;
  for (const auto& s : p["suggestions"]) {
    if (s["kind"] != "more_gpus") continue;
    more = true;
    // The suggested count fits on the forward model.
    EXPECT_EQ(s["details"]["gpu"], "L4");
    json body = {{"model_name", kLlama70},
                 {"max_seq_len", 8192},
                 {"max_batch_size", 32},
                 {"gpu", "L4"},
                 {"tensor_parallel_size", s["details"]["tensor_parallel_size"]},
                 {"pipeline_parallel_size", s["details"]["pipeline_parallel_size"]}};
    EXPECT_TRUE(forward_fits(body)) << body;
  }
  EXPECT_TRUE(more) << p["suggestions"];
}

TEST(Plan, ShorterContextSuggestionFits) {
  const json p = plan_json({{"model_name", kLlama8},
                            {"max_model_len", 131072},
                            {"max_batch_size", 64},
                            {"gpu", "L4"},
                            {"num_gpus", 1},
                            {"max_gpus", 1},
                            {"precision_trades", false}});
  bool shorter = false;
  for (const auto& s : p["suggestions"]) {
    if (s["kind"] != "shorter_context") continue;
    shorter = true;
    const auto len = s["details"]["max_model_len"].get<std::uint64_t>();
    EXPECT_TRUE(forward_fits(
        {{"model_name", kLlama8}, {"max_seq_len", len}, {"max_batch_size", 64}, {"gpu", "L4"}}));
  }
  EXPECT_TRUE(shorter) << p.dump(1);
}

TEST(Plan, ContextDefaultsToTheModelMaximum) {
  const json p = plan_json({{"model_name", kLlama8}, {"gpus", {"H100-80GB"}}});
  EXPECT_EQ(p["workload"]["max_model_len"], 131072);
  EXPECT_TRUE(p["workload"]["max_model_len_from_model"].get<bool>());
  EXPECT_EQ(p["options"][0]["max_model_len"], 131072);
}

TEST(Plan, FixedParallelSizesAreKept) {
  const json p = plan_json({{"model_name", kLlama70},
                            {"max_model_len", 4096},
                            {"gpu", "A100-80GB"},
                            {"tensor_parallel_size", 2},
                            {"pipeline_parallel_size", 2}});
  ASSERT_FALSE(p["options"].empty());
  EXPECT_EQ(p["options"][0]["tensor_parallel_size"], 2);
  EXPECT_EQ(p["options"][0]["pipeline_parallel_size"], 2);
  EXPECT_EQ(p["options"][0]["num_gpus"], 4);
}

TEST(Plan, MultiNodeUsesPipelineParallelAcrossNodes) {
  // DeepSeek-V3 (fp8, 671B) does not fit 8 A100-80GB; 16 do, as tp 8 x pp 2 over two nodes.
  const json p = plan_json({{"model_name", "deepseek-ai/DeepSeek-V3"},
                            {"max_model_len", 8192},
                            {"gpus", {"A100-80GB"}},
                            {"max_gpus", 16},
                            {"precision_trades", false}});
  const json* o = find_option(p, "A100-80GB", 16);
  ASSERT_NE(o, nullptr) << p["summary"];
  EXPECT_TRUE((*o)["fits"].get<bool>());
  EXPECT_EQ((*o)["tensor_parallel_size"], 8);
  EXPECT_EQ((*o)["pipeline_parallel_size"], 2);
  EXPECT_EQ((*o)["nodes"], 2);
  EXPECT_NE((*o)["notes"].dump().find("Ray"), std::string::npos);
}

TEST(Plan, ParallelSplitFollowsVllmRules) {
  // Qwen2.5-7B: 28 heads, 4 KV heads: 8 GPUs cannot be tp 8; the planner uses tp 4 x pp 2.
  const json p = plan_json(
      {{"model_name", "Qwen/Qwen2.5-7B"}, {"max_model_len", 4096}, {"gpu", "T4"}, {"num_gpus", 8}});
  ASSERT_FALSE(p["options"].empty());
  EXPECT_EQ(p["options"][0]["tensor_parallel_size"], 4);
  EXPECT_EQ(p["options"][0]["pipeline_parallel_size"], 2);
}

TEST(GpuCatalog, FractionalInstancesAreNotPricedPerGpu) {
  // AWS g6f sells 1/8 and 1/2 of an L40: not a per-GPU price for a whole L40.
  const gpu_entry* l40 = cats().gpus.find("L40");
  ASSERT_NE(l40, nullptr);
  EXPECT_FALSE(l40->cheapest_price_per_gpu_hour().has_value());
  const gpu_entry* h100 = cats().gpus.find("H100-80GB");
  ASSERT_NE(h100->cheapest_instance(), nullptr);
  EXPECT_DOUBLE_EQ(*h100->cheapest_price_per_gpu_hour(), 6.88);
}

// --------------------------------------------------------------------------------------------
// Reverse solves agree with the forward estimate

struct solve_case {
  const char* name;
  json body;  // a fixed setup
};

class ReverseSolve : public ::testing::TestWithParam<solve_case> {};

json body_with(json b, const char* k, const json& v) {
  b[k] = v;
  return b;
}

// The solve's setup body, as an estimate body.
json estimate_body(const json& setup) {
  json b = setup;
  for (const char* k : {"solve", "num_gpus", "max_gpus", "gpus_per_node", "prices"}) b.erase(k);
  if (!b.contains("max_seq_len")) b["max_seq_len"] = b["max_model_len"];
  return b;
}

TEST_P(ReverseSolve, LargestContextFitsAndOneBlockMoreDoesNot) {
  const json& body = GetParam().body;
  const json s = solve_json(body_with(body, "solve", "max_model_len"))["solves"]["max_model_len"];
  ASSERT_TRUE(s["found"].get<bool>()) << s;
  const auto len = s["value"].get<std::uint64_t>();
  const json at = s["at_value"]["estimate_request"];
  EXPECT_EQ(at["max_model_len"], len);
  EXPECT_TRUE(forward_fits(at));
  const std::uint64_t block = run(at).deploy.block_size;
  EXPECT_FALSE(forward_fits(
      body_with(body_with(at, "max_model_len", len + block), "max_seq_len", len + block)));
  EXPECT_FALSE(
      forward_fits(body_with(body_with(at, "max_model_len", len + 1), "max_seq_len", len + 1)));
  EXPECT_EQ(s["check"]["next"], len + block);
  EXPECT_FALSE(s["check"]["next_fits"].get<bool>());
  // Without a batch the largest context is the estimate's own max_model_len_fit.
  if (!body.contains("max_batch_size")) {
    EXPECT_EQ(len, run(estimate_body(body)).startup.max_model_len_fit);
  } else {
    EXPECT_GE(s["max_model_len_starts"].get<std::uint64_t>(), len);
  }
}

TEST_P(ReverseSolve, LargestConcurrencyFitsAndOneMoreDoesNot) {
  const json& body = GetParam().body;
  const json s =
      solve_json(body_with(body, "solve", "max_concurrency"))["solves"]["max_concurrency"];
  ASSERT_TRUE(s["found"].get<bool>()) << s;
  const auto n = s["value"].get<std::uint64_t>();
  json at = s["at_value"]["estimate_request"];
  EXPECT_EQ(at["max_batch_size"], n);
  EXPECT_TRUE(forward_fits(at));
  const estimate_result e = run(at);
  EXPECT_GE(e.startup.max_concurrency, static_cast<double>(n));
  at["max_batch_size"] = n + 1;
  const estimate_result e1 = run(at);
  EXPECT_TRUE(!forward_fits(at) || e1.deploy.max_num_seqs != n + 1);
}

TEST_P(ReverseSolve, SmallestUtilizationFitsAndOneStepLessDoesNot) {
  const json& body = GetParam().body;
  const json s = solve_json(body_with(
      body, "solve", "min_gpu_memory_utilization"))["solves"]["min_gpu_memory_utilization"];
  ASSERT_TRUE(s["found"].get<bool>()) << s;
  const double u = s["value"];
  json at = s["at_value"]["estimate_request"];
  EXPECT_DOUBLE_EQ(at["gpu_memory_utilization"].get<double>(), u);
  EXPECT_TRUE(forward_fits(at));
  at["gpu_memory_utilization"] = std::round(u * 1000 - 1) / 1000;
  EXPECT_FALSE(forward_fits(at));
}

TEST_P(ReverseSolve, FewestGpusFitAndTheNextSmallerCountDoesNot) {
  const json& body = GetParam().body;
  const json s = solve_json(body_with(body, "solve", "min_gpus"))["solves"]["min_gpus"];
  ASSERT_TRUE(s["found"].get<bool>()) << s;
  EXPECT_TRUE(forward_fits(s["at_value"]["estimate_request"]));
  if (s.contains("check")) {
    EXPECT_FALSE(s["check"]["next_fits"].get<bool>());
  }
  EXPECT_EQ(s["value"], s["at_value"]["num_gpus"]);
}

INSTANTIATE_TEST_SUITE_P(
    Setups, ReverseSolve,
    ::testing::Values(solve_case{"llama8_l4",
                                 {{"model_name", kLlama8}, {"max_model_len", 8192}, {"gpu", "L4"}}},
                      solve_case{"llama8_l4_batch",
                                 {{"model_name", kLlama8},
                                  {"max_model_len", 4096},
                                  {"max_batch_size", 8},
                                  {"gpu", "L4"}}},
                      solve_case{"llama70_h100_tp4_batch",
                                 {{"model_name", kLlama70},
                                  {"max_model_len", 8192},
                                  {"max_batch_size", 32},
                                  {"gpu", "H100-80GB"},
                                  {"num_gpus", 4}}},
                      solve_case{"gemma2_a100_40gb_v0",
                                 {{"model_name", "google/gemma-2-9b"},
                                  {"max_model_len", 4096},
                                  {"gpu", "A100-40GB"},
                                  {"vllm_version", "0.6.3"}}},
                      solve_case{"qwen_a100_v1_0_8",
                                 {{"model_name", "Qwen/Qwen2.5-7B"},
                                  {"max_model_len", 16384},
                                  {"max_batch_size", 16},
                                  {"gpu", "A100-40GB"},
                                  {"vllm_version", "0.8.5"}}}),
    [](const ::testing::TestParamInfo<solve_case>& i) { return std::string(i.param.name); });

TEST(Solve, MinGpusAgreesWithThePlan) {
  const json body = {{"model_name", kLlama70},
                     {"max_model_len", 8192},
                     {"max_batch_size", 32},
                     {"gpu", "H100-80GB"},
                     {"solve", "min_gpus"}};
  const json s = solve_json(body)["solves"]["min_gpus"];
  EXPECT_EQ(s["value"], 4);
  EXPECT_EQ(s["check"]["next"], 2);
  EXPECT_EQ(s["check"]["next_limiting_factor"], "kv_cache");
}

TEST(Solve, NothingFitsIsNotFoundWithAReason) {
  const json s = solve_json({{"model_name", kLlama70},
                             {"max_model_len", 8192},
                             {"gpu", "L4"},
                             {"solve", {"max_model_len", "min_gpu_memory_utilization"}}});
  for (const char* k : {"max_model_len", "min_gpu_memory_utilization"}) {
    EXPECT_FALSE(s["solves"][k]["found"].get<bool>());
    EXPECT_TRUE(s["solves"][k]["value"].is_null());
    EXPECT_NE(s["solves"][k]["reason"].get<std::string>().find("weights"), std::string::npos)
        << s["solves"][k]["reason"];
  }
  EXPECT_FALSE(s["solves"].contains("max_concurrency"));
}

TEST(Solve, ARuleAProbeBreaksIsDoesNotFitNotAnError) {
  // V0 0.6.0 without chunked prefill rejects max_model_len above max_num_batched_tokens: the
  // largest context is that limit, and one block more is refused by the rule.
  const json s = solve_json({{"model_name", kLlama8},
                             {"max_model_len", 512},
                             {"max_num_batched_tokens", 512},
                             {"vllm_version", "0.6.0"},
                             {"gpu", "L4"},
                             {"solve", "max_model_len"}})["solves"]["max_model_len"];
  EXPECT_EQ(s["value"], 512);
  EXPECT_EQ(s["check"]["next_limiting_factor"], "max_num_batched_tokens");
  const json w = sweep_json({{"model_name", kLlama8},
                             {"max_model_len", 512},
                             {"max_num_batched_tokens", 512},
                             {"vllm_version", "0.6.0"},
                             {"gpu", "L4"},
                             {"context_lengths", {512, 1024}}});
  ASSERT_EQ(w["context"].size(), 2u);
  EXPECT_TRUE(w["context"][0]["fits"].get<bool>());
  EXPECT_FALSE(w["context"][1]["fits"].get<bool>());
  EXPECT_NE(w["context"][1]["error"].get<std::string>().find("max_num_batched_tokens"),
            std::string::npos);
}

// --------------------------------------------------------------------------------------------
// Several models on shared GPUs

void expect_consistent(const json& p) {
  ASSERT_TRUE(p["fits"].get<bool>()) << p["reason"];
  for (const auto& g : p["gpus"]) {
    EXPECT_LE(g["used_gib"].get<double>(), g["total_gib"].get<double>() + 0.01);
  }
  std::set<std::string> ports;
  for (const auto& i : p["instances"]) {
    EXPECT_GE(i["gpu_memory_utilization"].get<double>() + 1e-9,
              i["min_gpu_memory_utilization"].get<double>());
    // The flag is what the estimate ran with, and there it fits.
    const json& req = i["estimate_request"];
    if (p["budget_mode"] == "per_instance") {
      EXPECT_DOUBLE_EQ(req["gpu_memory_utilization"].get<double>(),
                       i["gpu_memory_utilization"].get<double>());
    }
    EXPECT_TRUE(forward_fits(req)) << req;
    const std::string cmd = i["vllm_command"];
    EXPECT_EQ(cmd.rfind("CUDA_VISIBLE_DEVICES=", 0), 0u) << cmd;
    ports.insert(cmd.substr(cmd.rfind("--port")));
  }
  EXPECT_EQ(ports.size(), p["instances"].size());
}

TEST(Placement, ThreeModelsShareOneH100) {
  const json p =
      place_json({{"models",
                   {{{"model_name", kLlama8}, {"max_model_len", 8192}, {"max_batch_size", 8}},
                    {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
                     {"max_model_len", 4096},
                     {"max_batch_size", 16}},
                    {{"model_name", "meta-llama/Llama-3.2-3B-Instruct"}, {"max_model_len", 8192}}}},
                  {"gpu", "H100-80GB"},
                  {"num_gpus", 1}});
  expect_consistent(p);
  ASSERT_EQ(p["instances"].size(), 3u);
  EXPECT_EQ(p["budget_mode"], "per_instance");
  // The footprints (with the context and graphs) fill at most the GPU, less the 2% margin.
  double sum_u = 0;
  for (const auto& i : p["instances"]) sum_u += i["gpu_memory_utilization"].get<double>();
  EXPECT_LT(sum_u, 1.0);
  EXPECT_GE(p["gpus"][0]["free_gib"].get<double>(), 0.0);
}

TEST(Placement, EachInstanceNeedsItsMinimumAlone) {
  // The minimum utilization of each instance is the solve's for that model on that GPU.
  const json p = place_json(
      {{"models", {{{"model_name", kLlama8}, {"max_model_len", 8192}, {"max_batch_size", 8}}}},
       {"gpu", "L40S"}});
  expect_consistent(p);
  const json s = solve_json({{"model_name", kLlama8},
                             {"max_model_len", 8192},
                             {"max_batch_size", 8},
                             {"gpu", "L40S"},
                             {"solve", "min_gpu_memory_utilization"}});
  EXPECT_DOUBLE_EQ(p["instances"][0]["min_gpu_memory_utilization"].get<double>(),
                   s["solves"]["min_gpu_memory_utilization"]["value"].get<double>());
}

TEST(Placement, SpreadsOverThePoolAndUsesTensorParallelWhenNeeded) {
  const json p =
      place_json({{"models",
                   {{{"model_name", kLlama8}, {"max_model_len", 4096}, {"max_batch_size", 4}},
                    {{"model_name", kLlama70}, {"max_model_len", 4096}, {"max_batch_size", 2}}}},
                  {"pool", {{{"gpu", "H100-80GB"}, {"count", 2}}, {{"gpu", "L4"}, {"count", 1}}}}});
  expect_consistent(p);
  ASSERT_EQ(p["gpus"].size(), 3u);
  ASSERT_EQ(p["instances"].size(), 2u);
  // 70B (131 GiB of weights) needs both H100s as tensor parallel 2, placed first (largest);
  // the 8B then only fits the L4.
  const json& big = p["instances"][0];
  EXPECT_EQ(big["model_name"], kLlama70);
  EXPECT_EQ(big["tensor_parallel_size"], 2);
  EXPECT_EQ(big["gpu_indices"], json({0, 1}));
  EXPECT_NE(big["vllm_command"].get<std::string>().find("CUDA_VISIBLE_DEVICES=0,1 "),
            std::string::npos);
  const json& small = p["instances"][1];
  EXPECT_EQ(small["gpu"], "L4");
  EXPECT_EQ(small["gpu_indices"], json({2}));
}

TEST(Placement, TooMuchForThePoolSaysWhich) {
  const json p = place_json({{"models",
                              {{{"model_name", kLlama70}, {"max_model_len", 8192}},
                               {{"model_name", kLlama70}, {"max_model_len", 8192}}}},
                             {"gpu", "H100-80GB"},
                             {"num_gpus", 2}});
  EXPECT_FALSE(p["fits"].get<bool>());
  EXPECT_NE(p["reason"].get<std::string>().find("does not fit next to"), std::string::npos)
      << p["reason"];
}

TEST(Placement, ModelThatFitsNowhereAlone) {
  const json p = place_json(
      {{"models", {{{"model_name", kLlama70}, {"max_model_len", 8192}}}}, {"gpu", "L4"}});
  EXPECT_FALSE(p["fits"].get<bool>());
  EXPECT_NE(p["reason"].get<std::string>().find("even alone"), std::string::npos);
}

TEST(Placement, TensorParallelLargerThanThePool) {
  const json p = place_json(
      {{"models",
        {{{"model_name", kLlama8}, {"max_model_len", 4096}, {"tensor_parallel_size", 8}}}},
       {"gpu", "L4"},
       {"num_gpus", 2}});
  EXPECT_FALSE(p["fits"].get<bool>());
  EXPECT_NE(p["reason"].get<std::string>().find("needs 8 GPUs of one type"), std::string::npos)
      << p["reason"];
}

TEST(Placement, GlobalAccountingVersionsGetCumulativeUtilizations) {
  // vLLM 0.8.5 (V1 before 0.9.2) counts the other instance's memory against the budget.
  const json p = place_json({{"models",
                              {{{"model_name", kLlama8},
                                {"max_model_len", 4096},
                                {"max_batch_size", 8},
                                {"vllm_version", "0.8.5"}},
                               {{"model_name", "meta-llama/Llama-3.2-3B-Instruct"},
                                {"max_model_len", 4096},
                                {"max_batch_size", 8},
                                {"vllm_version", "0.8.5"}}}},
                             {"gpu", "A100-80GB"}});
  ASSERT_TRUE(p["fits"].get<bool>()) << p["reason"];
  EXPECT_EQ(p["budget_mode"], "global");
  const json& second = p["instances"][1];
  EXPECT_EQ(second["start_order"], 1);
  const double first_footprint = p["instances"][0]["footprint_gib"].get<double>();
  EXPECT_NEAR(second["gpu_memory_utilization"].get<double>(),
              second["min_gpu_memory_utilization"].get<double>() + first_footprint / 79.15, 0.002);
  EXPECT_NE(second["vllm_command"].get<std::string>().find(
                "--gpu-memory-utilization " +
                [&] {
                  char buf[32];
                  std::snprintf(buf, sizeof buf, "%.4g",
                                second["gpu_memory_utilization"].get<double>());
                  return std::string(buf);
                }()),
            std::string::npos);
}

// --------------------------------------------------------------------------------------------
// Sweeps

TEST(Sweep, ContextGridWithTheFitBoundary) {
  const json s = sweep_json(
      {{"model_name", kLlama8}, {"max_model_len", 8192}, {"max_batch_size", 4}, {"gpu", "L4"}});
  const auto fit = s["max_model_len_fit"].get<std::uint64_t>();
  std::set<std::uint64_t> xs;
  double last_conc = 1e18;
  for (const auto& p : s["context"]) {
    const auto x = p["max_model_len"].get<std::uint64_t>();
    xs.insert(x);
    EXPECT_EQ(p["fits"].get<bool>(), x <= fit) << x;
    EXPECT_LE(p["max_concurrency"].get<double>(), last_conc + 1e-9);
    last_conc = p["max_concurrency"];
  }
  for (std::uint64_t x = 1024; x <= 131072; x *= 2) EXPECT_TRUE(xs.count(x)) << x;
  EXPECT_TRUE(xs.count(fit));
  EXPECT_TRUE(xs.count(fit + 16));
  EXPECT_TRUE(xs.count(8192));
}

TEST(Sweep, BatchGridWithTheConcurrencyBoundary) {
  const json s = sweep_json({{"model_name", kLlama8}, {"max_model_len", 8192}, {"gpu", "L4"}});
  const auto fit = s["max_concurrency_fit"].get<std::uint64_t>();
  bool at = false, beyond = false;
  for (const auto& p : s["batch"]) {
    const auto x = p["max_batch_size"].get<std::uint64_t>();
    EXPECT_EQ(p["fits"].get<bool>(), x <= fit) << x;
    at = at || x == fit;
    beyond = beyond || x == fit + 1;
  }
  EXPECT_TRUE(at && beyond);
  // Each point is the estimate of that setup.
  const estimate_result e = run({{"model_name", kLlama8},
                                 {"max_seq_len", 8192},
                                 {"max_model_len", 8192},
                                 {"max_batch_size", 16},
                                 {"gpu", "L4"}});
  for (const auto& p : s["batch"]) {
    if (p["max_batch_size"] != 16) continue;
    EXPECT_EQ(p["kv_cache_tokens"], e.startup.kv_cache_tokens);
    EXPECT_DOUBLE_EQ(p["total_max_memory_gb"].get<double>(), bytes_to_gb(e.bytes.total_max));
  }
}

TEST(Sweep, WithoutAGpuTheSeedFiguresGrowWithContext) {
  const json s = sweep_json({{"model_name", kLlama8},
                             {"max_model_len", 4096},
                             {"context_lengths", {1024, 4096, 2048}},
                             {"batch_sizes", {1, 32}}});
  ASSERT_EQ(s["context"].size(), 3u);
  EXPECT_EQ(s["context"][0]["max_model_len"], 1024);  // sorted
  double last = 0;
  for (const auto& p : s["context"]) {
    EXPECT_FALSE(p.contains("fits"));
    EXPECT_GT(p["total_max_memory_gb"].get<double>(), last);
    last = p["total_max_memory_gb"];
  }
  ASSERT_EQ(s["batch"].size(), 2u);
  EXPECT_TRUE(s["max_model_len_fit"].is_null());
}

}  // namespace
}  // namespace vllm_mem::testing
