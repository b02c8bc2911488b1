// models_cli_test.cpp — `vllm-mem models [--family F] [--search Q] [--quantized B] [--json]` and
// `vllm-mem models show ID`, run as the built binary (the same router answers as the API).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

// stdout, or stdout followed by stderr when asked.
cli_result run_cli(const std::string& args, bool with_stderr = false) {
  cli_result r = testing::run_cli(args);
  if (with_stderr) r.out += r.err;
  return r;
}

TEST(ModelsCli, ListsTheDatabaseAsATable) {
  const cli_result r = run_cli("models");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("id ", 0), 0u) << r.out.substr(0, 200);  // header first
  EXPECT_NE(r.out.find("meta-llama/Llama-2-7b-hf"), std::string::npos);
  EXPECT_NE(r.out.find("closed (unofficial size)"), std::string::npos);
  EXPECT_NE(r.out.find("architecture not modelled"), std::string::npos);
  EXPECT_NE(r.out.find(std::to_string(cats().models.entries().size()) + " models\n"),
            std::string::npos);
}

TEST(ModelsCli, FiltersAndJsonMatchTheApi) {
  const cli_result r = run_cli("models --family Gemma --json");
  ASSERT_EQ(r.exit_code, 0);
  const json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out.substr(0, 200);
  ASSERT_GE(j.size(), 8u);
  for (auto it = j.begin(); it != j.end(); ++it) {
    EXPECT_NE(it.value()["family"].get<std::string>().find("Gemma"), std::string::npos);
  }
  const cli_result s = run_cli("models --search 'llama-3.1' --quantized true --json");
  ASSERT_EQ(s.exit_code, 0);
  const json q = json::parse(s.out, nullptr, false);
  ASSERT_TRUE(q.is_object());
  EXPECT_TRUE(q.contains("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8"));
  EXPECT_FALSE(q.contains("meta-llama/Llama-3.1-8B"));
  const cli_result t = run_cli("models --search qwen2.5-72b");
  ASSERT_EQ(t.exit_code, 0);
  EXPECT_NE(t.out.find("Qwen/Qwen2.5-72B-Instruct-AWQ"), std::string::npos);
  EXPECT_NE(t.out.find("quantized checkpoint"), std::string::npos);
}

TEST(ModelsCli, ShowPrintsOneEntry) {
  const cli_result r = run_cli("models show deepseek-ai/DeepSeek-V3");
  ASSERT_EQ(r.exit_code, 0);
  const json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out.substr(0, 200);
  EXPECT_EQ(j["id"], "deepseek-ai/DeepSeek-V3");
  EXPECT_GT(j["parameter_count"]["total"].get<double>(), 6.7e11);
  EXPECT_LT(j["parameter_count"]["active"].get<double>(), 4e10);
  EXPECT_EQ(j["kv_cache_bytes_per_token_16bit"], 61 * 576 * 2);
  EXPECT_FALSE(j["source"].empty());
}

TEST(ModelsCli, BadInputIsAMessageAndANonZeroExit) {
  const cli_result r = run_cli("models show acme/no-such-model", true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no model 'acme/no-such-model'"), std::string::npos) << r.out;
  const cli_result q = run_cli("models --quantized maybe", true);
  EXPECT_EQ(q.exit_code, 2);
  EXPECT_NE(q.out.find("true or false"), std::string::npos) << q.out;
}

}  // namespace
}  // namespace vllm_mem::testing
