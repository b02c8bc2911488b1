// DeepSeek sparse attention (MLA + indexer): which layers keep an indexer, the bytes per token
// and block, the 64-token blocks, the fp8 layouts per GPU, the indexer's weights and workspace,
// and the config reader. Hand-checked against vLLM's rules (architecture.hpp, startup.cpp).
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/ingest/hf_config.hpp"

namespace vllm_mem::testing {
namespace {

using nlohmann::json;

constexpr const char* kGlm52 = "zai-org/GLM-5.2";
constexpr const char* kDsv32 = "nvidia/DeepSeek-V3.2-NVFP4";

TEST(SparseMla, IndexerLayersFollowFreqAndOffset) {
  // GLM-5.2: index_topk_freq 4, index_skip_topk_offset 3 -> layers 0, 1, 2, then 6, 10, ..., 74.
  const model_arch& g = arch_of(kGlm52);
  ASSERT_TRUE(g.has_indexer());
  EXPECT_EQ(g.num_indexer_layers(0, 78), 21u);
  EXPECT_EQ(g.num_indexer_layers(0, 3), 3u);    // 0, 1, 2
  EXPECT_EQ(g.num_indexer_layers(3, 6), 0u);    // 3, 4, 5 reuse layer 2's top-k
  EXPECT_EQ(g.num_indexer_layers(6, 7), 1u);    // 6
  EXPECT_EQ(g.num_indexer_layers(39, 78), 9u);  // 42, 46, ..., 74
  // DeepSeek-V3.2: vLLM's defaults (freq 1): every one of the 61 layers.
  const model_arch& d = arch_of(kDsv32);
  EXPECT_EQ(d.num_indexer_layers(0, 61), 61u);
  // 128 fp8 bytes + one fp32 scale per 128 values.
  EXPECT_EQ(g.indexer_bytes_per_token(), 132u);
}

json glm_row_2005() {
  // Row 2005's request (set 3): 4 GB200-class GPUs, vLLM 0.26, fp8 KV, 819200 tokens.
  return {{"model_name", "GLM-5.2-NVFP4"},
          {"max_seq_len", 819200},
          {"max_batch_size", 1024},
          {"max_num_batched_tokens", 8192},
          {"gpu_memory_utilization", 0.92},
          {"tensor_parallel_size", 4},
          {"gpu_memory_gib", 184.31},
          {"vllm_version", "0.26.0"},
          {"quantization", "modelopt_fp4 (nvfp4)"},
          {"kv_cache_dtype", "fp8_e4m3"}};
}

TEST(SparseMla, GlmBytesPerTokenAndBlock) {
  const estimate_result r = run(glm_row_2005());
  const startup_result& s = r.startup;
  // The MLA latent (512 + 64) at 1 byte on 78 layers, the indexer's 132 bytes on 21, on every
  // rank (neither is split by tensor parallelism): 44,928 + 2,772 = 47,700 B per token.
  EXPECT_EQ(r.deploy.block_size, 64u);
  EXPECT_EQ(s.kv.bytes_per_token, 78u * 576 + 21u * 132);
  EXPECT_EQ(s.kv.page_bytes, 64u * 576);
  EXPECT_EQ(s.kv.indexer_layers, 21u);
  EXPECT_EQ(s.kv.indexer_page_bytes, 64u * 132);
  EXPECT_EQ(s.kv.groups, 1u);  // one group: the indexer pages share the MLA layers' blocks
  // num_blocks = available // (78 x 36,864 + 21 x 8,448) and the tokens are blocks x 64.
  const std::uint64_t block = 78u * 36864 + 21u * 8448;
  ASSERT_GT(s.kv_cache_bytes, 0);
  EXPECT_EQ(s.num_gpu_blocks, static_cast<std::uint64_t>(s.kv_cache_bytes) / block);
  // The answer lists the indexer beside the MLA group, in no group of its own.
  const json j = to_json(r);
  const json& groups = j["vllm_startup"]["kv_cache_layer_groups"];
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["kind"], "indexer");
  EXPECT_EQ(groups[1]["layers"], 21);
  EXPECT_EQ(groups[1]["bytes_per_token"], 2772);
  EXPECT_EQ(groups[1]["groups"], 0);
  EXPECT_EQ(j["components_bytes"]["kv_cache_per_token"], 47700);
}

TEST(SparseMla, HopperTurnsFp8IntoTheDsMlaLayout) {
  // On an H200 (SM 9.0) FlashMLA's sparse backend stores fp8 as fp8_ds_mla: 656 B per token and
  // layer; on a B200 (SM 10.0) the standard 576. The indexer keeps 132 B either way.
  json h = glm_row_2005();
  h.erase("gpu_memory_gib");
  h["gpu"] = "H200-141GB";
  h["tensor_parallel_size"] = 8;
  const estimate_result hopper = run(h);
  EXPECT_TRUE(hopper.deploy.fp8_ds_mla);
  EXPECT_EQ(hopper.startup.kv.bytes_per_token, 78u * 656 + 21u * 132);
  h["gpu"] = "B200";
  const estimate_result blackwell = run(h);
  EXPECT_FALSE(blackwell.deploy.fp8_ds_mla);
  EXPECT_EQ(blackwell.startup.kv.bytes_per_token, 78u * 576 + 21u * 132);
  // A 16-bit cache: 1,152 B per layer, no layout switch.
  h["kv_cache_dtype"] = "auto";
  h["gpu"] = "H200-141GB";
  const estimate_result bf16 = run(h);
  EXPECT_FALSE(bf16.deploy.fp8_ds_mla);
  EXPECT_EQ(bf16.startup.kv.bytes_per_token, 78u * 1152 + 21u * 132);
}

TEST(SparseMla, IndexerWeightsWorkspaceAndTopkBuffer) {
  const estimate_result with = run(glm_row_2005());
  // The same model with the indexer on 3 layers: freq 78 with offset 3 keeps layers 0 and 1
  // (below offset - 1) and 2 (the first of the stride; the next would be 80).
  json body = glm_row_2005();
  body["architecture"] = {{"index_topk_freq", 78}};
  const estimate_result few = run(body);
  EXPECT_EQ(few.startup.kv.indexer_layers, 3u);
  // Per indexer layer, replicated: wq_b 2048 x (32 x 128) and wk 6144 x 128 in 16 bit (the
  // NVFP4 name leaves MLA attention unquantized), k_norm 2 x 128, weights_proj 6144 x 32.
  const std::uint64_t per_layer = 2 * (2048u * 4096 + 6144u * 128 + 2 * 128 + 6144u * 32);
  EXPECT_EQ(with.startup.weights.attention - few.startup.weights.attention, 18u * per_layer);
  // The topk_indices_buffer: 8192 x 2048 int32 = 64 MiB, with the weights.
  EXPECT_GE(with.startup.weights.buffers, 8192u * 2048 * 4);
  // The indexer's prefill workspace, 40 x 819200 x 132 B = 4.03 GiB, in the profile peak; the
  // variant keeps it (its first layers still have an indexer).
  EXPECT_GE(with.startup.activation_peak_bytes, 40u * 819200 * 132);
}

TEST(SparseMla, NeedsTheV1EngineOf011) {
  json body = glm_row_2005();
  body["vllm_version"] = "0.10.2";
  const error e = run_error(body);
  EXPECT_EQ(e.field, "vllm_version");
  EXPECT_NE(e.message.find("0.11.0"), std::string::npos) << e.message;
}

TEST(SparseMla, ConfigReaderKeepsTheIndexer) {
  // A glm_moe_dsa config.json (GLM-5's fields as the database entry has them).
  const json cfg = {{"architectures", {"GlmMoeDsaForCausalLM"}},
                    {"model_type", "glm_moe_dsa"},
                    {"hidden_size", 6144},
                    {"num_hidden_layers", 78},
                    {"num_attention_heads", 64},
                    {"num_key_value_heads", 64},
                    {"intermediate_size", 12288},
                    {"vocab_size", 154880},
                    {"max_position_embeddings", 202752},
                    {"q_lora_rank", 2048},
                    {"kv_lora_rank", 512},
                    {"qk_nope_head_dim", 192},
                    {"qk_rope_head_dim", 64},
                    {"v_head_dim", 256},
                    {"n_routed_experts", 256},
                    {"n_shared_experts", 1},
                    {"num_experts_per_tok", 8},
                    {"moe_intermediate_size", 2048},
                    {"first_k_dense_replace", 3},
                    {"index_head_dim", 128},
                    {"index_n_heads", 32},
                    {"index_topk", 2048},
                    {"tie_word_embeddings", false},
                    {"torch_dtype", "bfloat16"}};
  const estimate_result r = run({{"model_name", "zai-org/GLM-5"},
                                 {"max_seq_len", 8192},
                                 {"hf_config", cfg},
                                 {"gpu", "B200"},
                                 {"tensor_parallel_size", 8},
                                 {"kv_cache_dtype", "fp8"}});
  EXPECT_TRUE(r.model.arch.has_indexer());
  EXPECT_EQ(r.model.arch.num_indexer_layers(0, 78), 78u);  // no freq: every layer
  EXPECT_EQ(r.startup.kv.bytes_per_token, 78u * (576 + 132));
  // An explicit per-layer pattern is named, not guessed.
  json pattern = cfg;
  pattern["index_topk_pattern"] = "FFFSSS";
  const error e =
      run_error({{"model_name", "zai-org/GLM-5"}, {"max_seq_len", 8192}, {"hf_config", pattern}});
  EXPECT_NE(e.field.find("index_topk_pattern"), std::string::npos) << e.field << " " << e.message;
}

}  // namespace
}  // namespace vllm_mem::testing
