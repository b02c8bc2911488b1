// router_test.cpp — the API contract, field by field, and every error case (no sockets).
#include <gtest/gtest.h>

#include "router.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

http::response post(const std::string& body, const std::string& path = "/estimate-gpu-memory") {
  return api_post(path, body);
}

http::response get(const std::string& path) { return api_get(path); }

json seed_example() {
  return json::parse(R"({
    "model_name": "meta-llama/Llama-2-7b", "max_seq_len": 2048, "dtype": "float16",
    "max_batch_size": 32, "gpu_memory_utilization": 0.9, "quantization": null,
    "params_billions": null,
    "architecture": {"num_layers": 32, "hidden_size": 4096, "num_heads": 32, "head_dim": 128,
                     "intermediate_size": 11008}})");
}

void expect_400(const json& body, const std::string& field, const std::string& needle) {
  const auto r = post(body.dump());
  EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r.body;
  const json j = json::parse(r.body);
  ASSERT_TRUE(j.contains("detail"));
  EXPECT_NE(j["detail"].get<std::string>().find(needle), std::string::npos) << j["detail"];
  if (field.empty()) {
    EXPECT_TRUE(j["field"].is_null() || j["field"] == "body") << j.dump();
  } else {
    EXPECT_EQ(j["field"], field) << j.dump();
  }
}

TEST(Contract, SeedExampleAnswersEverySeedField) {
  const auto r = post(seed_example().dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const json j = json::parse(r.body);
  for (const char* k :
       {"model_name", "model_params_memory_gb", "activation_memory_gb", "min_kv_cache_memory_gb",
        "max_kv_cache_memory_gb", "cuda_overhead_gb", "total_min_memory_gb", "total_max_memory_gb",
        "recommended_memory_gb", "warning", "components_breakdown", "architecture_used"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["model_name"], "meta-llama/Llama-2-7b");
  EXPECT_EQ(j["components_breakdown"].size(), 5u);
  for (const char* k : {"num_layers", "hidden_size", "num_heads", "head_dim", "intermediate_size",
                        "num_kv_heads", "vocab_size"}) {
    EXPECT_TRUE(j["architecture_used"].contains(k)) << k;
  }
  EXPECT_EQ(j["architecture_used"]["num_layers"], 32);
  EXPECT_EQ(j["architecture_used"]["vocab_size"], 32000);
  EXPECT_TRUE(j["components_bytes"]["model_params"].is_number_unsigned());
  EXPECT_EQ(j["components_bytes"]["model_params"].get<std::uint64_t>(), 13476831232ULL);
  EXPECT_EQ(j["model_source"], "database+request_architecture");
  EXPECT_EQ(j["resolved_model_id"], "meta-llama/Llama-2-7b-hf");
  EXPECT_FALSE(j.contains("vllm_startup"));  // no GPU given
  // _gb fields are decimal GB with two decimals.
  const double gb = j["model_params_memory_gb"].get<double>();
  EXPECT_DOUBLE_EQ(gb, 13.48);
}

TEST(Contract, DefaultsAreTheSeeds) {
  const json a =
      json::parse(post(R"({"model_name": "Qwen/Qwen2.5-7B", "max_seq_len": 4096})").body);
  const json b =
      json::parse(post(R"({"model_name": "Qwen/Qwen2.5-7B", "max_seq_len": 4096, "dtype": "float16",
      "max_batch_size": 32, "max_model_len": 4096, "gpu_memory_utilization": 0.9, "quantization": null,
      "kv_cache_dtype": "float16"})")
                      .body);
  EXPECT_EQ(a, b);
}

TEST(Contract, QuantizationNullAndAbsentAreTheSame) {
  json with_null = seed_example();
  json without = seed_example();
  without.erase("quantization");
  EXPECT_EQ(post(with_null.dump()).body, post(without.dump()).body);
}

TEST(Contract, GpuGivesVllmStartup) {
  const auto r = post(R"({"model_name": "Qwen/Qwen3-8B", "max_seq_len": 8192, "gpu": "H100-80GB",
                         "gpu_memory_utilization": 0.95, "max_batch_size": 1024})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json v = json::parse(r.body)["vllm_startup"];
  for (const char* k :
       {"total_gpu_memory_gib", "requested_memory_gib", "weights_gib", "activation_peak_gib",
        "non_torch_gib", "cuda_graph_gib", "cuda_graph_in_budget", "kv_cache_gib", "num_gpu_blocks",
        "kv_cache_tokens", "max_concurrency", "fits", "error", "max_model_len_fit",
        "limiting_factor", "vllm_args"}) {
    EXPECT_TRUE(v.contains(k)) << k;
  }
  EXPECT_DOUBLE_EQ(v["total_gpu_memory_gib"].get<double>(), 79.19);
  EXPECT_TRUE(v["fits"].get<bool>());
  EXPECT_TRUE(v["error"].is_null());
}

