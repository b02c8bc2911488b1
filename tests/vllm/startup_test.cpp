// startup_test.cpp — the vLLM startup model with hand-checked numbers: KV layouts (full, MLA,
// sliding windows per version), tensor-parallel replication, pipeline splits, version profiles,
// defaults, CUDA graph counts and the start/no-start verdicts.
#include <gtest/gtest.h>

#include <cmath>

#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/vllm/startup.hpp"

namespace vllm_mem::testing {
namespace {

vllm_profile profile(const char* version, std::optional<engine_kind> engine = std::nullopt) {
  auto v = parse_vllm_version(version, "vllm_version");
  EXPECT_TRUE(v.ok());
  auto p = make_profile(*v, engine.value_or(default_engine(*v)));
  EXPECT_TRUE(p.ok());
  return *p;
}

deployment on_gpu(double gib, const char* version, double u = 0.9) {
  deployment d;
  d.gpu_total_bytes = static_cast<std::uint64_t>(gib * kGiB);
  d.gpu_memory_utilization = u;
  d.profile = profile(version);
  d.max_model_len = 8192;
  d.max_num_seqs = 256;
  d.max_num_batched_tokens = 8192;
  return d;
}

startup_result sim(const model_arch& a, const deployment& d) {
  auto r = simulate_startup(a, d);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
  return *r;
}

TEST(KvLayout, FullAttentionPageAndBlocks) {
  // Llama-3-8B: 32 layers, 8 KV heads of 128, bf16: page = 16 * 8 * 128 * 2 (K,V) * 2 B = 65536.
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");
  const startup_result r = sim(a, on_gpu(79.19, "0.19.0", 0.95));
  EXPECT_EQ(r.kv.page_bytes, 65536u);
  EXPECT_EQ(r.kv.bytes_per_token, 131072u);
  ASSERT_GT(r.kv_cache_bytes, 0);
  // num_blocks = floor(floor(A / page) / L), tokens = blocks * 16, concurrency = blocks / (X/16).
  const std::uint64_t blocks = static_cast<std::uint64_t>(r.kv_cache_bytes) / 65536 / 32;
  EXPECT_EQ(r.num_gpu_blocks, blocks);
  EXPECT_EQ(r.kv_cache_tokens, blocks * 16);
  EXPECT_DOUBLE_EQ(r.max_concurrency, static_cast<double>(blocks) / 512.0);
}

TEST(KvLayout, TensorParallelSplitsKvHeadsAndReplicatesBeyondThem) {
  const model_arch& a = arch_of("meta-llama/Llama-3.1-70B");  // 8 KV heads
  deployment d = on_gpu(79.19, "0.19.0");
  d.tp = 2;
  EXPECT_EQ(sim(a, d).kv.page_bytes, 16u * 4 * 128 * 2 * 2);
  d.tp = 8;
  EXPECT_EQ(sim(a, d).kv.page_bytes, 16u * 1 * 128 * 2 * 2);
  d.tp = 16;  // 16 ranks, 8 heads: every rank keeps one head (replicated twice across ranks)
  EXPECT_EQ(sim(a, d).kv.page_bytes, 16u * 1 * 128 * 2 * 2);
}

TEST(KvLayout, MlaKeepsOneLatentOf576PerTokenOnEveryRank) {
  const model_arch& a = arch_of("deepseek-ai/DeepSeek-V2-Lite");
  deployment d = on_gpu(79.19, "0.19.0", 0.95);
  const startup_result r1 = sim(a, d);
  EXPECT_EQ(r1.kv.page_bytes, 16u * 576 * 2);
  EXPECT_EQ(r1.kv.bytes_per_token, 27u * 576 * 2);
  d.tp = 2;
  EXPECT_EQ(sim(a, d).kv.page_bytes, 16u * 576 * 2);  // the latent is replicated, not split
}

TEST(KvLayout, Fp8KvHalvesThePage) {
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");
  deployment d = on_gpu(79.19, "0.19.0");
  d.kv_bits = 8;
  EXPECT_EQ(sim(a, d).kv.page_bytes, 32768u);
}

TEST(SlidingWindow, Gemma2HybridManagerHasTwoGroupsAndWindowSizedRequests) {
  // gemma-2-2b: 26 layers alternating sliding (4096) and full. 13 + 13 layers: 2 groups of 13.
  // Per request at X = 8192, M = 8192: full ceil(8192/16) = 512 blocks; sliding
  // ceil(min(4095 + 8192, 8192)/16) + 1 = 513 blocks (vllm-memory-model.md §6.2).
  const model_arch& a = arch_of("google/gemma-2-2b");
  deployment d = on_gpu(79.19, "0.19.0", 0.95);
  d.max_num_seqs = 1024;
  const startup_result r = sim(a, d);
  EXPECT_EQ(r.kv.groups, 2u);
  EXPECT_EQ(r.kv.layers_per_group, 13u);
  EXPECT_EQ(r.kv.page_bytes, 16u * 4 * 256 * 2 * 2);
  const std::uint64_t blocks = static_cast<std::uint64_t>(r.kv_cache_bytes) / r.kv.page_bytes / 13;
  EXPECT_EQ(r.num_gpu_blocks, blocks);
  EXPECT_EQ(r.kv_cache_tokens, blocks / 2 * 16);
  EXPECT_DOUBLE_EQ(r.max_concurrency, static_cast<double>(blocks) / 1025.0);
}

TEST(SlidingWindow, Gemma3SevenGroupsOfTen) {
  // gemma-3-27b: 62 layers, every 6th full: 10 full + 52 sliding (1024). group size = 10
  // (52 >= 1.5 * 10), groups: 1 full + ceil(52/10) = 6 sliding. Concurrency denominator at
  // X = M = 8192: 512 + 6 * (ceil(min(1023 + 8192, 8192)/16) + 1) = 512 + 6 * 513 = 3590.
  const model_arch& a = arch_of("google/gemma-3-27b-it");
  EXPECT_EQ(a.num_sliding_layers(), 52u);
  deployment d = on_gpu(79.19, "0.19.0", 0.95);
  d.max_num_seqs = 1024;
  const startup_result r = sim(a, d);
  EXPECT_EQ(r.kv.groups, 7u);
  EXPECT_EQ(r.kv.layers_per_group, 10u);
  EXPECT_DOUBLE_EQ(r.max_concurrency, static_cast<double>(r.num_gpu_blocks) / 3590.0);
  EXPECT_EQ(r.kv_cache_tokens, r.num_gpu_blocks / 7 * 16);
}

TEST(SlidingWindow, V0AndEarlyV1KeepFullLengthKvForMixedModels) {
  const model_arch& a = arch_of("google/gemma-2-2b");
  for (const char* v : {"0.6.6", "0.9.2"}) {
    deployment d = on_gpu(79.19, v, 0.9);
    const startup_result r = sim(a, d);
    EXPECT_EQ(r.kv.groups, 1u) << v;
    EXPECT_EQ(r.kv.layers_per_group, 26u) << v;
    // tokens / X, not blocks / denominator.
    EXPECT_DOUBLE_EQ(r.max_concurrency, static_cast<double>(r.num_gpu_blocks * 16) / 8192.0) << v;
  }
}

TEST(SlidingWindow, GptOssHalfWindowedWithTheHybridManager) {
  // gpt-oss-120b at tp 4: 18 sliding (128) + 18 full layers, 2 KV heads of 64 per rank.
  // X = 16384, M = 2048: full 1024 blocks, sliding ceil(min(127 + 2048, 16384)/16) + 1 = 137.
  const model_arch& a = arch_of("openai/gpt-oss-120b");
  deployment d = on_gpu(79.15, "0.10.1", 0.8);
  d.tp = 4;
  d.max_model_len = 16384;
  d.max_num_batched_tokens = 2048;
  const startup_result r = sim(a, d);
  EXPECT_EQ(r.kv.page_bytes, 16u * 2 * 64 * 2 * 2);
  EXPECT_EQ(r.kv.groups, 2u);
  EXPECT_DOUBLE_EQ(r.max_concurrency, static_cast<double>(r.num_gpu_blocks) / (1024.0 + 137.0));
}

TEST(PipelineParallel, StagesHoldTheirLayersAndBlocksAreTheMinimum) {
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");  // 32 layers
  deployment d = on_gpu(79.19, "0.19.0");
  d.pp = 3;  // get_pp_indices: [11, 11, 10]
  const startup_result r = sim(a, d);
  EXPECT_EQ(r.weights.num_layers, 11u);
  EXPECT_GT(r.weights.embedding, 0u);
  EXPECT_EQ(r.weights.lm_head, 0u);  // on the last stage
  weight_options last;
  last.shard = {1, 3, 2, false};
  auto w = weights_per_rank(a, last);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->num_layers, 10u);
  EXPECT_EQ(w->embedding, 0u);
  EXPECT_EQ(w->lm_head, 128256ULL * 4096 * 2);
  // Stage 0 (11 layers, embedding, no sampler) and the last stage (10 layers, LM head, sampler)
  // each size their own blocks; the engine takes the minimum.
  EXPECT_LE(r.num_gpu_blocks, static_cast<std::uint64_t>(r.kv_cache_bytes) / r.kv.page_bytes / 11);
}

TEST(Weights, TiedEmbeddingsAreStoredOnceUnlessSplitAcrossStages) {
  const model_arch& a = arch_of("meta-llama/Llama-3.2-1B");
  ASSERT_TRUE(a.tie_word_embeddings);
  weight_options o;
  auto one = weights_per_rank(a, o);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->lm_head, 0u);
  o.shard = {1, 2, 1, false};
  auto last = weights_per_rank(a, o);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->lm_head, 128256ULL * 2048 * 2);  // the last stage keeps its own copy
}

