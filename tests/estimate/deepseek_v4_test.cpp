// deepseek_v4_test.cpp — DeepSeek-V4's compressed attention (model/layers.hpp
// compressed_attention), checked against numbers worked out by hand from
// deepseek-ai/DeepSeek-V4-Flash's config.json (hidden 4096, 64 heads of 512, one KV head,
// q_lora_rank 1024, window 128, index 64 x 128, compress ratios 1 x 2, then 4 and 128 in turn:
// 21 layers of ratio 4, 20 of ratio 128) and vLLM's layer classes:
//  * weights of one layer's extra modules, bf16 unless fp8 blocks (1 B + an fp32 scale per
//    128 x 128): the ratio-128 compressor = ape 128 x 512 x 4 B (262,144) + fused_wkv_wgate
//    4096 x 1024 x 2 B (8,388,608) + norm 512 x 2 B = 8,651,776 B; the ratio-4 compressor = ape
//    4 x 1024 x 4 B (16,384) + 4096 x 2048 x 2 B (16,777,216) + 1024 = 16,794,624 B; the indexer
//    = wq_b fp8 1024 x 8192 (8,388,608 + 512 scales x 4 B) + weights_proj 4096 x 64 x 2 B
//    (524,288) + k_norm 2 x 128 x 2 B (512) + its compressor (ape 4 x 256 x 4 B + 4096 x 512 x
//    2 B + 256) 4,198,656 = 13,114,112 B.
//  * caches at block 256, fp8_ds_mla (584 B per stored token, pages padded to 576 B): ratio 4
//    64 entries -> 37,440 B; ratio 128 2 entries -> 1,728; indexer 64 x 132 -> 8,640; the window
//    64 tokens x 584 -> 37,440; compressor states 4 x 2048 x 4 B and 8 x 1024 x 4 B -> 32,832,
//    the indexer's 4 x 512 x 4 B -> 8,640. At M = 4096 a request holds (127 + 4096) / 64 -> 67
//    window pages per layer, (7 + 4096) / 4 -> 1027 and (127 + 4096) / 8 -> 529 state pages.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/model/weights.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

json flash(std::uint64_t len) {
  return {{"model_name", "deepseek-ai/DeepSeek-V4-Flash"},
          {"max_seq_len", len},
          {"max_batch_size", 64},
          {"max_num_batched_tokens", 4096},
          {"gpu_memory_utilization", 0.95},
          {"tensor_parallel_size", 2},
          {"gpu_memory_gib", 95.01},
          {"vllm_version", "0.25.0"},
          {"kv_cache_dtype", "fp8"}};
}

std::uint64_t attention_with_first_layer(std::uint8_t ratio) {
  model_arch a = arch_of("deepseek-ai/DeepSeek-V4-Flash");
  a.compressed.ratio.assign(a.num_layers, 1);
  a.compressed.ratio[0] = ratio;
  weight_options o;
  o.quant = a.quantization;
  o.shard.tp = 2;
  auto w = weights_per_rank(a, o);
  EXPECT_TRUE(w.ok());
  return w.ok() ? w->attention : 0;
}

TEST(DeepseekV4, CompressorsAndIndexerWeighWhatTheirModulesHold) {
  const std::uint64_t window_only = attention_with_first_layer(1);
  EXPECT_EQ(attention_with_first_layer(128) - window_only, 8651776u);
  EXPECT_EQ(attention_with_first_layer(4) - window_only, 16794624u + 13114112u);
}

TEST(DeepseekV4, SevenCachesWithTheirPagesAndWindows) {
  const estimate_result e = run(flash(1048576));
  ASSERT_TRUE(e.startup.error.empty()) << e.startup.error;
  EXPECT_EQ(e.deploy.block_size, 256u);
  const auto& g = e.startup.kv.group_list;
  ASSERT_EQ(g.size(), 7u);
  struct want {
    layer_group_kind kind;
    std::uint64_t layers, page, block, ratio;
  };
  const want w[] = {{layer_group_kind::compressed_attention, 21, 37440, 256, 4},
                    {layer_group_kind::compressed_attention, 20, 1728, 256, 128},
                    {layer_group_kind::indexer, 21, 8640, 256, 4},
                    {layer_group_kind::sliding_window, 43, 37440, 64, 1},
                    {layer_group_kind::compressor_state, 21, 32832, 4, 4},
                    {layer_group_kind::compressor_state, 20, 32832, 8, 128},
                    {layer_group_kind::compressor_state, 21, 8640, 4, 4}};
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(g[i].kind, w[i].kind) << i;
    EXPECT_EQ(g[i].layers, w[i].layers) << i;
    EXPECT_EQ(g[i].page_bytes, w[i].page) << i;
    EXPECT_EQ(g[i].block_size, w[i].block) << i;
    EXPECT_EQ(g[i].compress_ratio, w[i].ratio) << i;
  }
  EXPECT_EQ(g[0].bytes_per_token, 21u * 37440u / 256u);
  EXPECT_EQ(g[3].bytes_per_sequence, 43u * 37440u * 67u);
  EXPECT_EQ(g[4].bytes_per_sequence, 21u * 32832u * 1027u);
  EXPECT_EQ(g[5].bytes_per_sequence, 20u * 32832u * 529u);
  // Concurrency: blocks of one page of every cache (4,139,712 B) over one request's bytes
  // (4096 x 1,002,240 for the whole length + 1,349,653,824 windowed) = 1318 blocks.
  const std::uint64_t block =
      21 * 37440 + 20 * 1728 + 21 * 8640 + 43 * 37440 + 21 * 32832 + 20 * 32832 + 21 * 8640;
  EXPECT_EQ(block, 4139712u);
  EXPECT_EQ(e.startup.num_gpu_blocks, static_cast<std::uint64_t>(e.startup.kv_cache_bytes) / block);
  EXPECT_NEAR(e.startup.max_concurrency, static_cast<double>(e.startup.num_gpu_blocks) / 1318.0,
              1e-9);
}

