// speculative_test.cpp — `speculative_config` (vLLM's --speculative-config), checked against
// numbers worked out by hand from the configs and vLLM's rules (vllm/speculative.hpp):
//  * nvidia/Qwen3.6-35B-A3B-NVFP4 with MTP, k = 2 (dev set 3's DGX Spark row): H = 2048, one MTP
//    layer of full attention (q 2048 -> 16 x 256 x 2 with the output gate, k and v 2048 -> 512,
//    o 4096 -> 2048: 27,262,976 weights), 256 experts of 3 x 2048 x 512 (805,306,368), the shared
//    expert (3,145,728), the router (524,288), fc 2H -> H (8,388,608) and norms (2H + 2 x 256 +
//    H + 2H = 10,752), all in bf16 because the checkpoint ignores `mtp*`: 844,638,720 weights =
//    1,689,277,440 bytes = 1.573 GiB. Gated DeltaNet state per layer with k = 2: conv
//    (4 - 1 + 2) x 8192 x 2 B = 81,920 + SSM 32 x 128 x 128 x 4 B = 2,097,152 = 2,179,072 B;
//    attention 2 x 2 x 256 x 1 B (fp8) = 1024 B per token: block 16 x ceil(2,179,072 / 16,384) =
//    2128 (vLLM logs 2128 for that startup; 2096 without speculation).
//  * meta-llama/Llama-3.1-8B-Instruct with ngram: no weights, the capture limit at max_num_seqs 16
//    grows from min(2 x 16, 512) = 32 (7 sizes) to min(2 x 16 x 5, 512) = 160 (23 sizes).
#include <gtest/gtest.h>

#include <cmath>

#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

json qwen36(const json& spec) {
  json b = {{"model_name", "nvidia/Qwen3.6-35B-A3B-NVFP4"},
            {"max_seq_len", 262144},
            {"max_batch_size", 5},
            {"max_num_batched_tokens", 8192},
            {"gpu_memory_utilization", 0.85},
            {"gpu_memory_gib", 119.63},
            {"vllm_version", "0.22.1"},
            {"kv_cache_dtype", "fp8"}};
  if (!spec.is_null()) b["speculative_config"] = spec;
  return b;
}

TEST(Speculative, MtpLoadsTheCheckpointsOwnLayerInSixteenBit) {
  const estimate_result alone = run(qwen36(nullptr));
  const estimate_result mtp = run(qwen36({{"method", "mtp"}, {"num_speculative_tokens", 2}}));
  EXPECT_EQ(alone.startup.weights.draft, 0u);
  // 1,689,277,440 bytes by hand (the file's header); within 8 KiB for the small gates.
  EXPECT_NEAR(static_cast<double>(mtp.startup.weights.draft), 1689277440.0, 8192.0);
  EXPECT_EQ(mtp.startup.weights.total() - alone.startup.weights.total(), mtp.startup.weights.draft);
  EXPECT_EQ(mtp.deploy.spec.num_speculative_tokens, 2u);
  // Without the count the method's default is the checkpoint's one module.
  const estimate_result dflt = run(qwen36({{"method", "mtp"}}));
  EXPECT_EQ(dflt.deploy.spec.num_speculative_tokens, 1u);
}

TEST(Speculative, MtpAttentionJoinsTheFullGroupAndStatesGrow) {
  const estimate_result alone = run(qwen36(nullptr));
  const estimate_result mtp = run(qwen36({{"method", "mtp"}, {"num_speculative_tokens", 2}}));
  EXPECT_EQ(alone.deploy.block_size, 2096u);
  EXPECT_EQ(mtp.deploy.block_size, 2128u);  // the block vLLM logged
  ASSERT_EQ(mtp.startup.kv.group_list.size(), 2u);
  const layer_group_info& full = mtp.startup.kv.group_list[0];
  const layer_group_info& state = mtp.startup.kv.group_list[1];
  EXPECT_EQ(full.layers, 11u);  // 10 of the model + the MTP layer
  EXPECT_EQ(full.bytes_per_token, 11u * 1024u);
  EXPECT_EQ(state.layers, 30u);
  EXPECT_EQ(state.groups, 3u);  // groups of 11: 33 slots for 30 layers
  EXPECT_EQ(state.state_bytes_per_layer, 2179072u);
  // Align mode (2 pages) + k = 2 speculative blocks per request and state layer.
  EXPECT_EQ(state.bytes_per_sequence, 30u * 2179072u * 4u);
  // Concurrency: blocks / (ceil(262144 / 2128) = 124 attention blocks + 3 groups x 4 pages).
  EXPECT_NEAR(mtp.startup.max_concurrency, static_cast<double>(mtp.startup.num_gpu_blocks) / 136.0,
              0.01);
  // Decode queries of 3 tokens: capture up to min(2 x 5 x 3, 512) = 30: 1, 2, 4, 8, 16, 24.
  EXPECT_EQ(mtp.startup.cuda_graphs % 6, 0u);
  EXPECT_EQ(mtp.startup.cuda_graphs / 6, alone.startup.cuda_graphs / 4);
}

json llama(const json& spec) {
  json b = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
            {"max_seq_len", 8192},
            {"max_batch_size", 16},
            {"gpu", "H100-80GB"},
            {"vllm_version", "0.19.0"}};
  if (!spec.is_null()) b["speculative_config"] = spec;
  return b;
}