TEST(Weights, RotaryCacheIsCountedInModelLoading) {
  // Llama-3.1: llama3 rope, max_position 131072, rotary dim 128, bf16 => 32 MiB (what makes
  // vLLM log 14.99 GiB for an 8B model of 14.96 GiB of parameters).
  const model_arch& a = arch_of("meta-llama/Llama-3.1-8B");
  weight_options o;
  auto w = weights_per_rank(a, o);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->buffers, 131072ULL * 128 * 2);
}

TEST(VersionProfiles, BudgetAndReportingRulesPerVersion) {
  EXPECT_EQ(profile("0.4.1").budget, budget_mode::free_delta);
  EXPECT_EQ(profile("0.6.4").budget, budget_mode::global);
  EXPECT_EQ(profile("0.6.5").budget, budget_mode::per_instance);
  EXPECT_EQ(profile("0.8.3").budget, budget_mode::global);
  EXPECT_EQ(profile("0.9.2").budget, budget_mode::per_instance);
  EXPECT_EQ(profile("0.21.0").budget, budget_mode::per_instance);
  EXPECT_EQ(profile("0.27.1").budget, budget_mode::free_delta_2026);
  EXPECT_EQ(profile("0.34.0").budget, budget_mode::extensible_kv);
  EXPECT_EQ(profile("0.7.3").engine, engine_kind::v0);
  EXPECT_EQ(profile("0.8.0").engine, engine_kind::v1);
  EXPECT_EQ(profile("0.9.2").tokens_report, kv_tokens_report::blocks_times_block_size);
  EXPECT_EQ(profile("0.10.1").tokens_report, kv_tokens_report::blocks_per_group);
  EXPECT_EQ(profile("0.21.0").tokens_report, kv_tokens_report::concurrency_times_len);
  EXPECT_FALSE(profile("0.19.0").cuda_graph_in_budget);
  EXPECT_TRUE(profile("0.21.0").cuda_graph_in_budget);
  EXPECT_TRUE(profile("0.21.0").extrapolated);
  EXPECT_FALSE(profile("0.19.0").extrapolated);
  // 0.20: graph estimate charged, u 0.92, tokens still (blocks // groups) * B
  // (docs/research/vllm-0.20-0.34.md §1).
  EXPECT_TRUE(profile("0.20.0").cuda_graph_in_budget);
  EXPECT_TRUE(profile("0.20.0").requested_ceil);
  EXPECT_FALSE(profile("0.19.0").requested_ceil);
  EXPECT_EQ(profile("0.20.0").default_utilization, 0.92);
  EXPECT_EQ(profile("0.19.0").default_utilization, 0.9);
  EXPECT_EQ(profile("0.34.0").default_utilization, 1.0);
  EXPECT_FALSE(profile("0.34.0").startup_free_check);
  EXPECT_EQ(profile("0.20.0").tokens_report, kv_tokens_report::blocks_per_group);
  EXPECT_EQ(profile("0.26.0").range, "0.25.1-0.26");
  EXPECT_EQ(profile("0.25.0").range, "0.23-0.25.0");
  EXPECT_EQ(profile("0.19.0").range, "0.4-0.19");
  EXPECT_TRUE(profile("0.19.0").calibrated);
  EXPECT_TRUE(profile("0.27.1").calibrated);   // rows 2028, 2029
  EXPECT_FALSE(profile("0.21.0").calibrated);  // no scored startup
  EXPECT_FALSE(profile("0.34.0").calibrated);
  EXPECT_FALSE(profile("0.34.2").beyond_newest);
  EXPECT_TRUE(profile("0.35.0").beyond_newest);
  EXPECT_EQ(profile("0.35.0").budget, budget_mode::extensible_kv);
  EXPECT_FALSE(
      make_profile(*parse_vllm_version("0.11.0", "v"), engine_kind::v0).ok());  // V0 removed
  EXPECT_FALSE(make_profile(*parse_vllm_version("0.6.0", "v"), engine_kind::v1).ok());  // no V1 yet
}

