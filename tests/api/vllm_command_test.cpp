// vllm_command_test.cpp — a `vllm serve` line as the request: the same estimate as the equivalent
// fields, the launch forms people paste (docker, python -m, continuations, quotes), the canonical
// command back that parses to the same answer, and vLLM's refusal of a flag it does not know.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/api/vllm_command.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

// The API's answer to an estimate request (the router, as a client sees it).
json answer(const json& body) {
  const http::response r = api_post("/estimate-gpu-memory", body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body);
}

json fields_of(const std::string& cmd) {
  auto c = parse_vllm_command(cmd, "vllm_command");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.err().message);
  return c.ok() ? c->fields : json();
}

TEST(VllmCommand, FlagsBecomeTheRequestFields) {
  const json f = fields_of(
      "vllm serve Qwen/Qwen3-8B --max-model-len 32768 -tp 2 --gpu-memory-utilization=0.85 "
      "--kv-cache-dtype fp8 --max_num_seqs 64 --enforce-eager --quantization fp8");
  EXPECT_EQ(f["model_name"], "Qwen/Qwen3-8B");
  EXPECT_EQ(f["max_model_len"], 32768);
  EXPECT_EQ(f["tensor_parallel_size"], 2);
  EXPECT_DOUBLE_EQ(f["gpu_memory_utilization"].get<double>(), 0.85);
  EXPECT_EQ(f["kv_cache_dtype"], "fp8");
  EXPECT_EQ(f["max_num_seqs"], 64);  // underscores read as dashes, as vLLM's parser does
  EXPECT_EQ(f["enforce_eager"], true);
  EXPECT_EQ(f["quantization"], "fp8");
}

TEST(VllmCommand, LaunchFormsPeoplePaste) {
  // docker run: the image's entrypoint is the API server; docker's own options come first.
  json f = fields_of(
      "docker run --gpus all -p 8000:8000 --ipc=host vllm/vllm-openai:v0.19.0 \\\n"
      "  --model meta-llama/Llama-3.1-8B-Instruct \\\n  --max-model-len 16k --no-enforce-eager");
  EXPECT_EQ(f["model_name"], "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(f["max_model_len"], 16000);  // human_readable_int: k decimal
  EXPECT_EQ(f["enforce_eager"], false);
  // python -m with environment assignments and quoted values.
  f = fields_of(
      "CUDA_VISIBLE_DEVICES=0,1 python -m vllm.entrypoints.openai.api_server --model "
      "'mistralai/Mistral-7B-Instruct-v0.3' --max-model-len 8K --cudagraph-capture-sizes 1 2 4 8 "
      "--pipeline-parallel-size \"2\"");
  EXPECT_EQ(f["model_name"], "mistralai/Mistral-7B-Instruct-v0.3");
  EXPECT_EQ(f["max_model_len"], 8192);  // K binary
  EXPECT_EQ(f["cudagraph_capture_sizes"], json::array({1, 2, 4, 8}));
  EXPECT_EQ(f["pipeline_parallel_size"], 2);
  EXPECT_EQ(fields_of("vllm serve m --max-model-len auto")["max_model_len"], "auto");
}

TEST(VllmCommand, FlagsWithoutAMemoryEffectAreListedWithTheReason) {
  auto c = parse_vllm_command(
      "vllm serve Qwen/Qwen3-8B --port 8001 --host 0.0.0.0 --trust-remote-code --swap-space 16 "
      "--speculative-config '{\"model\": \"meta-llama/Llama-3.2-1B\", \"num_speculative_tokens\": "
      "5}'",
      "vllm_command");
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_EQ(c->ignored.size(), 5u);
  EXPECT_EQ(c->ignored[0].flag, "--port");
  EXPECT_EQ(c->ignored[0].reason, "does not change GPU memory");
  EXPECT_EQ(c->ignored[3].flag, "--swap-space");
  EXPECT_EQ(c->ignored[3].reason, "host memory only (CPU swap space)");
  EXPECT_EQ(c->ignored[4].flag, "--speculative-config");  // a draft model: not modelled yet
  EXPECT_NE(c->ignored[4].reason.find("draft_model"), std::string::npos);
  EXPECT_EQ(c->fields.size(), 1u);  // the model only: no value leaked into a field
}

TEST(VllmCommand, ModelledSpeculationBecomesTheRequestField) {
  // vLLM's deprecated MTP model types mean "mtp"; ngram and dotted keys are read too.
  auto f = fields_of(
      "vllm serve Qwen/Qwen3-Next-80B-A3B-Instruct --speculative-config "
      "'{\"method\": \"qwen3_next_mtp\", \"num_speculative_tokens\": 2}'");
  EXPECT_EQ(f["speculative_config"],
            json::parse(R"({"method": "mtp", "num_speculative_tokens": 2})"));
  f = fields_of(
      "vllm serve m --speculative-config.method ngram --speculative-config.num_speculative_tokens "
      "4");
  EXPECT_EQ(f["speculative_config"],
            json::parse(R"({"method": "ngram", "num_speculative_tokens": 4})"));
}

TEST(VllmCommand, RefusalsNameTheFlag) {
  auto unknown = parse_vllm_command("vllm serve m --max-modle-len 4096", "vllm_command");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.err().field, "vllm_command");
  EXPECT_NE(unknown.err().message.find("--max-modle-len"), std::string::npos);
  EXPECT_FALSE(parse_vllm_command("vllm serve m --max-model-len", "vllm_command").ok());
  EXPECT_FALSE(parse_vllm_command("vllm serve m -tp two", "vllm_command").ok());
  EXPECT_FALSE(parse_vllm_command("vllm serve m --dtype 'bfloat16", "vllm_command").ok());
  EXPECT_FALSE(parse_vllm_command("vllm serve --port 1", "vllm_command").ok());  // no model
  EXPECT_FALSE(parse_vllm_command("vllm serve m --no-max-model-len", "vllm_command").ok());
}

