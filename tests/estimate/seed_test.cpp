// seed_test.cpp — the seed API's physics: parameter counts, KV formulas, defaults, warnings.
#include <gtest/gtest.h>

#include <cmath>

#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/name_estimate.hpp"
#include "vllm_mem/model/weights.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

struct count_case {
  const char* id;
  double published;  // published parameter count (reference files)
};

// Published counts quoted in ../shared/reference/model-configs*.md (exact or HF-page figures).
class ParameterCount : public ::testing::TestWithParam<count_case> {};

TEST_P(ParameterCount, MatchesPublishedCountWithinOnePercent) {
  const auto& c = GetParam();
  auto p = count_parameters(arch_of(c.id));
  ASSERT_TRUE(p.ok());
  const double rel = std::fabs(static_cast<double>(p->total) - c.published) / c.published;
  EXPECT_LT(rel, 0.01) << c.id << ": computed " << p->total << " vs published " << c.published;
}

INSTANTIATE_TEST_SUITE_P(DatabaseModels, ParameterCount,
                         ::testing::Values(count_case{"meta-llama/Llama-2-7b-hf", 6.74e9},
                                           count_case{"meta-llama/Llama-2-70b-hf", 69e9},
                                           count_case{"meta-llama/Meta-Llama-3-8B", 8.03e9},
                                           count_case{"meta-llama/Llama-3.1-70B", 70.6e9},
                                           count_case{"meta-llama/Llama-3.2-1B", 1.23e9},
                                           count_case{"meta-llama/Llama-3.2-3B", 3.21e9},
                                           count_case{"mistralai/Mixtral-8x7B-v0.1", 46.7e9},
                                           count_case{"mistralai/Mixtral-8x22B-v0.1", 141e9},
                                           count_case{"Qwen/Qwen2.5-0.5B", 0.49e9},
                                           count_case{"Qwen/Qwen2.5-7B", 7.61e9},
                                           count_case{"google/gemma-2-9b", 9.24e9},
                                           count_case{"google/gemma-2-27b", 27.2e9},
                                           count_case{"stabilityai/stablelm-3b-4e1t", 2795443200.0},
                                           count_case{"deepseek-ai/DeepSeek-V3", 671e9},
                                           count_case{"openai/gpt-oss-120b", 117e9},
                                           count_case{"openai/gpt-oss-20b", 21e9}));