TEST(VersionProfiles, ParsesVersionSpellings) {
  EXPECT_EQ(parse_vllm_version("v0.10.1.1", "f")->text(), "0.10.1");
  EXPECT_EQ(parse_vllm_version("0.7", "f")->text(), "0.7.0");
  EXPECT_EQ(parse_vllm_version("0.6.5.dev123+g1234", "f")->text(), "0.6.5");
  EXPECT_FALSE(parse_vllm_version("latest", "f").ok());
  EXPECT_FALSE(parse_vllm_version("0.3.0", "f").ok());
  EXPECT_FALSE(parse_vllm_version("1.0.0", "f").ok());
}

TEST(VersionProfiles, TokenReportAfter021IsConcurrencyTimesLength) {
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");
  const startup_result r = sim(a, on_gpu(79.19, "0.21.0"));
  EXPECT_EQ(r.kv_cache_tokens, static_cast<std::uint64_t>(r.max_concurrency * 8192.0));
  EXPECT_TRUE(r.cuda_graph_in_budget);
  // The CUDA graph estimate is subtracted from the budget: compare with 0.19 rules otherwise
  // equal by disabling graphs in both.
  deployment d21 = on_gpu(79.19, "0.21.0");
  deployment d21_eager = d21;
  d21_eager.enforce_eager = true;
  const startup_result g = sim(a, d21), e = sim(a, d21_eager);
  EXPECT_EQ(e.kv_cache_bytes - g.kv_cache_bytes, static_cast<std::int64_t>(g.cuda_graph_bytes));
}