TEST(Contract, RootDescribesTheApiWithAnExampleThatWorks) {
  const auto r = get("/");
  ASSERT_EQ(r.status, 200);
  const json j = json::parse(r.body);
  for (const char* k : {"name", "version", "description", "endpoints", "example_request"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(post(j["example_request"].dump()).status, 200);
  EXPECT_EQ(post(j["example_request_with_gpu"].dump()).status, 200);
}

TEST(Contract, KnownArchitecturesIsAnObjectKeyedByName) {
  const auto r = get("/known-architectures");
  ASSERT_EQ(r.status, 200);
  const json j = json::parse(r.body);
  ASSERT_TRUE(j.is_object());
  ASSERT_TRUE(j.contains("meta-llama/Llama-2-7b-hf"));
  const json& m = j["meta-llama/Llama-2-7b-hf"];
  EXPECT_EQ(m["num_layers"], 32);
  EXPECT_EQ(m["family"], "Llama-2");
  EXPECT_TRUE(m.contains("params_billions"));
  EXPECT_TRUE(m.contains("source"));
}

TEST(Errors, MissingRequiredFields) {
  expect_400(json{{"max_seq_len", 2048}}, "model_name", "required");
  expect_400(json{{"model_name", "x"}}, "max_seq_len", "required");
  expect_400(json{{"model_name", nullptr}, {"max_seq_len", 2048}}, "model_name", "required");
}

TEST(Errors, WrongTypes) {
  expect_400(json{{"model_name", 7}, {"max_seq_len", 2048}}, "model_name", "string");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", "2048"}}, "max_seq_len", "positive integer");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048.5}}, "max_seq_len", "positive integer");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"max_batch_size", true}},
             "max_batch_size", "positive integer");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"gpu_memory_utilization", "0.9"}},
             "gpu_memory_utilization", "number");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"architecture", 5}}, "architecture",
             "object");
  expect_400(
      json{{"model_name", "x"}, {"max_seq_len", 2048}, {"architecture", {{"num_layers", "32"}}}},
      "architecture.num_layers", "integer");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"params_billions", "7"}},
             "params_billions", "number");
}

TEST(Errors, NonPositiveLengthsAndBatches) {
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 0}}, "max_seq_len", "> 0");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", -5}}, "max_seq_len", "> 0");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"max_batch_size", 0}},
             "max_batch_size", "> 0");
  // -1 is vLLM's "auto" (issue 14); other negative lengths are refused.
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"max_model_len", -3}},
             "max_model_len", "> 0");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 1ULL << 40}}, "max_seq_len", "at most");
}

TEST(Errors, UtilizationOutsideZeroToOne) {
  for (double u : {0.0, -0.1, 1.5, 1.0000001}) {
    expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"gpu_memory_utilization", u}},
               "gpu_memory_utilization", "(0, 1]");
  }
  EXPECT_EQ(
      post(R"({"model_name": "x", "max_seq_len": 2048, "gpu_memory_utilization": 1.0})").status,
      200);
}

TEST(Errors, UnknownDtypeAndQuantization) {
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"dtype", "float64"}}, "dtype",
             "unsupported dtype");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"kv_cache_dtype", "int2"}},
             "kv_cache_dtype", "unsupported");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"quantization", "Q3"}},
             "quantization", "unsupported quantization");
}