TEST(Speculative, NgramAddsNoWeightsButLongerDecodeGraphs) {
  const estimate_result alone = run(llama(nullptr));
  const estimate_result ngram = run(llama({{"method", "ngram"}, {"num_speculative_tokens", 4}}));
  EXPECT_EQ(ngram.startup.weights.total(), alone.startup.weights.total());
  EXPECT_EQ(ngram.startup.kv.bytes_per_token, alone.startup.kv.bytes_per_token);
  ASSERT_GT(alone.startup.cuda_graphs, 0u);
  EXPECT_EQ(alone.startup.cuda_graphs % 7, 0u);
  EXPECT_EQ(ngram.startup.cuda_graphs, alone.startup.cuda_graphs / 7 * 23);
  // The flag's JSON text is read as well, and suffix decoding defaults to 24 tokens.
  EXPECT_EQ(run(llama(R"({"method": "suffix"})")).deploy.spec.num_speculative_tokens, 24u);
  // vllm_args carries the flag back.
  EXPECT_NE(ngram.vllm_args.find(
                R"(--speculative-config '{"method": "ngram", "num_speculative_tokens": 4}')"),
            std::string::npos)
      << ngram.vllm_args;
}

TEST(Speculative, DeepSeekMtpIsOneMoreMlaLayerInTheCache) {
  json b = {{"model_name", "deepseek-ai/DeepSeek-V3"},
            {"max_seq_len", 16384},
            {"gpu", "H200-141GB"},
            {"tensor_parallel_size", 8},
            {"vllm_version", "0.19.0"}};
  const estimate_result alone = run(b);
  b["speculative_config"] = {{"method", "deepseek_mtp"}};  // vLLM's deprecated name for mtp
  const estimate_result mtp = run(b);
  // 61 MLA layers of 576 bf16 values per token, then 62.
  EXPECT_EQ(alone.startup.kv.bytes_per_token, 61u * 576u * 2u);
  EXPECT_EQ(mtp.startup.kv.bytes_per_token, 62u * 576u * 2u);
  // The MTP layer's eh_proj alone is 2 x 7168 x 7168 bf16 weights, replicated on every rank.
  EXPECT_GT(mtp.startup.weights.draft, 2u * 7168u * 7168u * 2u);
  EXPECT_EQ(mtp.deploy.spec.num_speculative_tokens, 1u);
}

TEST(Speculative, RefusedWhereVllmRefusesOrWhereItIsNotModelled) {
  struct bad_case {
    json body;
    const char* field;
    const char* says;
  };
  const bad_case cases[] = {
      {llama({{"method", "mtp"}}), "speculative_config.method", "has none"},
      {llama({{"method", "ngram"}}), "speculative_config.num_speculative_tokens", "required"},
      {llama({{"method", "eagle3"}, {"model", "some/eagle3-head"}}), "speculative_config.method",
       "not modelled yet"},
      {llama({{"model", "meta-llama/Llama-3.2-1B"}, {"num_speculative_tokens", 5}}),
       "speculative_config.model", "draft model"},
      {llama({{"method", "ngram"}, {"num_speculative_tokens", 0}}),
       "speculative_config.num_speculative_tokens", "positive"},
      {llama({{"method", "ngram"}, {"num_speculative_tokens", 4}, {"tensor_parallel_size", 2}}),
       "speculative_config.tensor_parallel_size", "not a modelled"},
      {llama("{not json"), "speculative_config", "not valid JSON"},
  };
  for (const auto& c : cases) {
    const error e = run_error(c.body);
    EXPECT_EQ(e.field, c.field) << c.body.dump() << " " << e.message;
    EXPECT_NE(e.message.find(c.says), std::string::npos) << e.message;
  }
  json v0 = llama({{"method", "ngram"}, {"num_speculative_tokens", 4}});
  v0["vllm_version"] = "0.6.6";
  EXPECT_NE(run_error(v0).message.find("V1 engine"), std::string::npos);
  json tp = llama({{"method", "ngram"}, {"num_speculative_tokens", 4}});
  tp["tensor_parallel_size"] = 2;
  tp["speculative_config"]["draft_tensor_parallel_size"] = 1;
  EXPECT_EQ(run_error(tp).field, "speculative_config.draft_tensor_parallel_size");
}

TEST(Speculative, TheApiAnswersWithTheDraftersFigures) {
  const http::response ok = api_post(
      "/estimate-gpu-memory", qwen36({{"method", "mtp"}, {"num_speculative_tokens", 2}}).dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  const json s = json::parse(ok.body)["vllm_startup"];
  EXPECT_NEAR(s["draft_weights_gib"].get<double>(), 1.57, 1e-9);
  EXPECT_EQ(s["speculative_method"], "mtp");
  EXPECT_EQ(s["num_speculative_tokens"], 2);
  EXPECT_EQ(s["block_size"], 2128);
  const json bare = json::parse(api_post("/estimate-gpu-memory", qwen36(nullptr).dump()).body);
  EXPECT_FALSE(bare["vllm_startup"].contains("draft_weights_gib"));
  const cli_result cli = run_cli(
      "estimate --model nvidia/Qwen3.6-35B-A3B-NVFP4 --max-seq-len 262144 --gpu-memory-gib "
      "119.63 --vllm-version 0.22.1 --kv-cache-dtype fp8 --speculative-config "
      "'{\"method\": \"mtp\", \"num_speculative_tokens\": 2}'");
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_NE(cli.out.find("of which the drafter"), std::string::npos) << cli.out;
}

}  // namespace
}  // namespace vllm_mem::testing