TEST(Defaults, SchedulerDefaultsPerVersionAndGpu) {
  // §8.2: V1 >= 0.9 with >= 70 GiB and not an A100: 1024 sequences, 8192 tokens; else 256/2048.
  auto big = default_scheduler(profile("0.19.0"), true, 8192, false);
  EXPECT_EQ(big.max_num_seqs, 1024u);
  EXPECT_EQ(big.max_num_batched_tokens, 8192u);
  auto small = default_scheduler(profile("0.19.0"), false, 8192, false);
  EXPECT_EQ(small.max_num_seqs, 256u);
  EXPECT_EQ(small.max_num_batched_tokens, 2048u);
  // V0: max(X, 2048) without chunked prefill; chunked (2048) above 32K from 0.7.
  EXPECT_EQ(default_scheduler(profile("0.6.5"), true, 4096, false).max_num_batched_tokens, 4096u);
  EXPECT_EQ(default_scheduler(profile("0.6.5"), true, 1024, false).max_num_batched_tokens, 2048u);
  auto longctx = default_scheduler(profile("0.7.3"), true, 131072, false);
  EXPECT_TRUE(longctx.chunked_prefill);
  EXPECT_EQ(longctx.max_num_batched_tokens, 2048u);
  EXPECT_EQ(default_scheduler(profile("0.6.0"), true, 131072, false).max_num_batched_tokens, 512u);
  // The GPU's name decides, not only its size: an A100-80GB keeps the small defaults.
  EXPECT_FALSE(cats().gpus.find("A100-80GB")->big_for_vllm_defaults());
  EXPECT_TRUE(cats().gpus.find("H100-80GB")->big_for_vllm_defaults());
}

TEST(Defaults, CudaGraphCaptureCounts) {
  // 0.19 (S 1024): [1,2,4] + 8..248 step 8 (31) + 256..512 step 16 (17) = 51, FULL + PIECEWISE.
  EXPECT_EQ(cuda_graph_count(profile("0.19.0"), 1024, 8192), 102u);
  // 0.10 (S 256): [1,2,4] + 8..512 step 8 = 67, piecewise only.
  EXPECT_EQ(cuda_graph_count(profile("0.10.1"), 256, 2048), 67u);
  // V0 (S 256): [1,2,4] + 8..256 step 8 = 35.
  EXPECT_EQ(cuda_graph_count(profile("0.6.5"), 256, 8192), 35u);
  // Capped by max_num_batched_tokens in V1.
  EXPECT_EQ(cuda_graph_count(profile("0.8.3"), 256, 64), 11u);
}

TEST(Verdicts, TooLongContextGivesVllmsMessageAndTheLargestLengthThatFits) {
  const model_arch& a = arch_of("meta-llama/Llama-3.1-8B");
  deployment d = on_gpu(22.05, "0.19.0");  // an L4
  d.max_model_len = 131072;
  d.max_num_batched_tokens = 2048;
  const startup_result r = sim(a, d);
  ASSERT_FALSE(r.fits);
  EXPECT_EQ(r.limit, limiting_factor::kv_cache);
  EXPECT_NE(
      r.error.find("estimated maximum model length is " + std::to_string(r.max_model_len_fit)),
      std::string::npos);
  // The solved length starts; one block more does not.
  deployment ok = d;
  ok.max_model_len = r.max_model_len_fit;
  EXPECT_TRUE(sim(a, ok).fits);
  ok.max_model_len = r.max_model_len_fit + 16;
  EXPECT_FALSE(sim(a, ok).fits);
  // Full attention: the fit is exactly floor(A / (L * page)) blocks.
  EXPECT_EQ(r.max_model_len_fit, static_cast<std::uint64_t>(r.kv_cache_bytes) / (32 * 65536) * 16);
}

