// models_routes_test.cpp — GET /known-architectures (the seed's object keyed by model name, with
// the family / q / quantized filters) and GET /models/{id} through the pure router.
#include <gtest/gtest.h>

#include <cctype>

#include "router.hpp"
#include "test_support.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

http::response get(const std::string& target) {
  return api().handle({"GET", target, "", "", "application/json"});
}

json get_json(const std::string& target, int status = 200) {
  const http::response r = get(target);
  EXPECT_EQ(r.status, status) << target << ": " << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  return j;
}

TEST(KnownArchitecturesRoute, IsAnObjectKeyedByModelId) {
  const json all = get_json("/known-architectures");
  ASSERT_TRUE(all.is_object());
  EXPECT_EQ(all.size(), cats().models.entries().size());
  for (const auto& e : cats().models.entries()) {
    ASSERT_TRUE(all.contains(e.id)) << e.id;
    EXPECT_EQ(all[e.id]["id"], e.id);
    EXPECT_EQ(all[e.id]["family"], e.family);
  }
  const json& llama = all["meta-llama/Llama-2-7b-hf"];
  EXPECT_EQ(llama["num_layers"], 32);
  EXPECT_EQ(llama["num_kv_heads"], 32);
  EXPECT_EQ(llama["verification"], "A");
  EXPECT_DOUBLE_EQ(llama["params_billions"].get<double>(), 6.74);
  EXPECT_TRUE(llama["source"].is_string());
  // Closed rows carry only the published figure; incomplete and unsupported entries say so.
  EXPECT_EQ(all["openai/gpt-4"]["closed"], true);
  EXPECT_EQ(all["openai/gpt-4"]["params_status"], "unofficial");
  EXPECT_FALSE(all["openai/gpt-4"].contains("num_layers"));
  EXPECT_EQ(all["ibm-granite/granite-vision-3.3-2b"]["incomplete"], true);
  EXPECT_TRUE(all["nvidia/Nemotron-H-56B-Base-8K"]["unsupported"].is_string());
  EXPECT_EQ(all["ibm-granite/granite-3.0-3b-a800m-instruct"]["filled_from"]["id"],
            "ibm-granite/granite-3.1-3b-a800m-instruct");
}

TEST(KnownArchitecturesRoute, FiltersByFamily) {
  const json q = get_json("/known-architectures?family=qwen2.5");
  ASSERT_GT(q.size(), 10u);
  EXPECT_LT(q.size(), cats().models.entries().size());
  for (auto it = q.begin(); it != q.end(); ++it) {
    EXPECT_NE(to_lower(it.value()["family"].get<std::string>()).find("qwen2.5"), std::string::npos)
        << it.key();
  }
  EXPECT_TRUE(q.contains("Qwen/Qwen2.5-7B"));
  EXPECT_FALSE(q.contains("Qwen/Qwen3-8B"));
  EXPECT_TRUE(get_json("/known-architectures?family=no-such-family").empty());
}

TEST(KnownArchitecturesRoute, FiltersByNameSubstringIncludingAliases) {
  const json q = get_json("/known-architectures?q=Llama-3.1");
  ASSERT_FALSE(q.empty());
  EXPECT_TRUE(q.contains("meta-llama/Llama-3.1-8B"));
  EXPECT_TRUE(q.contains("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8"));
  EXPECT_FALSE(q.contains("meta-llama/Llama-2-7b-hf"));
  // By alias: NousResearch's copy is an alias of meta-llama/Meta-Llama-3-8B.
  EXPECT_TRUE(
      get_json("/known-architectures?q=nousresearch").contains("meta-llama/Meta-Llama-3-8B"));
  // Percent-encoding is decoded.
  EXPECT_EQ(get_json("/known-architectures?q=Llama%2D3.1"), q);
}

TEST(KnownArchitecturesRoute, FiltersByQuantization) {
  const json yes = get_json("/known-architectures?quantized=true");
  const json no = get_json("/known-architectures?quantized=false");
  ASSERT_GE(yes.size(), 15u);
  EXPECT_EQ(yes.size() + no.size(), cats().models.entries().size());
  for (auto it = yes.begin(); it != yes.end(); ++it) {
    EXPECT_EQ(it.value()["quantized"], true);
  }
  for (auto it = no.begin(); it != no.end(); ++it) {
    EXPECT_FALSE(it.value().contains("quantized"));
  }
  EXPECT_TRUE(yes.contains("Qwen/Qwen2.5-72B-Instruct-AWQ"));
  EXPECT_TRUE(no.contains("Qwen/Qwen2.5-72B"));
  EXPECT_EQ(yes["Qwen/Qwen2.5-72B-Instruct-AWQ"]["quantization"]["method"], "awq");
  // Filters combine.
  const json both = get_json("/known-architectures?family=Qwen3&quantized=1");
  ASSERT_FALSE(both.empty());
  for (auto it = both.begin(); it != both.end(); ++it) {
    EXPECT_EQ(it.value()["quantized"], true) << it.key();
    EXPECT_EQ(it.value()["family"].get<std::string>().rfind("Qwen3", 0), 0u) << it.key();
  }
  EXPECT_TRUE(both.contains("Qwen/Qwen3-32B-FP8"));
  EXPECT_FALSE(both.contains("Qwen/Qwen2.5-72B-Instruct-AWQ"));
}