TEST(DeepseekV4, TheWindowedCachesMakeShortContextsDear) {
  // The fixed per-request caches do not shrink with the length: at 8192 tokens a request needs
  // 32 x 1,002,240 + 1,349,653,824 bytes, so the bytes per token of context are far above the
  // long-context figure (vLLM #51041: 4.05 to 92.62 KiB per token with max_model_len).
  const estimate_result shortctx = run(flash(8192));
  const estimate_result longctx = run(flash(1048576));
  const double short_per_token = static_cast<double>(shortctx.startup.kv_cache_bytes) /
                                 static_cast<double>(shortctx.startup.kv_cache_tokens);
  const double long_per_token = static_cast<double>(longctx.startup.kv_cache_bytes) /
                                static_cast<double>(longctx.startup.kv_cache_tokens);
  EXPECT_GT(short_per_token, 3.0 * long_per_token);
  EXPECT_NEAR(shortctx.startup.max_concurrency * 8192.0,
              static_cast<double>(shortctx.startup.kv_cache_tokens), 1.0);
}

TEST(DeepseekV4, ItsConfigJsonReadsAsTheDatabaseEntry) {
  // deepseek-ai/DeepSeek-V4-Flash's config.json, as the database entry's source gives it.
  json ratios = json::array({0, 0});
  for (int i = 0; i < 20; ++i) {
    ratios.push_back(4);
    ratios.push_back(128);
  }
  ratios.push_back(4);
  ratios.push_back(0);
  const json cfg = {{"architectures", {"DeepseekV4ForCausalLM"}},
                    {"model_type", "deepseek_v4"},
                    {"compress_ratios", ratios},
                    {"expert_dtype", "fp4"},
                    {"hc_mult", 4},
                    {"head_dim", 512},
                    {"hidden_act", "silu"},
                    {"hidden_size", 4096},
                    {"index_head_dim", 128},
                    {"index_n_heads", 64},
                    {"index_topk", 512},
                    {"max_position_embeddings", 1048576},
                    {"moe_intermediate_size", 2048},
                    {"n_routed_experts", 256},
                    {"n_shared_experts", 1},
                    {"num_attention_heads", 64},
                    {"num_experts_per_tok", 6},
                    {"num_hash_layers", 3},
                    {"num_hidden_layers", 43},
                    {"num_key_value_heads", 1},
                    {"num_nextn_predict_layers", 1},
                    {"o_groups", 8},
                    {"o_lora_rank", 1024},
                    {"q_lora_rank", 1024},
                    {"qk_rope_head_dim", 64},
                    {"rope_scaling",
                     {{"beta_fast", 32},
                      {"beta_slow", 1},
                      {"factor", 16},
                      {"original_max_position_embeddings", 65536},
                      {"type", "yarn"}}},
                    {"rope_theta", 10000},
                    {"sliding_window", 128},
                    {"tie_word_embeddings", false},
                    {"torch_dtype", "bfloat16"},
                    {"vocab_size", 129280},
                    {"quantization_config",
                     {{"activation_scheme", "dynamic"},
                      {"fmt", "e4m3"},
                      {"quant_method", "fp8"},
                      {"scale_fmt", "ue8m0"},
                      {"weight_block_size", {128, 128}}}}};
  json from_config = flash(65536);
  from_config["model_name"] = "example/dsv4-from-config";
  from_config["hf_config"] = cfg;
  const estimate_result db = run(flash(65536));
  const estimate_result read = run(from_config);
  EXPECT_EQ(read.startup.weights.total(), db.startup.weights.total());
  EXPECT_EQ(read.startup.kv_cache_bytes, db.startup.kv_cache_bytes);
  EXPECT_EQ(read.startup.num_gpu_blocks, db.startup.num_gpu_blocks);
  EXPECT_EQ(read.startup.kv.group_list.size(), 7u);
}

TEST(DeepseekV4, RefusesWhatItsKernelsRefuse) {
  json b = flash(65536);
  b["block_size"] = 64;
  const error e = run_error(b);
  EXPECT_EQ(e.field, "block_size");
  EXPECT_NE(e.message.find("multiple of 128"), std::string::npos) << e.message;
  json old = flash(65536);
  old["vllm_version"] = "0.19.0";
  EXPECT_EQ(run_error(old).field, "vllm_version");
  json arch = {{"model_type", "deepseek_v4"}, {"num_layers", 2},
               {"hidden_size", 4096},         {"num_heads", 64},
               {"num_kv_heads", 1},           {"head_dim", 512},
               {"intermediate_size", 2048},   {"vocab_size", 129280}};
  arch["compressed_attention"] = {
      {"compress_ratios", {0, 8}}, {"window", 128}, {"q_lora_rank", 1024}, {"qk_rope_head_dim", 64},
      {"o_lora_rank", 1024},       {"o_groups", 8}, {"index_n_heads", 64}, {"index_head_dim", 128},
      {"index_topk", 512},         {"hc_mult", 4},  {"num_hash_layers", 0}};
  const error bad_ratio =
      run_error({{"model_name", "example/v4-like"}, {"architecture", arch}, {"max_seq_len", 4096}});
  EXPECT_EQ(bad_ratio.field, "architecture.compressed_attention.compress_ratios");
}

}  // namespace
}  // namespace vllm_mem::testing