TEST(Verdicts, V0MessageComparesWithBlocksTimesBlockSize) {
  const model_arch& a = arch_of("meta-llama/Llama-3.1-8B");
  deployment d = on_gpu(22.3, "0.7.0");
  d.max_model_len = 131072;
  d.max_num_batched_tokens = 2048;
  const startup_result r = sim(a, d);
  ASSERT_FALSE(r.fits);
  EXPECT_NE(r.error.find("maximum number of tokens that can be stored in KV cache (" +
                         std::to_string(r.num_gpu_blocks * 16) + ")"),
            std::string::npos);
  EXPECT_EQ(r.max_model_len_fit, r.num_gpu_blocks * 16);
}

TEST(Verdicts, WeightsThatDoNotFitAndNoCacheMemory) {
  const model_arch& a = arch_of("meta-llama/Llama-3.1-70B");
  const startup_result r = sim(a, on_gpu(79.19, "0.19.0"));
  EXPECT_FALSE(r.fits);
  EXPECT_EQ(r.limit, limiting_factor::weights);
  EXPECT_EQ(r.max_model_len_fit, 0u);
  const model_arch& b = arch_of("meta-llama/Llama-3.1-8B");
  const startup_result n = sim(b, on_gpu(22.05, "0.19.0", 0.7));  // 15.4 GiB budget, 15 GiB weights
  EXPECT_FALSE(n.fits);
  EXPECT_NE(n.error.find("No available memory for the cache blocks"), std::string::npos);
}

TEST(Verdicts, UtilizationAboveFreeMemoryFailsOnV1Only) {
  const model_arch& a = arch_of("Qwen/Qwen2.5-0.5B");
  const startup_result v1 = sim(a, on_gpu(79.19, "0.19.0", 1.0));
  EXPECT_FALSE(v1.fits);
  EXPECT_EQ(v1.limit, limiting_factor::gpu_memory_utilization);
  EXPECT_NE(v1.error.find("Free memory on device"), std::string::npos);
  // V0 has no such check; its graphs then need memory outside the budget.
  const startup_result v0 = sim(a, on_gpu(79.19, "0.6.6", 1.0));
  EXPECT_EQ(v0.limit, limiting_factor::cuda_graphs);
  deployment eager = on_gpu(79.19, "0.6.6", 1.0);
  eager.enforce_eager = true;
  EXPECT_TRUE(sim(a, eager).fits);
}

TEST(Verdicts, MaxModelLenAboveTheModelsMaximumIsRefused) {
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");  // 8192 positions
  deployment d = on_gpu(79.19, "0.19.0");
  d.max_model_len = 16384;
  const startup_result r = sim(a, d);
  EXPECT_FALSE(r.fits);
  EXPECT_EQ(r.limit, limiting_factor::max_position_embeddings);
  EXPECT_EQ(r.max_model_len_fit, 8192u);
}

TEST(Activation, SamplerGrowsWithRequestsTimesVocabulary) {
  const model_arch& a = arch_of("Qwen/Qwen3-8B");
  deployment d = on_gpu(79.19, "0.19.0", 0.95);
  d.max_num_seqs = 1024;
  const startup_result big = sim(a, d);
  d.max_num_seqs = 512;
  const startup_result small = sim(a, d);
  // 14 bytes per logit over min(M, S) x vocab rows (calibrated 0.17+ profile); at 512 requests
  // the sampler still outweighs the forward pass of 8192 tokens (8192 x (2H + 3I) x 2 B).
  const double delta = 14.0 * (1024.0 - 512.0) * 151936.0;
  EXPECT_NEAR(static_cast<double>(big.activation_peak_bytes - small.activation_peak_bytes), delta,
              delta * 0.01);
}

TEST(VersionProfiles, RunnerByArchitectureAndVersion) {
  // config/vllm.py use_v2_model_runner (docs/research/vllm-0.20-0.34.md §6.4).
  EXPECT_EQ(default_runner(profile("0.21.0"), "qwen3", false, false), model_runner::v1);
  EXPECT_EQ(default_runner(profile("0.22.1"), "qwen3", false, false), model_runner::v2);
  EXPECT_EQ(default_runner(profile("0.22.1"), "llama", false, false), model_runner::v1);
  EXPECT_EQ(default_runner(profile("0.23.0"), "llama", false, false), model_runner::v2);
  EXPECT_EQ(default_runner(profile("0.23.0"), "llama", false, true), model_runner::v1);
  EXPECT_EQ(default_runner(profile("0.26.0"), "gemma3", false, true), model_runner::v2);
  EXPECT_EQ(default_runner(profile("0.26.0"), "qwen3_moe", true, false), model_runner::v1);
  EXPECT_EQ(default_runner(profile("0.29.0"), "qwen3_moe", true, false), model_runner::v2);
  EXPECT_EQ(default_runner(profile("0.19.0"), "qwen3", false, false), model_runner::v1);
  EXPECT_EQ(default_runner(profile("0.6.5"), "llama", false, false), model_runner::v0);
}