TEST(KnownArchitecturesRoute, BadFiltersAreClientErrors) {
  json e = get_json("/known-architectures?quantized=maybe", 400);
  EXPECT_EQ(e["field"], "quantized");
  EXPECT_NE(e["detail"].get<std::string>().find("true or false"), std::string::npos);
  e = get_json("/known-architectures?colour=red", 400);
  EXPECT_EQ(e["field"], "colour");
  EXPECT_NE(e["detail"].get<std::string>().find("family, q or quantized"), std::string::npos);
  EXPECT_EQ(api().handle({"POST", "/known-architectures", "{}", "application/json", ""}).status,
            405);
}

TEST(ModelRoute, ReturnsTheEntryWithSourceCountsAndKvBytes) {
  const json j = get_json("/models/meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(j["id"], "meta-llama/Llama-2-7b-hf");
  ASSERT_TRUE(j["source"].is_array());
  EXPECT_FALSE(j["source"].empty());
  EXPECT_EQ(j["verification"], "A");
  const json& p = j["parameter_count"];
  EXPECT_NEAR(p["total"].get<double>(), 6.74e9, 0.01e9);
  EXPECT_EQ(p["active"], p["total"]);  // dense
  EXPECT_NE(p["convention"].get<std::string>().find("both embedding matrices"), std::string::npos);
  // 32 layers x 32 KV heads x 128 x (K and V) x 2 bytes.
  EXPECT_EQ(j["kv_cache_bytes_per_token_16bit"], 32 * 32 * 128 * 2 * 2);
  EXPECT_EQ(j["published_parameter_count"]["total"], 6740000000ULL);
  EXPECT_EQ(j["published_parameter_count"]["status"], "official");
  EXPECT_FALSE(j.contains("match"));
}

TEST(ModelRoute, MoeCountsSayWhichConvention) {
  const json j = get_json("/models/mistralai/Mixtral-8x7B-v0.1");
  const json& p = j["parameter_count"];
  EXPECT_NEAR(p["total"].get<double>(), 46.7e9, 0.1e9);
  EXPECT_NEAR(p["active"].get<double>(), 12.9e9, 0.1e9);
  EXPECT_LT(p["active_excluding_input_embedding"].get<double>(), p["active"].get<double>());
  EXPECT_EQ(j["published_parameter_count"]["convention"],
            "active includes both embedding matrices");
  // MLA: one latent of kv_lora_rank + qk_rope_head_dim per layer (61 x 576 x 2 bytes).
  EXPECT_EQ(get_json("/models/deepseek-ai/DeepSeek-V3")["kv_cache_bytes_per_token_16bit"],
            61 * 576 * 2);
  // Falcon-7B: one KV head (multi_query), not the 71 of a re-saved config.
  EXPECT_EQ(get_json("/models/tiiuae/falcon-7b")["kv_cache_bytes_per_token_16bit"],
            32 * 1 * 64 * 2 * 2);
}

TEST(ModelRoute, ResolvesOtherNamesAndSaysHow) {
  const json q = get_json("/models/RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8-dynamic");
  EXPECT_EQ(q["id"], "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(q["match"]["kind"], "quantized_checkpoint");
  EXPECT_EQ(q["match"]["quantization_from_name"], "fp8");
  const json v = get_json("/models/meta-llama/Llama-2-7b-chat-hf");
  EXPECT_EQ(v["id"], "meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(v["match"]["kind"], "suffix_variant");
  // Case only: the entry, no match note.
  EXPECT_FALSE(get_json("/models/META-LLAMA/LLAMA-2-7B-HF").contains("match"));
}

TEST(ModelRoute, ClosedIncompleteAndUnknownModels) {
  const json c = get_json("/models/gpt-4");
  EXPECT_EQ(c["closed"], true);
  EXPECT_FALSE(c.contains("parameter_count"));
  EXPECT_EQ(c["published_parameter_count"]["status"], "unofficial");
  const json g = get_json("/models/ibm-granite/granite-vision-3.3-2b");
  EXPECT_FALSE(g.contains("parameter_count"));
  EXPECT_EQ(g["resolved"]["incomplete"], true);
  const json n = get_json("/models/acme/no-such-model", 404);
  EXPECT_EQ(n["field"], "id");
  EXPECT_NE(n["detail"].get<std::string>().find("acme/no-such-model"), std::string::npos);
  EXPECT_EQ(api().handle({"DELETE", "/models/gpt-4", "", "", ""}).status, 405);
}

}  // namespace
}  // namespace vllm_mem::testing