TEST(ParameterCount, StableLmIsExact) {
  auto p = count_parameters(arch_of("stabilityai/stablelm-3b-4e1t"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->total, 2795443200ULL);  // published exact figure
}

TEST(ParameterCount, ActiveParametersOfMixtral) {
  auto p = count_parameters(arch_of("mistralai/Mixtral-8x7B-v0.1"));
  ASSERT_TRUE(p.ok());
  // Mistral's 12.9B active counts both embedding matrices, as our convention does.
  EXPECT_NEAR(static_cast<double>(p->active) / 1e9, 12.9, 0.13);
}

TEST(ParameterCount, FalconSevenBIgnoresBogusKvHeads) {
  const model_arch& a = arch_of("tiiuae/falcon-7b");
  EXPECT_EQ(a.num_kv_heads, 1u);  // multi_query; a re-saved num_kv_heads: 71 must not be used
  EXPECT_EQ(a.mlp, mlp_kind::plain);
  EXPECT_TRUE(a.tie_word_embeddings);
  auto p = count_parameters(a);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(static_cast<double>(p->total) / 1e9, 6.92, 0.07);
}

TEST(SeedExample, Llama2SevenBFloat16Batch32Context2048) {
  // The seed's example request; physically right numbers (issue 2).
  const json body = {{"model_name", "meta-llama/Llama-2-7b"},
                     {"max_seq_len", 2048},
                     {"dtype", "float16"},
                     {"max_batch_size", 32},
                     {"gpu_memory_utilization", 0.9},
                     {"quantization", nullptr},
                     {"params_billions", nullptr},
                     {"architecture",
                      {{"num_layers", 32},
                       {"hidden_size", 4096},
                       {"num_heads", 32},
                       {"head_dim", 128},
                       {"intermediate_size", 11008}}}};
  const estimate_result r = run(body);
  const json j = to_json(r);
  EXPECT_DOUBLE_EQ(j["model_params_memory_gb"].get<double>(), 13.48);
  EXPECT_DOUBLE_EQ(j["max_kv_cache_memory_gb"].get<double>(), 34.36);
  EXPECT_DOUBLE_EQ(j["min_kv_cache_memory_gb"].get<double>(), 0.27);
  // Exact bytes: 2 (K,V) * 32 layers * 32 heads * 128 * 2 bytes = 524288 B/token.
  EXPECT_EQ(r.kv_cache_bytes_per_token, 524288u);
  EXPECT_EQ(r.bytes.max_kv_cache, 32ULL * 128 * 16 * 524288);
  EXPECT_EQ(r.bytes.min_kv_cache, 32ULL * 16 * 524288);
  EXPECT_EQ(j["model_source"], "database+request_architecture");
  EXPECT_TRUE(j["warning"].is_null());
}

TEST(SeedExample, Llama31EightBUsesGroupedQueryAttention) {
  const estimate_result r = run({{"model_name", "meta-llama/Llama-3.1-8B"}, {"max_seq_len", 2048}});
  const json j = to_json(r);
  EXPECT_DOUBLE_EQ(j["max_kv_cache_memory_gb"].get<double>(), 8.59);
  EXPECT_DOUBLE_EQ(j["model_params_memory_gb"].get<double>(), 16.06);
  EXPECT_EQ(j["architecture_used"]["num_kv_heads"], 8);
}

TEST(SeedFields, TotalsAreSumsAndRecommendedDividesByUtilization) {
  const estimate_result r = run({{"model_name", "Qwen/Qwen2.5-7B"},
                                 {"max_seq_len", 4096},
                                 {"max_batch_size", 8},
                                 {"gpu_memory_utilization", 0.8}});
  const auto& c = r.bytes;
  EXPECT_EQ(c.total_min, c.model_params + c.activation + c.min_kv_cache + c.cuda_overhead);
  EXPECT_EQ(c.total_max, c.model_params + c.activation + c.max_kv_cache + c.cuda_overhead);
  EXPECT_NEAR(static_cast<double>(c.recommended), static_cast<double>(c.total_max) / 0.8, 1.0);
  const json j = to_json(r);
  const json& b = j["components_breakdown"];
  for (const char* k :
       {"model_params", "activation", "min_kv_cache", "max_kv_cache", "cuda_overhead"}) {
    EXPECT_TRUE(b.contains(k)) << k;
  }
  EXPECT_DOUBLE_EQ(b["model_params"].get<double>(), j["model_params_memory_gb"].get<double>());
}

TEST(KvCache, ScalesLinearlyWithContextAndBatch) {
  auto kv = [](std::uint64_t len, std::uint64_t batch) {
    return run({{"model_name", "meta-llama/Llama-3.1-8B"},
                {"max_seq_len", len},
                {"max_batch_size", batch}})
        .bytes.max_kv_cache;
  };
  EXPECT_EQ(kv(4096, 1) * 2, kv(8192, 1));
  EXPECT_EQ(kv(4096, 1) * 3, kv(4096, 3));
  // Partial blocks round up to 16 tokens.
  EXPECT_EQ(kv(4097, 1), kv(4096, 1) + 16 * 131072);
}

TEST(KvCache, Fp8HalvesAndFloat32Doubles) {
  auto kv = [](const char* dt) {
    return run({{"model_name", "meta-llama/Llama-3.1-8B"},
                {"max_seq_len", 4096},
                {"kv_cache_dtype", dt}})
        .bytes.max_kv_cache;
  };
  EXPECT_EQ(kv("fp8") * 2, kv("bfloat16"));
  EXPECT_EQ(kv("float32"), 2 * kv("float16"));
}

TEST(KvCache, MlaStoresOneLatentPerTokenAndLayer) {
  // DeepSeek-V3: 61 layers x (512 + 64) x 2 bytes = 70272 B/token, whatever the head count.
  const estimate_result r = run(
      {{"model_name", "deepseek-ai/DeepSeek-V3"}, {"max_seq_len", 4096}, {"dtype", "bfloat16"}});
  EXPECT_EQ(r.kv_cache_bytes_per_token, 61u * 576 * 2);
}

TEST(Weights, QuantizationShrinksQuantizedLayersOnly) {
  auto w = [](const char* q) {
    json b = {{"model_name", "meta-llama/Llama-3.1-8B"}, {"max_seq_len", 2048}};
    if (q) b["quantization"] = q;
    return run(b).bytes.model_params;
  };
  const double full = static_cast<double>(w(nullptr));
  const double q8 = static_cast<double>(w("Q8"));
  const double q4 = static_cast<double>(w("Q4"));
  // Embedding and LM head (2 x 128256 x 4096 x 2 B) stay in 16 bit.
  const double emb = 2.0 * 128256 * 4096 * 2;
  EXPECT_NEAR((q8 - emb) / (full - emb), 0.5, 0.01);
  EXPECT_NEAR((q4 - emb) / (full - emb), 0.5195 / 2, 0.01);
}

TEST(Weights, TensorParallelHalvesWeightsPerGpu) {
  auto w = [](int tp) {
    return run({{"model_name", "meta-llama/Llama-3.1-70B"},
                {"max_seq_len", 2048},
                {"tensor_parallel_size", tp}})
        .bytes.model_params;
  };
  EXPECT_NEAR(static_cast<double>(w(2)) * 2, static_cast<double>(w(1)),
              static_cast<double>(w(1)) * 1e-4);
}

TEST(Weights, KvHeadsAreReplicatedWhenTpExceedsThem) {
  // Llama-3.1-70B has 8 KV heads: at tp 16 every rank still holds one.
  const model_arch& a = arch_of("meta-llama/Llama-3.1-70B");
  EXPECT_EQ(a.kv_heads_per_rank(8), 1u);
  EXPECT_EQ(a.kv_heads_per_rank(16), 1u);
  EXPECT_EQ(a.kv_heads_per_rank(4), 2u);
}

TEST(Weights, PipelineStagesSplitLayersLikeVllm) {
  // get_pp_indices: floor(L/pp) each; the remainder goes to the stages before the last.
  EXPECT_EQ(pp_layer_range(61, 2, 0).last, 31u);
  EXPECT_EQ(pp_layer_range(61, 2, 1).first, 31u);
  EXPECT_EQ(pp_layer_range(61, 2, 1).last, 61u);
  EXPECT_EQ(pp_layer_range(10, 4, 0).last - pp_layer_range(10, 4, 0).first, 2u);
  EXPECT_EQ(pp_layer_range(10, 4, 1).last - pp_layer_range(10, 4, 1).first, 3u);
  EXPECT_EQ(pp_layer_range(10, 4, 2).last - pp_layer_range(10, 4, 2).first, 3u);
  EXPECT_EQ(pp_layer_range(10, 4, 3).last - pp_layer_range(10, 4, 3).first, 2u);
}

TEST(NameEstimate, ReadsSizesFromNames) {
  EXPECT_DOUBLE_EQ(params_from_name("acme/llama-2-13b-chat")->total_params, 13e9);
  EXPECT_DOUBLE_EQ(params_from_name("Qwen1.5-1.8B")->total_params, 1.8e9);
  EXPECT_DOUBLE_EQ(params_from_name("facebook/opt-350m")->total_params, 350e6);
  auto moe = params_from_name("someone/Mixtral-8x7B-custom");
  ASSERT_TRUE(moe);
  EXPECT_EQ(moe->experts, 8u);
  EXPECT_DOUBLE_EQ(moe->expert_params, 7e9);
  EXPECT_DOUBLE_EQ(params_from_name("x/Qwen3-30B-A3B-foo")->total_params, 30e9);
  EXPECT_FALSE(params_from_name("my-model-v2").has_value());
}

TEST(NameEstimate, ArchitectureFromParameterCountHasThatCount) {
  for (double p : {0.5e9, 1.5e9, 7e9, 13e9, 34e9, 70e9, 180e9}) {
    auto spec = arch_from_params(p);
    auto a = resolve_arch(spec, "");
    ASSERT_TRUE(a.ok());
    auto c = count_parameters(*a);
    ASSERT_TRUE(c.ok());
    EXPECT_NEAR(static_cast<double>(c->total) / p, 1.0, 0.08) << p;
  }
}

TEST(UnknownModels, NameEstimateIsFlagged) {
  const estimate_result r = run({{"model_name", "acme/super-13b-chat"}, {"max_seq_len", 2048}});
  EXPECT_EQ(r.model.source, "name_estimate");
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("13b"), std::string::npos);
  EXPECT_NEAR(static_cast<double>(r.params.total) / 13e9, 1.0, 0.08);
}

