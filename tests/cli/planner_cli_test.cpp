// planner_cli_test.cpp — `vllm-mem plan|solve|sweep|place` build the API's request from flags
// and print the API's body with --json; bad input exits 2 with a message on stderr.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "router.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

std::string api_body(const std::string& path, const json& body) {
  return api_post(path, body.dump()).body;
}

TEST(PlannerCli, PlanJsonEqualsTheApi) {
  const auto r = run_cli(
      "plan -m meta-llama/Llama-3.1-70B-Instruct --max-model-len 8192 --max-num-seqs 32 "
      "--gpus H100-80GB,A100-80GB --json");
  ASSERT_EQ(r.exit_code, 0);
  const json api =
      json::parse(api_body("/plan", {{"model_name", "meta-llama/Llama-3.1-70B-Instruct"},
                                     {"max_model_len", 8192},
                                     {"max_batch_size", 32},
                                     {"gpus", {"H100-80GB", "A100-80GB"}}}));
  EXPECT_EQ(json::parse(r.out), api);
}

TEST(PlannerCli, SolveAndSweepJsonEqualTheApi) {
  const auto s = run_cli(
      "solve -m meta-llama/Llama-3.1-8B --max-model-len 8192 --gpu L4 --solve max_model_len "
      "--json");
  ASSERT_EQ(s.exit_code, 0);
  EXPECT_EQ(json::parse(s.out),
            json::parse(api_body("/solve", {{"model_name", "meta-llama/Llama-3.1-8B"},
                                            {"max_model_len", 8192},
                                            {"gpu", "L4"},
                                            {"solve", {"max_model_len"}}})));
  const auto w = run_cli(
      "sweep -m meta-llama/Llama-3.1-8B --max-model-len 8192 --gpu L4 --contexts 2048,4096 "
      "--batches 1,2 --json");
  ASSERT_EQ(w.exit_code, 0);
  EXPECT_EQ(json::parse(w.out),
            json::parse(api_body("/sweep", {{"model_name", "meta-llama/Llama-3.1-8B"},
                                            {"max_model_len", 8192},
                                            {"gpu", "L4"},
                                            {"context_lengths", {2048, 4096}},
                                            {"batch_sizes", {1, 2}}})));
}

TEST(PlannerCli, PlaceReadsTheRequestFile) {
  const std::string path = ::testing::TempDir() + "/placement.json";
  const json body = {
      {"models", {{{"model_name", "meta-llama/Llama-3.1-8B"}, {"max_model_len", 4096}}}},
      {"gpu", "L40S"}};
  std::ofstream(path) << body.dump();
  const auto r = run_cli("place " + path + " --json");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(json::parse(r.out), json::parse(api_body("/placement", body)));
}

TEST(PlannerCli, PricesFileOverridesTheCatalog) {
  const std::string path = ::testing::TempDir() + "/prices.json";
  std::ofstream(path) << R"({"L4": 0.5})";
  const auto r =
      run_cli("plan -m meta-llama/Llama-3.1-8B --max-model-len 4096 --gpus L4 --prices " + path +
              " --json");
  ASSERT_EQ(r.exit_code, 0);
  const json j = json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["options"][0]["price"]["usd_per_gpu_hour"].get<double>(), 0.5);
}

TEST(PlannerCli, BadInputExits2WithNothingOnStdout) {
  const auto r = run_cli("plan -m meta-llama/Llama-3.1-8B --gpus H1OO");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  const auto s = run_cli("solve -m meta-llama/Llama-3.1-8B --max-model-len 4096");
  EXPECT_EQ(s.exit_code, 2);
}

}  // namespace
}  // namespace vllm_mem::testing
