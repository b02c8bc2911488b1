// cli_test.cpp — the `vllm-mem` executable: help, version, estimate (same body as the API),
// errors (same message as the API, non-zero exit), models.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <set>
#include <string>

#include "router.hpp"
#include "test_support.hpp"
#include "vllm_mem/util/text.hpp"
#include "vllm_mem/version.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

// stdout, or stdout followed by stderr when `err` is set.
cli_result cli(const std::string& args, bool err = false) {
  cli_result r = run_cli(args);
  if (err) r.out += r.err;
  return r;
}

TEST(Cli, HelpAndVersion) {
  const auto h = cli("--help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* sub : {"serve", "estimate", "models", "validate"})
    EXPECT_NE(h.out.find(sub), std::string::npos) << sub;
  const auto e = cli("estimate --help");
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_NE(e.out.find("--max-num-seqs"), std::string::npos);
  EXPECT_NE(e.out.find("--gpu-memory-utilization"), std::string::npos);
  const auto v = cli("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find(std::string(kVersion)), std::string::npos);
}

TEST(Cli, VersionsIsTheVersionsRoute) {
  const auto r = cli("versions");
  ASSERT_EQ(r.exit_code, 0);
  const json j = json::parse(r.out);
  EXPECT_EQ(j["newest_profile"], "0.34.0");
  EXPECT_EQ(j["versions"].size(), 11u);
}

TEST(Cli, EstimateJsonIsTheApiBody) {
  const auto r =
      cli("estimate --model meta-llama/Llama-3.1-8B --max-seq-len 8192 --max-num-seqs 64 --gpu "
          "H100-80GB "
          "--gpu-memory-utilization 0.92 --kv-cache-dtype fp8 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json body = {{"model_name", "meta-llama/Llama-3.1-8B"},
                     {"max_seq_len", 8192},
                     {"max_batch_size", 64},
                     {"gpu", "H100-80GB"},
                     {"gpu_memory_utilization", 0.92},
                     {"kv_cache_dtype", "fp8"}};
  const auto res = api_post("/estimate-gpu-memory", body.dump());
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(json::parse(r.out), json::parse(res.body));
}

// The flags of the interconnect, LoRA and CUDA-graph fields are the API's fields.
TEST(Cli, DeploymentFlagsAreTheApisFields) {
  const auto r = cli(
      "estimate --model Qwen/Qwen3-8B --max-seq-len 4096 --gpu L4 --tp 2 --interconnect pcie "
      "--enable-lora --max-loras 2 --max-lora-rank 32 --lora-dtype float16 --fully-sharded-loras "
      "--max-cudagraph-capture-size 64 --cudagraph-mode PIECEWISE --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json body = {{"model_name", "Qwen/Qwen3-8B"},
                     {"max_seq_len", 4096},
                     {"gpu", "L4"},
                     {"tensor_parallel_size", 2},
                     {"interconnect", "pcie"},
                     {"enable_lora", true},
                     {"max_loras", 2},
                     {"max_lora_rank", 32},
                     {"lora_dtype", "float16"},
                     {"fully_sharded_loras", true},
                     {"max_cudagraph_capture_size", 64},
                     {"cudagraph_mode", "PIECEWISE"}};
  const auto res = api_post("/estimate-gpu-memory", body.dump());
  ASSERT_EQ(res.status, 200) << res.body;
  const json j = json::parse(r.out);
  EXPECT_EQ(j, json::parse(res.body));
  EXPECT_EQ(j["vllm_startup"]["interconnect"], "pcie");
  EXPECT_GT(j["vllm_startup"]["lora_weights_gib"].get<double>(), 0.0);
}

TEST(Cli, EstimateTableShowsTheFigures) {
  const auto r = cli("estimate -m meta-llama/Llama-2-7b --max-seq-len 2048 --gpu A100-40GB");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("13.48 GB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Available KV cache memory"), std::string::npos);
  EXPECT_NE(r.out.find("starts"), std::string::npos);
}

// Length flags read as vllm serve reads them: 32k = 32000, 32K = 32768.
TEST(Cli, LengthFlagsTakeVllmsHumanReadableCounts) {
  const std::string base = "estimate --offline -m Qwen/Qwen3-8B --gpu L40S --json ";
  const json k = json::parse(run_cli(base + "--max-seq-len 32k").out);
  EXPECT_EQ(k["vllm_startup"]["max_model_len"], 32000);
  EXPECT_EQ(k, json::parse(run_cli(base + "--max-seq-len 32000").out));
  const json bin = json::parse(run_cli(base + "--max-seq-len 4K --max-model-len 32K").out);
  EXPECT_EQ(bin["vllm_startup"]["max_model_len"], 32768);
  const auto bad = run_cli(base + "--max-seq-len 32q");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("max_seq_len"), std::string::npos) << bad.err;
}