TEST(UnknownModels, ParamsBillionsOverridesAndDefaultIsStated) {
  const estimate_result r =
      run({{"model_name", "acme/mystery"}, {"max_seq_len", 2048}, {"params_billions", 3.0}});
  EXPECT_EQ(r.model.source, "params_billions");
  EXPECT_NEAR(static_cast<double>(r.params.total) / 3e9, 1.0, 0.08);
  const estimate_result d = run({{"model_name", "acme/mystery"}, {"max_seq_len", 2048}});
  EXPECT_EQ(d.model.source, "default_estimate");
  ASSERT_FALSE(d.warnings.empty());
}

TEST(UnknownModels, CompleteRequestArchitectureIsUsedAsIs) {
  const estimate_result r = run({{"model_name", "acme/custom"},
                                 {"max_seq_len", 1024},
                                 {"architecture",
                                  {{"num_layers", 2},
                                   {"hidden_size", 256},
                                   {"num_heads", 4},
                                   {"num_kv_heads", 2},
                                   {"intermediate_size", 512},
                                   {"vocab_size", 1000}}}});
  EXPECT_EQ(r.model.source, "request_architecture");
  // embed + lm_head (1024 padded rows... counted unpadded) + 2 layers of attention, MLP, norms.
  const std::uint64_t per_layer = 256 * (4 + 2 * 2) * 64 + 256 * 256 + 3 * 256 * 512 + 2 * 256;
  EXPECT_EQ(r.params.total, 2 * 1000 * 256 + 2 * per_layer + 256);
}