TEST(Errors, UnknownFieldsNameTheClosestValidOne) {
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"max_model_length", 4096}},
             "max_model_length", "did you mean 'max_model_len'");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"architecture", {{"num_layer", 2}}}},
             "architecture.num_layer", "did you mean 'architecture.num_layers'");
}

TEST(Errors, MalformedJson) {
  for (const char* body :
       {"", "{", "{\"model_name\": }", "[1, 2]", "null", "{\"a\":1} x", "{\"a\": NaN}",
        "{\"model_name\": \"x\", \"model_name\": \"y\", \"max_seq_len\": 1}", "{/*c*/}",
        "{\"max_seq_len\": 1e400}", "\xff\xfe"}) {
    const auto r = post(body);
    EXPECT_EQ(r.status, 400) << body;
    const json j = json::parse(r.body);
    EXPECT_TRUE(j["detail"].is_string()) << body;
  }
  std::string deep(100, '[');
  EXPECT_EQ(post(deep).status, 400);
  const auto dup =
      json::parse(post("{\"model_name\": \"x\", \"model_name\": \"y\", \"max_seq_len\": 1}").body);
  EXPECT_NE(dup["detail"].get<std::string>().find("duplicate key"), std::string::npos);
}

TEST(Errors, UnknownPathsAndWrongMethods) {
  const auto nf = get("/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_TRUE(json::parse(nf.body).contains("detail"));
  const auto wrong = get("/estimate-gpu-memory");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.allow, "POST");
  EXPECT_TRUE(json::parse(wrong.body).contains("detail"));
  const auto put = api().handle({"PUT", "/known-architectures", "", "", ""});
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.allow, "GET");
}

TEST(Errors, ModelAndDeploymentRules) {
  expect_400(json{{"model_name", "meta-llama/Llama-3.1-8B"},
                  {"max_seq_len", 2048},
                  {"tensor_parallel_size", 3}},
             "tensor_parallel_size", "divisible");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"gpu", "H1000"}}, "gpu",
             "unknown gpu");
  expect_400(
      json{
          {"model_name", "x"}, {"max_seq_len", 2048}, {"gpu", "H100-80GB"}, {"gpu_memory_gib", 80}},
      "gpu_memory_gib", "not both");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"vllm_version", "0.2.0"}},
             "vllm_version", "not modelled");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"vllm_engine", "v2"}}, "vllm_engine",
             "\"v0\" or \"v1\"");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"block_size", 24}}, "block_size",
             "one of");
  expect_400(json{{"model_name", "claude-3-opus"}, {"max_seq_len", 2048}}, "params_billions",
             "closed model");
  // vLLM's newer flags (issue 14).
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"kv_cache_memory_bytes", -5}},
             "kv_cache_memory_bytes", "positive");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"max_cudagraph_capture_size", 0}},
             "max_cudagraph_capture_size", "positive");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"cudagraph_capture_sizes", {1, -2}}},
             "cudagraph_capture_sizes", "positive");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"cudagraph_capture_sizes", 8}},
             "cudagraph_capture_sizes", "array");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"cudagraph_mode", "HALF"}},
             "cudagraph_mode", "FULL_AND_PIECEWISE");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"max_model_len", "big"}},
             "max_model_len", "auto");
  expect_400(json{{"model_name", "x"}, {"max_seq_len", 2048}, {"max_model_len", -2}},
             "max_model_len", "-1");
}

TEST(Contract, VersionsListsTheProfiles) {
  const auto r = api().handle({"GET", "/versions", "", "", ""});
  ASSERT_EQ(r.status, 200);
  const json j = json::parse(r.body);
  EXPECT_EQ(j["newest_profile"], "0.34.0");
  ASSERT_EQ(j["versions"].size(), 11u);  // 0.4-0.7, 0.8-0.19, nine rows 0.20-0.34
  EXPECT_EQ(j["versions"][2]["range"], "0.20");
  EXPECT_EQ(j["versions"][2]["default_gpu_memory_utilization"], 0.92);
  EXPECT_EQ(j["versions"][10]["budget_rule"], "extensible_kv");
  EXPECT_EQ(j["versions"][10]["calibrated"], false);
  EXPECT_EQ(j["versions"][1]["calibrated"], true);
}