// One database model of every model_type prints its table (all-MoE models have no dense FFN, MLA
// no head size, hybrids state layers): an answer or a refusal with its message, never a crash.
TEST(Cli, EveryKindOfDatabaseModelPrintsItsTable) {
  const auto list = run_cli("models --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json all = json::parse(list.out);
  ASSERT_GT(all.size(), 100U);
  std::set<std::string> kinds;
  std::size_t printed = 0, tried = 0;
  for (auto it = all.begin(); it != all.end(); ++it) {
    const auto type = it->find("model_type");
    const std::string kind = type != it->end() && type->is_string() ? type->get<std::string>() : "";
    if (!kinds.insert(kind).second) continue;
    ++tried;
    const auto r =
        run_cli("estimate --offline -m '" + it.key() + "' --max-seq-len 2048 --gpu H200");
    if (r.exit_code == 0) {
      ++printed;
      EXPECT_NE(r.out.find("  architecture: "), std::string::npos) << it.key();
      EXPECT_NE(r.out.find("  verdict "), std::string::npos) << it.key();
    } else {
      EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << it.key() << ": " << r.exit_code;
      EXPECT_EQ(r.err.rfind("error: ", 0), 0U) << it.key() << ": " << r.err;
    }
  }
  EXPECT_GT(tried, 30U);
  EXPECT_GT(printed, tried / 2);
}

TEST(Cli, BadInputPrintsTheApisMessageAndExitsNonZero) {
  const auto r = cli("estimate --model x --max-seq-len 0", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("'max_seq_len' must be a positive integer (> 0), got 0"), std::string::npos)
      << r.out;
  const auto u = cli("estimate --model x --max-seq-len 10 --gpu-memory-utilization 2", true);
  EXPECT_EQ(u.exit_code, 2);
  const auto res =
      api_post("/estimate-gpu-memory",
               R"({"model_name": "x", "max_seq_len": 10, "gpu_memory_utilization": 2})");
  EXPECT_NE(u.out.find(json::parse(res.body)["detail"].get<std::string>()), std::string::npos)
      << u.out;
  EXPECT_EQ(cli("estimate --model x --max-seq-len abc", true).exit_code, 2);
  EXPECT_EQ(cli("estimate --model x --max-seq-len 10 --dtype float64", true).exit_code, 2);
  const auto missing = cli("estimate --max-seq-len 10", true);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("model_name"), std::string::npos);
  EXPECT_NE(cli("frobnicate", true).exit_code, 0);
}

TEST(Cli, ModelsListsAndFilters) {
  const auto all = cli("models --json");
  ASSERT_EQ(all.exit_code, 0);
  const json j = json::parse(all.out);
  EXPECT_TRUE(j.contains("meta-llama/Llama-2-7b-hf"));
  const auto gemma = cli("models --family gemma --json");
  ASSERT_EQ(gemma.exit_code, 0);
  const json g = json::parse(gemma.out);
  EXPECT_FALSE(g.empty());
  for (auto it = g.begin(); it != g.end(); ++it)  // ids keep their case: nvidia/Gemma-4-...
    EXPECT_NE(to_lower(it.key()).find("gemma"), std::string::npos) << it.key();
  const auto table = cli("models --search Llama-3.1");
  EXPECT_NE(table.out.find("meta-llama/Llama-3.1-8B"), std::string::npos);
  const auto show = cli("models show openai/gpt-oss-120b");
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_EQ(json::parse(show.out)["id"], "openai/gpt-oss-120b");
  EXPECT_NE(cli("models show no/such-model", true).exit_code, 0);
}

}  // namespace
}  // namespace vllm_mem::testing
