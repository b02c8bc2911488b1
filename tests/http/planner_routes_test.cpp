// planner_routes_test.cpp — the contract of POST /plan, /solve, /placement and /sweep: status
// codes, the error envelope naming the field, and the body clients rely on.
#include <gtest/gtest.h>

#include "router.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

http::response post(const std::string& path, const std::string& body) {
  return api().handle({"POST", path, body, "application/json", ""});
}

struct bad_case {
  const char* name;
  const char* path;
  const char* body;
  const char* field;       // expected "field"
  const char* in_message;  // expected substring of "detail"
};

class PlannerBadRequest : public ::testing::TestWithParam<bad_case> {};

TEST_P(PlannerBadRequest, Is400NamingTheField) {
  const auto& c = GetParam();
  const auto r = post(c.path, c.body);
  ASSERT_EQ(r.status, 400) << r.body;
  const json j = json::parse(r.body);
  ASSERT_TRUE(j["detail"].is_string());
  EXPECT_NE(j["detail"].get<std::string>().find(c.in_message), std::string::npos) << j["detail"];
  if (c.field) {
    EXPECT_EQ(j["field"], c.field) << r.body;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Contract, PlannerBadRequest,
    ::testing::Values(
        bad_case{"not_json", "/plan", "{", nullptr, ""},
        bad_case{"not_object", "/plan", "[1]", "body", "JSON object"},
        bad_case{"no_model", "/plan", R"({"max_model_len": 8192})", "model_name", "required"},
        bad_case{"typo_hint", "/plan", R"({"model_name": "m", "max_gpu": 4})", "max_gpu",
                 "did you mean 'max_gpus'"},
        bad_case{"num_gpus_string", "/plan", R"({"model_name": "m", "num_gpus": "2"})", "num_gpus",
                 "positive integer"},
        bad_case{"num_gpus_zero", "/plan", R"({"model_name": "m", "num_gpus": 0})", "num_gpus",
                 "> 0"},
        bad_case{"num_gpus_vs_tp", "/plan",
                 R"({"model_name": "m", "num_gpus": 4, "tensor_parallel_size": 2})", "num_gpus",
                 "must equal"},
        bad_case{"max_len_float", "/plan", R"({"model_name": "m", "max_model_len": 81.5})",
                 "max_model_len", "positive integer"},
        bad_case{"unknown_gpu_in_list", "/plan", R"({"model_name": "m", "gpus": ["H100", "H1OO"]})",
                 "gpus[1]", "unknown gpu 'H1OO'"},
        bad_case{"gpus_not_list", "/plan", R"({"model_name": "m", "gpus": "H100"})", "gpus",
                 "list"},
        bad_case{"gpu_and_gpus", "/plan", R"({"model_name": "m", "gpu": "L4", "gpus": ["L4"]})",
                 "gpus", "not both"},
        bad_case{"gpu_without_reading", "/plan", R"({"model_name": "m", "gpu": "Gaudi2"})", "gpu",
                 "no CUDA memory reading"},
        bad_case{"unknown_gpu", "/plan", R"({"model_name": "m", "gpu": "H1000"})", "gpu",
                 "unknown gpu"},
        bad_case{"budget_negative", "/plan", R"({"model_name": "m", "budget_usd_per_hour": -1})",
                 "budget_usd_per_hour", "above 0"},
        bad_case{"prices_unknown_gpu", "/plan", R"({"model_name": "m", "prices": {"X9": 1}})",
                 "prices.X9", "unknown gpu"},
        bad_case{"prices_string", "/plan", R"({"model_name": "m", "prices": {"L4": "1"}})",
                 "prices.L4", "number"},
        bad_case{"trades_not_bool", "/plan", R"({"model_name": "m", "precision_trades": 1})",
                 "precision_trades", "true or false"},
        bad_case{"num_gpus_over_max", "/plan",
                 R"({"model_name": "m", "num_gpus": 16, "max_gpus": 8})", "max_gpus", "more than"},
        bad_case{"estimate_rule", "/plan", R"({"model_name": "m", "gpu_memory_utilization": 2})",
                 "gpu_memory_utilization", "(0, 1]"},
        bad_case{
            "bad_tp_for_model", "/plan",
            R"({"model_name": "meta-llama/Llama-3.1-8B", "max_model_len": 4096, "gpu": "L4", "tensor_parallel_size": 3})",
            "tensor_parallel_size", "divisible"},
        bad_case{"solve_needs_gpu", "/solve", R"({"model_name": "m", "max_model_len": 4096})",
                 "gpu", "required"},
        bad_case{"solve_unknown_kind", "/solve",
                 R"({"model_name": "m", "gpu": "L4", "solve": "max_model_length"})", "solve",
                 "did you mean 'max_model_len'"},
        bad_case{"solve_no_plan_fields", "/solve",
                 R"({"model_name": "m", "gpu": "L4", "budget_usd_per_hour": 3})",
                 "budget_usd_per_hour", "unknown field"},
        bad_case{"placement_no_models", "/placement", R"({"gpu": "L4"})", "models", "list"},
        bad_case{"placement_no_gpu", "/placement", R"({"models": [{"model_name": "m"}]})", "gpu",
                 "required"},
        bad_case{"placement_model_gpu", "/placement",
                 R"({"models": [{"model_name": "m", "gpu": "L4"}], "gpu": "L4"})", "models[0].gpu",
                 "set by the placement"},
        bad_case{
            "placement_model_field", "/placement",
            R"({"models": [{"model_name": "m"}, {"model_name": "m", "max_len": 3}], "gpu": "L4"})",
            "models[1].max_len", "unknown field"},
        bad_case{"placement_pool_count", "/placement",
                 R"({"models": [{"model_name": "m"}], "pool": [{"gpu": "L4", "count": -1}]})",
                 "pool[0].count", "positive integer"},
        bad_case{"placement_pool_and_gpu", "/placement",
                 R"({"models": [{"model_name": "m"}], "pool": [{"gpu": "L4"}], "gpu": "L4"})",
                 "pool", "not both"},
        bad_case{"sweep_zero_context", "/sweep",
                 R"({"model_name": "m", "context_lengths": [1024, 0]})", "context_lengths[1]",
                 "positive integer"},
        bad_case{"sweep_empty_batches", "/sweep", R"({"model_name": "m", "batch_sizes": []})",
                 "batch_sizes", "list"}),
    [](const ::testing::TestParamInfo<bad_case>& i) { return std::string(i.param.name); });

TEST(PlannerRoutes, OnlyPost) {
  for (const char* path : {"/plan", "/solve", "/placement", "/sweep"}) {
    const auto r = api().handle({"GET", path, "", "", ""});
    EXPECT_EQ(r.status, 405) << path;
    EXPECT_EQ(r.allow, "POST");
  }
}

TEST(PlannerRoutes, PlanBodyIsOptionsBestFirst) {
  const auto r = post("/plan", R"({"model_name": "meta-llama/Llama-3.1-70B-Instruct",
      "max_model_len": 8192, "max_batch_size": 32, "gpus": ["H100-80GB", "A100-80GB"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  ASSERT_TRUE(j["options"].is_array());
  ASSERT_FALSE(j["options"].empty());
  EXPECT_TRUE(j["options"][0]["fits"].get<bool>());
  EXPECT_TRUE(j["summary"].is_string());
  // The per-GPU numbers are /estimate-gpu-memory's for the option's request.
  for (const auto& o : j["options"]) {
    const auto e = post("/estimate-gpu-memory", o["estimate_request"].dump());
    ASSERT_EQ(e.status, 200) << e.body;
    EXPECT_EQ(json::parse(e.body)["vllm_startup"], o["vllm_startup"]);
  }
}

TEST(PlannerRoutes, SolvePlacementSweepAnswer200) {
  EXPECT_EQ(post("/solve", R"({"model_name": "meta-llama/Llama-3.1-8B", "max_model_len": 8192,
      "gpu": "L4", "solve": ["max_model_len", "max_concurrency"]})")
                .status,
            200);
  EXPECT_EQ(post("/placement", R"({"models": [{"model_name": "meta-llama/Llama-3.1-8B",
      "max_model_len": 4096}], "gpu": "L40S"})")
                .status,
            200);
  const auto s = post("/sweep", R"({"model_name": "meta-llama/Llama-3.1-8B",
      "max_model_len": 8192, "gpu": "L4"})");
  ASSERT_EQ(s.status, 200);
  const json j = json::parse(s.body);
  EXPECT_TRUE(j["context"].is_array());
  EXPECT_TRUE(j["batch"].is_array());
}

TEST(PlannerRoutes, RootListsThePlannerEndpoints) {
  const auto r = api().handle({"GET", "/", "", "", ""});
  const json j = json::parse(r.body);
  for (const char* k : {"POST /plan", "POST /solve", "POST /placement", "POST /sweep"}) {
    EXPECT_TRUE(j["endpoints"].contains(k)) << k;
  }
}

}  // namespace
}  // namespace vllm_mem::testing