TEST(Warnings, ClosedModelsSayTheirSizeIsUnofficial) {
  const estimate_result r = run({{"model_name", "gpt-4"}, {"max_seq_len", 2048}});
  ASSERT_FALSE(r.warnings.empty());
  std::string all;
  for (const auto& w : r.warnings) all += w;
  EXPECT_NE(all.find("closed model"), std::string::npos);
  EXPECT_NE(all.find("unofficial"), std::string::npos);
  EXPECT_NE(all.find("very large model"), std::string::npos);
}

TEST(Warnings, VeryLargeModels) {
  const estimate_result r =
      run({{"model_name", "meta-llama/Llama-3.1-405B"}, {"max_seq_len", 2048}});
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings.back().find("very large model"), std::string::npos);
  // Without a GPU the comparison is with the catalog's largest, named.
  EXPECT_NE(r.warnings.back().find("the largest GPU in the catalog"), std::string::npos)
      << r.warnings.back();
}

// Regression: gpt-oss-120b's 69 GB of MXFP4 weights fit one 80 GB GPU; it was warned as "more
// than one 80 GB GPU holds" because of its parameter count alone.
TEST(Warnings, WeightsThatFitTheGpuAreNotVeryLarge) {
  for (const char* gpu : {"", "H100-80GB"}) {
    json body = {{"model_name", "openai/gpt-oss-120b"}, {"max_seq_len", 8192}};
    if (*gpu) body["gpu"] = gpu;
    const estimate_result r = run(body);
    for (const auto& w : r.warnings) EXPECT_EQ(w.find("very large model"), std::string::npos) << w;
  }
  // On a 24 GB GPU the same weights do not fit, and the warning names that GPU.
  const estimate_result small =
      run({{"model_name", "openai/gpt-oss-120b"}, {"max_seq_len", 8192}, {"gpu", "L4"}});
  ASSERT_FALSE(small.warnings.empty());
  EXPECT_NE(small.warnings.back().find("more than L4 holds"), std::string::npos)
      << small.warnings.back();
}

}  // namespace
}  // namespace vllm_mem::testing