TEST(Contract, NewerFlagsChangeTheStartup) {
  // Llama-3.1-8B on an H100 at 0.29 (MRv2): kv_cache_memory_bytes sets the KV size; the answer
  // says the version, runner and calibration.
  const json body = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
                     {"max_seq_len", 8192},
                     {"gpu", "H100-80GB"},
                     {"vllm_version", "0.29.0"},
                     {"kv_cache_memory_bytes", 10737418240ULL}};
  const auto r = post(body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json s = json::parse(r.body)["vllm_startup"];
  EXPECT_EQ(s["kv_cache_bytes"], 10737418240LL);
  EXPECT_EQ(s["vllm_version"], "0.29.0");
  EXPECT_EQ(s["model_runner"], "v2");
  EXPECT_EQ(s["calibrated"], true);              // rows 2021-2023 of set 3 were scored at 0.29
  EXPECT_EQ(s["gpu_memory_utilization"], 0.92);  // the 0.20-0.33 default
  json eager = body;
  eager.erase("kv_cache_memory_bytes");
  eager["cudagraph_mode"] = "NONE";
  const json e = json::parse(post(eager.dump()).body)["vllm_startup"];
  EXPECT_EQ(e["cuda_graphs_captured"], 0);
  EXPECT_EQ(e["cuda_graph_gib"], 0.0);
  // max_model_len "auto" on an L4: the largest length whose KV cache fits.
  json autolen = body;
  autolen["max_model_len"] = "auto";
  autolen["gpu"] = "L4";
  autolen.erase("kv_cache_memory_bytes");
  const json au = json::parse(post(autolen.dump()).body)["vllm_startup"];
  EXPECT_TRUE(au["fits"].get<bool>());
  EXPECT_LT(au["max_model_len"].get<std::uint64_t>(), 131072u);
  EXPECT_EQ(au["max_model_len"], au["max_model_len_fit"]);
  // 0.34 with gpu_memory_utilization unset: the whole GPU, the margin its own term.
  json v34 = body;
  v34.erase("kv_cache_memory_bytes");
  v34["vllm_version"] = "0.34.0";
  const json x = json::parse(post(v34.dump()).body)["vllm_startup"];
  EXPECT_EQ(x["gpu_memory_utilization"], 1.0);
  EXPECT_EQ(x["kv_margin_gib"], 1.0);
}

TEST(Errors, NoInputCrashesOrProducesNonFiniteNumbers) {
  // Extreme but valid inputs stay finite and answer 200 or 400, never 500.
  const char* bodies[] = {
      R"({"model_name": "x", "max_seq_len": 2147483648, "max_batch_size": 1048576})",
      R"({"model_name": "x", "max_seq_len": 1, "max_batch_size": 1, "gpu_memory_gib": 0.5})",
      R"({"model_name": "x", "max_seq_len": 2048, "params_billions": 100000})",
      R"({"model_name": "x", "max_seq_len": 2048, "architecture": {"num_layers": 2048, "hidden_size": 131072,
          "num_heads": 4096, "vocab_size": 16777216, "intermediate_size": 1048576, "num_experts": 4096,
          "num_experts_per_tok": 4096, "moe_intermediate_size": 1048576}})",
      R"({"model_name": "deepseek-ai/DeepSeek-V3", "max_seq_len": 2147483648, "gpu": "B200", "tensor_parallel_size": 8})"};
  for (const char* b : bodies) {
    const auto r = post(b);
    EXPECT_TRUE(r.status == 200 || r.status == 400) << b << " -> " << r.status << " " << r.body;
    EXPECT_EQ(r.body.find("nan"), std::string::npos);
    EXPECT_EQ(r.body.find("inf"), std::string::npos);
  }
}

}  // namespace
}  // namespace vllm_mem::testing