TEST(VersionProfiles, Mrv2ProfilePeakAndNoGraphEstimateAt027) {
  // Row 2028's setup: Qwen2.5-0.5B, bf16, M 2048, S 256, u 0.85 on 23.99 GiB, vLLM 0.27.1 MRv2.
  const model_arch& a = arch_of("Qwen/Qwen2.5-0.5B");
  deployment d = on_gpu(23.99, "0.27.1", 0.85);
  d.max_model_len = 2048;
  d.max_num_batched_tokens = 2048;
  d.runner = model_runner::v2;
  const startup_result r = sim(a, d);
  // Sampler 2 B/logit x 256 x 151936 = 77,791,232 B beats the forward (2048 tokens x 2 B x
  // (2 x 896 + 3 x 4864) = 67,108,864 B); MRv2 has no floor.
  EXPECT_EQ(r.activation_peak_bytes, 77791232u);
  EXPECT_EQ(r.cuda_graph_estimate_bytes, 0u);  // the MRv2 stub (profile.cpp)
  EXPECT_GT(r.cuda_graph_bytes, 0u);           // the real pool is still reported
  EXPECT_EQ(r.requested_bytes,
            static_cast<std::uint64_t>(std::ceil(static_cast<double>(d.gpu_total_bytes) * 0.85)));
  EXPECT_EQ(r.kv_cache_bytes,
            static_cast<std::int64_t>(r.requested_bytes) -
                static_cast<std::int64_t>(r.weights.total() + r.activation_peak_bytes +
                                          r.non_torch_bytes));
  // 24 layers x 2 KV heads x 64 x 2 (K, V) x 2 B x 16 = 196,608 B per block; one group.
  EXPECT_EQ(r.num_gpu_blocks, static_cast<std::uint64_t>(r.kv_cache_bytes) / 196608);
  EXPECT_EQ(r.kv_cache_tokens,
            static_cast<std::uint64_t>(static_cast<double>(r.num_gpu_blocks) / 128.0 * 2048.0));
  // MRv1 at the same version: the 0.19 sampler (14 B/logit + 0.18 GiB) and the estimate charged.
  d.runner = model_runner::v1;
  const startup_result v1 = sim(a, d);
  EXPECT_EQ(v1.activation_peak_bytes,
            static_cast<std::uint64_t>(std::llround(0.18 * kGiB + 14.0 * 256 * 151936)));
  EXPECT_EQ(v1.cuda_graph_estimate_bytes, v1.cuda_graph_bytes);
  // From 0.27 the printed activation includes the graph estimate.
  EXPECT_EQ(v1.activation_logged_bytes, v1.activation_peak_bytes + v1.cuda_graph_estimate_bytes);
}

TEST(VersionProfiles, GraphEstimateChargedAt020WithOldTokenRule) {
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");
  deployment d = on_gpu(79.19, "0.20.0", 0.92);
  const startup_result r = sim(a, d);
  EXPECT_TRUE(r.cuda_graph_in_budget);
  EXPECT_EQ(r.cuda_graph_estimate_bytes, r.cuda_graph_bytes);
  EXPECT_EQ(r.kv_cache_bytes,
            static_cast<std::int64_t>(r.requested_bytes) -
                static_cast<std::int64_t>(r.weights.total() + r.activation_peak_bytes +
                                          r.non_torch_bytes + r.cuda_graph_estimate_bytes));
  EXPECT_EQ(r.kv_cache_tokens, r.num_gpu_blocks * 16);            // one group: (blocks // 1) * 16
  EXPECT_EQ(r.activation_logged_bytes, r.activation_peak_bytes);  // itemised before 0.27
}

TEST(VersionProfiles, ExtensibleKvCacheAt034) {
  // extensible_kv_cache.py: A = min(ceil(T u) - R, (T - context) - R - margin) - P, with
  // R = W + N_t + G and margin = max(1 GiB, 0.75 P). u = 1.0 (unset): the second term binds.
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");
  deployment d = on_gpu(79.19, "0.34.0", 1.0);
  const startup_result r = sim(a, d);
  EXPECT_EQ(r.kv_margin_bytes, 1ULL << 30);  // 0.75 x P < 1 GiB here
  EXPECT_LT(0.75 * static_cast<double>(r.activation_peak_bytes), static_cast<double>(1ULL << 30));
  const std::int64_t resident =
      static_cast<std::int64_t>(r.weights.total() + r.non_torch_bytes + r.cuda_graph_bytes);
  EXPECT_EQ(r.kv_cache_bytes, static_cast<std::int64_t>(d.gpu_total_bytes) -
                                  static_cast<std::int64_t>(kGiB / 2) - resident - (1LL << 30) -
                                  static_cast<std::int64_t>(r.activation_peak_bytes));
  EXPECT_TRUE(r.fits);
  // u 0.5 set: the first term binds.
  const startup_result h = sim(a, on_gpu(79.19, "0.34.0", 0.5));
  EXPECT_EQ(h.kv_cache_bytes, static_cast<std::int64_t>(h.requested_bytes) - resident -
                                  static_cast<std::int64_t>(h.activation_peak_bytes));
}

