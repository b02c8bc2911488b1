// Gemma 4: full and sliding layers of different KV shapes (pages unified by enlarging the smaller
// page's block), the KV-shared last layers, the per-layer input embeddings. Hand-checked against
// vLLM's rules (kv_cache_utils.py unify_kv_cache_spec_page_size and the uniform-page grouping,
// GPUModelRunner.get_kv_cache_spec's skip of KV-sharing layers, gemma4.py's modules).
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/api/estimate_json.hpp"

namespace vllm_mem::testing {
namespace {

using nlohmann::json;

TEST(Gemma4, TwoKvShapesShareOnePageSize) {
  // 26B-A4B on an H100 at 0.28, 32768 tokens, 8192 batched (the >= 70 GiB default).
  const estimate_result r = run({{"model_name", "google/gemma-4-26B-A4B"},
                                 {"max_seq_len", 32768},
                                 {"gpu", "H100-80GB"},
                                 {"vllm_version", "0.28.0"}});
  const startup_result& s = r.startup;
  // Sliding: 8 KV heads x 256 x (K, V) x 2 B = 8192 B per token and layer, 131072 B per 16-token
  // page; full: 2 KV heads x 512 x 2 x 2 = 4096 B, so its block doubles to 32 tokens.
  ASSERT_EQ(s.kv.group_list.size(), 2u);
  const layer_group_info& full = s.kv.group_list[0];
  const layer_group_info& sliding = s.kv.group_list[1];
  EXPECT_EQ(full.layers, 5u);
  EXPECT_EQ(full.block_size, 32u);
  EXPECT_EQ(full.bytes_per_token, 5u * 4096);
  EXPECT_EQ(sliding.layers, 25u);
  EXPECT_EQ(sliding.block_size, 16u);
  EXPECT_EQ(sliding.bytes_per_token, 25u * 8192);
  EXPECT_EQ(full.page_bytes, 131072u);
  EXPECT_EQ(sliding.page_bytes, 131072u);
  // Groups of min(5, 25) = 5 layers: 1 full and 5 sliding; a block index spans 5 pages.
  EXPECT_EQ(full.groups, 1u);
  EXPECT_EQ(sliding.groups, 5u);
  EXPECT_EQ(s.num_gpu_blocks, static_cast<std::uint64_t>(s.kv_cache_bytes) / (5 * 131072));
  // A request: ceil(32768 / 32) = 1024 full blocks, and per sliding group
  // ceil(min(1023 + 8192, 32768) / 16) + 1 = 577 blocks: 1024 + 5 x 577 = 3909.
  EXPECT_NEAR(s.max_concurrency, static_cast<double>(s.num_gpu_blocks) / 3909.0, 0.005);
  EXPECT_EQ(s.kv.bytes_per_token, 5u * 4096 + 25u * 8192);
}

json e4b_row_2013() {
  // Row 2013's request (set 3): an L4 printing 22.04 GiB, vLLM 0.28, utilization 0.62.
  return {{"model_name", "google/gemma-4-E4B-it-qat-w4a16-ct"},
          {"max_seq_len", 32768},
          {"max_batch_size", 256},
          {"max_num_batched_tokens", 2048},
          {"gpu_memory_utilization", 0.62},
          {"gpu_memory_gib", 22.04},
          {"vllm_version", "0.28.0"}};
}

TEST(Gemma4, SharedKvLayersHoldNoCache) {
  const estimate_result r = run(e4b_row_2013());
  const startup_result& s = r.startup;
  // 42 layers, the last 18 reuse layers 22 and 23: 24 hold a cache, 20 sliding (2 KV heads of
  // 256: 2048 B per token) and 4 full (2 of 512: 4096 B), the sliding block enlarged to 32.
  ASSERT_EQ(s.kv.group_list.size(), 2u);
  EXPECT_EQ(s.kv.group_list[0].layers, 4u);
  EXPECT_EQ(s.kv.group_list[1].layers, 20u);
  EXPECT_EQ(s.kv.group_list[1].block_size, 32u);
  EXPECT_EQ(s.kv.bytes_per_token, 4u * 4096 + 20u * 2048);
  // 6 groups of 4 layers of 65,536-byte pages: 262,144 bytes per block index.
  EXPECT_EQ(s.kv.groups, 6u);
  EXPECT_EQ(s.num_gpu_blocks, static_cast<std::uint64_t>(s.kv_cache_bytes) / 262144);
  // Per request: ceil(32768 / 16) + 5 x (ceil(min(511 + 2048, 32768) / 32) + 1) = 2048 + 405.
  EXPECT_NEAR(s.max_concurrency, static_cast<double>(s.num_gpu_blocks) / 2453.0, 0.005);
}

TEST(Gemma4, PerLayerEmbeddingsAndTheirBuffer) {
  const estimate_result r = run(e4b_row_2013());
  const weight_bytes& w = r.startup.weights;
  // embed_tokens 262144 x 2560 and embed_tokens_per_layer 262144 x (42 x 256) in 16 bit, plus
  // per_layer_model_projection (2560 -> 10752 at W4A16 in groups of 32: 0.5 B per weight and a
  // 16-bit scale per 32) and its norm of 256.
  const std::uint64_t tables = 2ULL * 262144 * 2560 + 2ULL * 262144 * 10752;
  const std::uint64_t projection = 2560ULL * 10752 / 2 + 2ULL * 10752 * (2560 / 32);
  EXPECT_GE(w.embedding, tables + projection);
  EXPECT_LE(w.embedding, tables + projection + 4096);
  // Gemma4ForConditionalGeneration's per_layer_embeddings buffer: 2048 x 42 x 256 x 2 B.
  EXPECT_GE(w.buffers, 2048u * 42 * 256 * 2);
  // Logged "Model loading took" 9.81 GiB (per-layer tables in 16 bit); the model is within 3 %.
  EXPECT_NEAR(static_cast<double>(w.total()) / kGiB, 9.81, 0.3);
}

TEST(Gemma4, TwoShapesNeedTheHybridManager) {
  json body = e4b_row_2013();
  body["vllm_version"] = "0.9.2";  // V1 before its hybrid manager (0.10)
  const error e = run_error(body);
  EXPECT_EQ(e.field, "vllm_version");
  EXPECT_NE(e.message.find("hybrid KV cache manager"), std::string::npos) << e.message;
}

TEST(Gemma4, ConfigReaderKeepsBothShapes) {
  json text = {{"model_type", "gemma4_text"},
               {"hidden_size", 2560},
               {"num_hidden_layers", 42},
               {"num_attention_heads", 8},
               {"num_key_value_heads", 2},
               {"head_dim", 256},
               {"global_head_dim", 512},
               {"intermediate_size", 10240},
               {"vocab_size", 262144},
               {"hidden_size_per_layer_input", 256},
               {"sliding_window", 512},
               {"num_kv_shared_layers", 18},
               {"max_position_embeddings", 131072},
               {"attention_k_eq_v", false},
               {"use_double_wide_mlp", false}};
  json types = json::array();
  for (int i = 0; i < 42; ++i) types.push_back(i % 6 == 5 ? "full_attention" : "sliding_attention");
  text["layer_types"] = types;
  const json cfg = {{"architectures", {"Gemma4ForConditionalGeneration"}},
                    {"model_type", "gemma4"},
                    {"torch_dtype", "bfloat16"},
                    {"text_config", text}};
  const estimate_result r = run({{"model_name", "local/gemma4-e4b"},
                                 {"max_seq_len", 32768},
                                 {"hf_config", cfg},
                                 {"gpu", "L4"},
                                 {"vllm_version", "0.28.0"}});
  EXPECT_EQ(r.model.arch.full_head_dim(), 512u);
  EXPECT_EQ(r.model.arch.num_kv_shared_layers, 18u);
  EXPECT_EQ(r.startup.kv.bytes_per_token, 4u * 4096 + 20u * 2048);
  // E2B's wider MLP in the shared layers is named, not guessed.
  json wide = cfg;
  wide["text_config"]["use_double_wide_mlp"] = true;
  const error e =
      run_error({{"model_name", "local/gemma4-e2b"}, {"max_seq_len", 2048}, {"hf_config", wide}});
  EXPECT_NE(e.field.find("use_double_wide_mlp"), std::string::npos) << e.field << " " << e.message;
}

TEST(Gemma4, LayerShapeFieldsOutsideTheirModelAreRefused) {
  // A global head size needs sliding layers beside the full ones; KV sharing is modelled for
  // plain attention (not beside MLA or state layers).
  const error g = run_error({{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
                             {"max_seq_len", 2048},
                             {"architecture", {{"global_head_dim", 256}}}});
  EXPECT_EQ(g.field, "architecture.global_head_dim") << g.message;
  const error k = run_error({{"model_name", "deepseek-ai/DeepSeek-V2-Lite"},
                             {"max_seq_len", 2048},
                             {"architecture", {{"num_kv_shared_layers", 4}}}});
  EXPECT_EQ(k.field, "architecture.num_kv_shared_layers") << k.message;
  const error n = run_error({{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
                             {"max_seq_len", 2048},
                             {"architecture", {{"num_kv_shared_layers", 32}}}});
  EXPECT_EQ(n.field, "architecture.num_kv_shared_layers") << n.message;
}

}  // namespace
}  // namespace vllm_mem::testing