// Through the API: the command gives the estimate of its equivalent fields, explicit fields win,
// and the answer's canonical command parses to the same estimate.
TEST(VllmCommand, SameEstimateAsTheFieldsAndTheCanonicalCommandRoundTrips) {
  const std::string cmd =
      "vllm serve Qwen/Qwen3-8B --max-model-len 32768 -tp 2 --gpu-memory-utilization 0.85 "
      "--kv-cache-dtype fp8 --port 8001";
  const json by_command = {{"vllm_command", cmd}, {"gpu", "L40S"}, {"vllm_version", "0.19.0"}};
  const json by_fields = {{"model_name", "Qwen/Qwen3-8B"},
                          {"max_seq_len", 32768},
                          {"max_model_len", 32768},
                          {"tensor_parallel_size", 2},
                          {"gpu_memory_utilization", 0.85},
                          {"kv_cache_dtype", "fp8"},
                          {"gpu", "L40S"},
                          {"vllm_version", "0.19.0"}};
  const json a = answer(by_command);
  const json b = answer(by_fields);
  EXPECT_EQ(a["vllm_startup"], b["vllm_startup"]);
  EXPECT_EQ(a["ignored_flags"], json::array({"--port: does not change GPU memory"}));
  EXPECT_FALSE(b.contains("ignored_flags"));
  // The canonical command back parses to the same estimate.
  const json again =
      answer({{"vllm_command", a["vllm_command"]}, {"gpu", "L40S"}, {"vllm_version", "0.19.0"}});
  EXPECT_EQ(again["vllm_startup"], a["vllm_startup"]);
  // An explicit field overrides the command's.
  json over = by_command;
  over["tensor_parallel_size"] = 1;
  EXPECT_EQ(answer(over)["tensor_parallel_size"], 1);
  // CUDA-graph settings from --compilation-config come back in the canonical command.
  const std::string graphs =
      "vllm serve Qwen/Qwen3-8B --max-model-len 8192 --compilation-config "
      "'{\"cudagraph_mode\": \"PIECEWISE\", \"cudagraph_capture_sizes\": [1, 2, 4, 8]}'";
  const json g = answer({{"vllm_command", graphs}, {"gpu", "L40S"}, {"vllm_version", "0.19.0"}});
  const std::string canonical = g["vllm_command"].get<std::string>();
  EXPECT_NE(canonical.find("--compilation-config '{\"cudagraph_mode\": \"PIECEWISE\"}'"),
            std::string::npos)
      << canonical;
  EXPECT_NE(canonical.find("--cudagraph-capture-sizes 1 2 4 8"), std::string::npos) << canonical;
  EXPECT_EQ(g["vllm_startup"]["cuda_graphs_captured"], 4);
  const json g2 =
      answer({{"vllm_command", canonical}, {"gpu", "L40S"}, {"vllm_version", "0.19.0"}});
  EXPECT_EQ(g2["vllm_startup"], g["vllm_startup"]);
  EXPECT_EQ(g2["vllm_command"], canonical);
  // Without a numeric --max-model-len the workload length must be given.
  const error e = run_error({{"vllm_command", "vllm serve Qwen/Qwen3-8B"}});
  EXPECT_EQ(e.field, "max_seq_len");
}

}  // namespace
}  // namespace vllm_mem::testing