TEST(VersionProfiles, KvCacheMemoryBytesSetsTheKvSize) {
  const model_arch& a = arch_of("meta-llama/Meta-Llama-3-8B");
  deployment d = on_gpu(79.19, "0.27.1", 0.3);  // utilization ignored, no free-memory check
  d.kv_cache_memory_bytes = 10ULL << 30;
  const startup_result r = sim(a, d);
  EXPECT_EQ(r.kv_cache_bytes, 10LL << 30);
  // 32 layers x 8 KV heads x 128 x 2 x 2 B x 16 = 2 MiB per block.
  EXPECT_EQ(r.num_gpu_blocks, 5120u);
  EXPECT_TRUE(r.fits);
  d.kv_cache_memory_bytes = 80ULL << 30;  // more than the GPU
  const startup_result big = sim(a, d);
  EXPECT_FALSE(big.fits);
  EXPECT_NE(big.error.find("kv_cache_memory_bytes"), std::string::npos);
}

TEST(Defaults, CaptureSettingsAndNewerBatchDefaults) {
  const vllm_profile p = profile("0.29.0");
  capture_settings c;
  EXPECT_EQ(cuda_graph_count(p, 1024, 8192, c), 102u);  // 51 sizes x 2 modes
  c.mode = cudagraph_mode::none;
  EXPECT_EQ(cuda_graph_count(p, 1024, 8192, c), 0u);
  c.mode = cudagraph_mode::piecewise;
  EXPECT_EQ(cuda_graph_count(p, 1024, 8192, c), 51u);
  c.mode = cudagraph_mode::version_default;
  c.max_capture_size = 256;  // [1,2,4] + 8..248 (31) + 256 = 35, two modes
  EXPECT_EQ(cuda_graph_count(p, 1024, 8192, c), 70u);
  c.sizes = {1, 2, 4, 8};
  EXPECT_EQ(cuda_graph_count(p, 1024, 8192, c), 8u);
  // 0.28: >= 160 GiB gets 16384 batched tokens; clamps M <= S * X and S <= M from 0.20.
  EXPECT_EQ(default_scheduler(profile("0.28.0"), true, 8192, false, true).max_num_batched_tokens,
            16384u);
  EXPECT_EQ(default_scheduler(profile("0.27.1"), true, 8192, false, true).max_num_batched_tokens,
            8192u);
  auto tiny = default_scheduler(profile("0.20.0"), false, 4, false);
  EXPECT_EQ(tiny.max_num_batched_tokens, 1024u);  // min(2048, 256 x 4)
  EXPECT_EQ(default_scheduler(profile("0.19.0"), false, 4, false).max_num_batched_tokens, 2048u);
}

}  // namespace
}  // namespace vllm_mem::testing

namespace vllm_mem::testing {
namespace {

// Verdicts with their error bar: Llama-3.1-8B on a 24 GiB GPU with vLLM 0.19 (uncertainty share
// 0.0024 of the GPU, 0.058 GiB, so the 0.1 GiB floor; docs/accuracy.md). The margin is the
// available KV cache minus one request of max_model_len (128 KiB per token: 32 layers x 8 KV heads
// x 128 x 2 x 2 B, in 16-token blocks).
TEST(Verdict, MarginAgainstTheErrorBar) {
  const model_arch& a = arch_of("meta-llama/Llama-3.1-8B");
  deployment d = on_gpu(24.0, "0.19.0");
  const startup_result base = sim(a, d);
  ASSERT_TRUE(base.fits);
  const std::int64_t kv = base.kv_cache_bytes;
  constexpr std::int64_t kPerToken = 131072;
  EXPECT_EQ(base.margin_bytes, kv - 8192 * kPerToken);
  EXPECT_EQ(base.uncertainty_bytes, static_cast<std::uint64_t>(std::llround(0.1 * kGiB)));
  EXPECT_EQ(base.verdict, startup_verdict::fits);
  EXPECT_TRUE(base.verdict_advice.empty());

  // A context that leaves about 0.05 GiB: it starts, but within the error bar.
  const std::int64_t tight = (kv - static_cast<std::int64_t>(0.05 * kGiB)) / kPerToken / 16 * 16;
  d.max_model_len = static_cast<std::uint64_t>(tight);
  const startup_result close = sim(a, d);
  EXPECT_TRUE(close.fits);
  EXPECT_EQ(close.margin_bytes, kv - tight * kPerToken);
  EXPECT_EQ(close.verdict, startup_verdict::marginal);
  EXPECT_NE(close.verdict_advice.find("raise --gpu-memory-utilization to 0.9"), std::string::npos)
      << close.verdict_advice;
  EXPECT_NE(close.verdict_advice.find("lower --max-model-len to "), std::string::npos)
      << close.verdict_advice;

  // 0.05 GiB short: vLLM refuses it, yet the model cannot tell that apart from a start.
  d.max_model_len = static_cast<std::uint64_t>(
      (kv + static_cast<std::int64_t>(0.05 * kGiB)) / kPerToken / 16 * 16 + 16);
  const startup_result short_by = sim(a, d);
  EXPECT_FALSE(short_by.fits);
  EXPECT_LT(short_by.margin_bytes, 0);
  EXPECT_EQ(short_by.verdict, startup_verdict::marginal);

  // Far beyond: does not fit, and a longer context than the GPU holds is not suggested.
  d.max_model_len = 2 * static_cast<std::uint64_t>(kv / kPerToken);
  ASSERT_LT(d.max_model_len, 131072u);  // a memory limit, not the positions
  const startup_result far = sim(a, d);
  EXPECT_EQ(far.verdict, startup_verdict::does_not_fit);
  EXPECT_NE(far.verdict_advice.find("lower --max-model-len to "), std::string::npos)
      << far.verdict_advice;
}

// The advice never goes round in a loop: Qwen3-8B at 32768 tokens on an L4 (22.05 GiB, vLLM 0.19,
// graphs outside the budget). Raising the utilization enough for the KV cache leaves the graphs no
// room, so the advice adds --enforce-eager; at that utilization without it, the advice is
// --enforce-eager alone, not a lower utilization at which the KV check fails again. Following the
// advice starts.
TEST(Verdict, AdviceDoesNotTradeOneFailureForAnother) {
  const model_arch& a = arch_of("Qwen/Qwen3-8B");
  deployment d = on_gpu(22.05, "0.19.0");
  d.max_model_len = 32768;
  const startup_result at90 = sim(a, d);
  ASSERT_FALSE(at90.fits);
  ASSERT_EQ(at90.limit, limiting_factor::kv_cache);
  EXPECT_NE(at90.verdict_advice.find("pass --enforce-eager and raise --gpu-memory-utilization to "),
            std::string::npos)
      << at90.verdict_advice;
  EXPECT_NE(at90.verdict_advice.find("--kv-cache-dtype fp8"), std::string::npos)
      << at90.verdict_advice;
  d.gpu_memory_utilization = 0.95;
  const startup_result at95 = sim(a, d);
  ASSERT_FALSE(at95.fits);
  ASSERT_EQ(at95.limit, limiting_factor::cuda_graphs);
  EXPECT_EQ(at95.verdict_advice.find("lower --gpu-memory-utilization"), std::string::npos)
      << at95.verdict_advice;
  EXPECT_NE(at95.verdict_advice.find("--enforce-eager"), std::string::npos) << at95.verdict_advice;
  d.enforce_eager = true;
  EXPECT_TRUE(sim(a, d).fits);
  d.enforce_eager = false;
  d.gpu_memory_utilization = 0.9;
  d.kv_bits = 8;
  EXPECT_TRUE(sim(a, d).fits);
}

// With pipeline parallelism each stage checks its own KV cache: vLLM's message names the stage
// that fails, with that stage's need and memory (needed > available, never the reverse).
TEST(Verdict, PipelineStageThatFailsSpeaks) {
  const startup_result r = run({{"model_name", "moonshotai/Kimi-K2-Instruct"},
                                {"max_seq_len", 131072},
                                {"gpu", "L4"},
                                {"tensor_parallel_size", 8},
                                {"pipeline_parallel_size", 7},
                                {"vllm_version", "0.19.0"}})
                               .startup;
  ASSERT_FALSE(r.fits);
  ASSERT_EQ(r.limit, limiting_factor::kv_cache);
  const std::string& e = r.error;
  const auto needed_at = e.find("), (");
  const auto avail_at = e.find("available KV cache memory (");
  ASSERT_NE(needed_at, std::string::npos) << e;
  ASSERT_NE(avail_at, std::string::npos) << e;
  const double needed = std::stod(e.substr(needed_at + 4));
  const double available = std::stod(e.substr(avail_at + 27));
  EXPECT_GT(needed, available) << e;
  EXPECT_NE(e.find(" GiB) on pipeline stage "), std::string::npos) << e;
}

// Not a memory limit (max_model_len beyond the model's positions): does_not_fit, no advice.
TEST(Verdict, PositionLimitIsNotAMemoryVerdict) {
  const model_arch& a = arch_of("meta-llama/Llama-2-7b-hf");  // 4096 positions
  deployment d = on_gpu(80.0, "0.19.0");
  d.max_model_len = 8192;
  const startup_result r = sim(a, d);
  EXPECT_EQ(r.limit, limiting_factor::max_position_embeddings);
  EXPECT_EQ(r.verdict, startup_verdict::does_not_fit);
  EXPECT_TRUE(r.verdict_advice.empty());
}

}  // namespace
}  // namespace vllm_mem::testing
