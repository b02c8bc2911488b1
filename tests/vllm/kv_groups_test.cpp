// kv_groups_test.cpp — hybrid models with hand-checked numbers: state shapes per layer kind and
// TP rank (vLLM's MambaStateShapeCalculator), the enlarged attention block (544 for Qwen3-Next
// at tp 2), the padded state page, the groups and the concurrency that follow from them, and a
// hybrid's context against a dense model of about equal weights.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/vllm/kv_groups.hpp"
#include "vllm_mem/vllm/startup.hpp"

namespace vllm_mem::testing {
namespace {

constexpr const char* kQwen3Next = "Qwen/Qwen3-Next-80B-A3B-Instruct";

vllm_profile profile(const char* version, std::optional<engine_kind> engine = std::nullopt) {
  auto v = parse_vllm_version(version, "vllm_version");
  EXPECT_TRUE(v.ok());
  auto p = make_profile(*v, engine.value_or(default_engine(*v)));
  EXPECT_TRUE(p.ok());
  return *p;
}

// Row 1004's deployment: 2x H200 (139.81 GiB), vLLM 0.10.2, 262144 tokens, 8192 batched.
deployment row_1004() {
  deployment d;
  d.gpu_total_bytes = static_cast<std::uint64_t>(139.81 * kGiB);
  d.gpu_memory_utilization = 0.9;
  d.profile = profile("0.10.2");
  d.tp = 2;
  d.max_model_len = 262144;
  d.max_num_seqs = 1024;
  d.max_num_batched_tokens = 8192;
  d.block_size = 16;
  return d;
}

TEST(StateLayers, GatedDeltaNetShapesPerRank) {
  const model_arch& a = arch_of(kQwen3Next);
  ASSERT_EQ(a.linear.kind, state_layer_kind::gated_delta_net);
  // 48 layers, every 4th full attention: 12 full, 36 gated DeltaNet.
  EXPECT_EQ(a.num_attention_layers(0, 48), 12u);
  EXPECT_EQ(a.linear.num_state_layers(0, 48), 36u);
  // conv: (K - 1) x (2 * 128 * 16 + 128 * 32) = 3 x 8192; ssm: (32, 128, 128).
  const state_shape tp1 = state_shape_per_rank(a.linear, 1);
  EXPECT_EQ(tp1.conv_elements, 3u * 8192);
  EXPECT_EQ(tp1.ssm_elements, 32u * 128 * 128);
  // bf16: 49,152 + 1,048,576 = 1,097,728 B per layer per sequence.
  EXPECT_EQ(state_bytes_per_rank(a.linear, 1, 16).total(), 1097728u);
  // tp 2: conv 3 x 4096, ssm (16, 128, 128): 24,576 + 524,288 = 548,864 B.
  const state_bytes tp2 = state_bytes_per_rank(a.linear, 2, 16);
  EXPECT_EQ(tp2.conv, 24576u);
  EXPECT_EQ(tp2.ssm, 524288u);
  // A speculative token widens the conv window by one (K - 1 + num_spec).
  EXPECT_EQ(state_shape_per_rank(a.linear, 2, 1).conv_elements, 4u * 4096);
  // An fp32 SSM state (Qwen3.5's mamba_ssm_dtype) doubles the ssm part only.
  state_layers f32 = a.linear;
  f32.ssm_dtype = dtype::float32;
  EXPECT_EQ(state_bytes_per_rank(f32, 2, 16).total(), 24576u + 1048576u);
}

TEST(StateLayers, Mamba2ShapesPadGroupsToTheHeadShards) {
  // A Mamba2 mixer: 128 heads of 64 (intermediate 8192), state 128, 1 group, kernel 4.
  state_layers m;
  m.kind = state_layer_kind::mamba2;
  m.num_heads = 128;
  m.head_dim = 64;
  m.state_size = 128;
  m.n_groups = 1;
  m.intermediate_size = 8192;
  m.conv_kernel = 4;
  m.full_attention_interval = 4;
  // tp 1: conv 3 x (8192 + 2 * 1 * 128) = 3 x 8448; ssm 128 x 64 x 128.
  EXPECT_EQ(state_shape_per_rank(m, 1).conv_elements, 3u * 8448);
  EXPECT_EQ(state_shape_per_rank(m, 1).ssm_elements, 128u * 64 * 128);
  // tp 4: the one group is replicated to 4 (extra_groups_for_head_shards = 3):
  // conv 3 x (8192 + 2 * 4 * 128) / 4 = 3 x 2304; ssm 32 x 64 x 128.
  EXPECT_EQ(state_shape_per_rank(m, 4).conv_elements, 3u * 2304);
  EXPECT_EQ(state_shape_per_rank(m, 4).ssm_elements, 32u * 64 * 128);
  // bf16 at tp 4: 13,824 + 524,288 = 538,112 B per layer per sequence.
  EXPECT_EQ(state_bytes_per_rank(m, 4, 16).total(), 538112u);
}

TEST(StateLayers, Qwen3NextWeightsPerRankByHand) {
  // tp 2, bf16, per rank: embedding and LM head 75,968 x 2,048 x 2 B = 311,164,928 each;
  // 12 attention layers x (2,048 x (2 x 8 + 2) x 256 [q with its gate, k, v] + 2,048 x 2,048) x 2
  // = 327,155,712; 36 gated DeltaNet layers x (2,048 x 6,144 [qkvz] + 2,048 x 32 [ba] + 4,096 x
  // 4 [conv] + 32 [dt_bias, A_log] + 2,048 x 2,048 [out]) x 2 = 1,213,860,096; 48 MoE layers x
  // (512 experts x 3 x 2,048 x 256 + shared 3 x 2,048 x 256 + 2,048 [its gate] + 2,048 x 512
  // [router]) x 2 = 77,561,266,176; norms 418,816; rotary cache 262,144 x 64 x 2 = 33,554,432.
  // Sum 79,758,585,088 B = 74.2810 GiB (row 1004 logs 74.2812 GiB).
  const model_arch& a = arch_of(kQwen3Next);
  weight_options o;
  o.shard.tp = 2;
  auto w = weights_per_rank(a, o);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->embedding, 311164928u);
  EXPECT_EQ(w->lm_head, 311164928u);
  EXPECT_EQ(w->attention, 327155712u + 1213860096u);
  EXPECT_EQ(w->experts + w->shared_experts + w->router, 77561266176u);
  EXPECT_EQ(w->norms, 418816u);
  EXPECT_EQ(w->buffers, 33554432u);
  EXPECT_EQ(w->total(), 79758585088u);
}

TEST(StateLayers, DecoderNamesTheFieldOfABadSpec) {
  auto spec = parse_arch_spec(nlohmann::json::parse(R"({"num_layers": 8, "hidden_size": 256,
      "num_heads": 4, "vocab_size": 1000, "intermediate_size": 512,
      "linear_attention": {"kind": "lightning"}})"),
                              "architecture.");
  ASSERT_TRUE(spec.ok());
  auto a = resolve_arch(*spec, "architecture.");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.err().field, "architecture.linear_attention.kind");
  auto unknown = parse_arch_spec(
      nlohmann::json::parse(R"({"linear_attention": {"kind": "mamba2", "d_state": 16}})"),
      "architecture.");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.err().field, "architecture.linear_attention.d_state");
  auto missing = parse_arch_spec(nlohmann::json::parse(R"({"num_layers": 8, "hidden_size": 256,
      "num_heads": 4, "vocab_size": 1000, "intermediate_size": 512,
      "linear_attention": {"kind": "gated_delta_net", "num_key_heads": 4}})"),
                                 "architecture.");
  ASSERT_TRUE(missing.ok());
  auto m = resolve_arch(*missing, "architecture.");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.err().field, "architecture.linear_attention.num_value_heads");
}

TEST(HybridBlock, Qwen3NextAttentionBlockIs544) {
  const model_arch& a = arch_of(kQwen3Next);
  // tp 2: one KV head of 256, K and V, bf16: 1,024 B per token per attention layer.
  EXPECT_EQ(attention_bytes_per_token(a, 2, 16), 1024u);
  // 16 * ceil(548,864 / (16 * 1,024)) = 16 * ceil(33.5) = 544 tokens.
  EXPECT_EQ(hybrid_block_size(1024, 548864, 0), 544u);
  EXPECT_EQ(hybrid_block_size(1024, 548864, 16), 544u);     // a smaller one is raised
  EXPECT_EQ(hybrid_block_size(1024, 548864, 1024), 1024u);  // a larger one is kept
  // tp 1: 2,048 B per token and a 1,097,728 B state: 16 * ceil(33.5) = 544 again.
  EXPECT_EQ(hybrid_block_size(attention_bytes_per_token(a, 1, 16),
                              state_bytes_per_rank(a.linear, 1, 16).total(), 0),
            544u);
}

TEST(HybridBlock, Row1004GroupsBlocksAndConcurrency) {
  const model_arch& a = arch_of(kQwen3Next);
  auto r = simulate_startup(a, row_1004());
  ASSERT_TRUE(r.ok()) << r.err().message;
  // Page = 544 * 1,024 = 557,056 B; the 548,864 B state page is padded to it.
  EXPECT_EQ(r->kv.block_size, 544u);
  EXPECT_EQ(r->kv.page_bytes, 557056u);
  // 12 full layers and 36 state layers: group size 12 (36 >= 1.5 * 12), 1 + 3 groups.
  EXPECT_EQ(r->kv.layers_per_group, 12u);
  EXPECT_EQ(r->kv.groups, 4u);
  ASSERT_EQ(r->kv.group_list.size(), 2u);
  const layer_group_info& full = r->kv.group_list[0];
  EXPECT_EQ(full.kind, layer_group_kind::full_attention);
  EXPECT_EQ(full.layers, 12u);
  EXPECT_EQ(full.groups, 1u);
  EXPECT_EQ(full.bytes_per_token, 12u * 1024);
  const layer_group_info& state = r->kv.group_list[1];
  EXPECT_EQ(state.kind, layer_group_kind::state);
  EXPECT_EQ(state.layers, 36u);
  EXPECT_EQ(state.groups, 3u);
  EXPECT_EQ(state.state_bytes_per_layer, 548864u);
  // 0.10.2: one page per sequence per state layer (mamba_cache_mode none): 36 * 557,056.
  EXPECT_EQ(state.bytes_per_sequence, 36u * 557056);
  EXPECT_EQ(r->kv.state_bytes_per_sequence, 20054016u);
  // Attention-only bytes per token: 12 layers * 1,024.
  EXPECT_EQ(r->kv.bytes_per_token, 12288u);
  // num_blocks = floor(floor(A / 557,056) / 12); tokens = (blocks // 4) * 544; concurrency =
  // blocks / (ceil(262,144 / 544) + 3 * 1) = blocks / 485.
  ASSERT_GT(r->kv_cache_bytes, 0);
  const std::uint64_t blocks = static_cast<std::uint64_t>(r->kv_cache_bytes) / 557056 / 12;
  EXPECT_EQ(r->num_gpu_blocks, blocks);
  EXPECT_EQ(r->kv_cache_tokens, blocks / 4 * 544);
  EXPECT_DOUBLE_EQ(r->max_concurrency, static_cast<double>(blocks) / 485.0);
  EXPECT_TRUE(r->fits);
}

TEST(HybridBlock, AlignModeHoldsTwoStatePagesPerRequest) {
  vllm_profile p = profile("0.10.2");
  EXPECT_EQ(state_pages_per_request(p, 0), 1u);
  p.mamba_align_default = true;
  EXPECT_EQ(state_pages_per_request(p, 0), 2u);
  // Prefix caching on by default for hybrids, so align mode: seen at 0.20.0 (row 2002's log).
  EXPECT_FALSE(profile("0.19.0").mamba_align_default);
  EXPECT_TRUE(profile("0.20.0").mamba_align_default);
}

TEST(HybridBlock, VersionsBeforeGatedDeltaNetAreRefused) {
  const model_arch& a = arch_of(kQwen3Next);
  deployment d = row_1004();
  d.profile = profile("0.10.1");
  auto r = simulate_startup(a, d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().field, "vllm_version");
  EXPECT_NE(r.err().message.find("gated_delta_net"), std::string::npos);
}

TEST(HybridBlock, HoldsSeveralTimesTheContextOfTheDenseCounterpart) {
  // The dense counterpart: the same config with every layer full attention (its weights differ
  // by the mixers only, 1.2 GB of 159 GB), on the same two H200s at 32768 tokens.
  const model_arch& hybrid = arch_of(kQwen3Next);
  model_arch dense = hybrid;
  dense.linear = state_layers{};
  deployment d = row_1004();
  d.max_model_len = 32768;
  auto h = simulate_startup(hybrid, d);
  auto n = simulate_startup(dense, d);
  ASSERT_TRUE(h.ok() && n.ok());
  // Weights within 1% of each other, so nearly the same KV budget A.
  const double wh = static_cast<double>(h->weights.total());
  const double wn = static_cast<double>(n->weights.total());
  EXPECT_NEAR(wh / wn, 1.0, 0.01);
  // Hybrid: a request of 32768 tokens takes ceil(32768 / 544) + 3 = 64 blocks of 12 * 557,056
  // B = 427.8 MB. Dense: 48 layers * 1,024 B * 32768 = 1,610.6 MB. Ratio 3.76 at equal A.
  EXPECT_EQ(n->kv.block_size, 16u);
  EXPECT_EQ(n->kv.bytes_per_token, 48u * 1024);
  const double ratio = h->max_concurrency / n->max_concurrency;
  EXPECT_GT(ratio, 3.5);
  EXPECT_LT(ratio, 4.0);
  EXPECT_NEAR(ratio,
              (1610612736.0 / 427819008.0) * static_cast<double>(h->kv_cache_bytes) /
                  static_cast<double>(n->kv_cache_bytes),
              0.02);
}

TEST(HybridRequest, BlockSizeOfVllmIsAcceptedForHybridsOnly) {
  // The row-1004 request: vLLM logged block_size 544; the answer uses it and says why.
  const nlohmann::json body = {
      {"model_name", kQwen3Next},  {"max_seq_len", 262144},    {"gpu", "H200"},
      {"tensor_parallel_size", 2}, {"vllm_version", "0.10.2"}, {"max_num_batched_tokens", 8192},
      {"block_size", 544}};
  const estimate_result e = run(body);
  EXPECT_EQ(e.deploy.block_size, 544u);
  const nlohmann::json answer = to_json(e);
  const nlohmann::json& groups = answer["vllm_startup"]["kv_cache_layer_groups"];
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0]["kind"], "full_attention");
  EXPECT_EQ(groups[0]["bytes_per_token"], 12288);
  EXPECT_EQ(groups[1]["kind"], "state");
  EXPECT_EQ(groups[1]["state_kind"], "gated_delta_net");
  EXPECT_EQ(groups[1]["bytes_per_sequence"], 36 * 557056);
  EXPECT_EQ(answer["vllm_startup"]["state_bytes_per_sequence"], 36 * 557056);
  // Omitted, the block is computed the same way; 16 is raised to it as vLLM does.
  nlohmann::json without = body;
  without.erase("block_size");
  EXPECT_EQ(run(without).deploy.block_size, 544u);
  // A model without state layers keeps vLLM's choices: 544 is a 400 naming block_size.
  nlohmann::json dense = body;
  dense["model_name"] = "meta-llama/Llama-3.1-70B-Instruct";
  dense["max_seq_len"] = 8192;
  const error err = run_error(dense);
  EXPECT_EQ(err.field, "block_size");
  EXPECT_NE(err.message.find("hybrid"), std::string::npos);
  // Not a multiple of 16 above 256: refused by the decoder.
  nlohmann::json odd = body;
  odd["block_size"] = 550;
  EXPECT_EQ(run_error(odd).field, "block_size");
}

TEST(HybridRequest, HfConfigOfQwen3NextConvertsItsStateLayers) {
  // Qwen3-Next's config.json keys (linear_*, full_attention_interval) as an hf_config: the same
  // layout as the database entry, not a dense 48-layer transformer.
  nlohmann::json cfg = nlohmann::json::parse(R"({"architectures": ["Qwen3NextForCausalLM"],
      "model_type": "qwen3_next", "hidden_size": 2048, "intermediate_size": 5120,
      "num_hidden_layers": 48, "num_attention_heads": 16, "num_key_value_heads": 2,
      "head_dim": 256, "vocab_size": 151936, "max_position_embeddings": 262144,
      "num_experts": 512, "num_experts_per_tok": 10, "moe_intermediate_size": 512,
      "shared_expert_intermediate_size": 512, "decoder_sparse_step": 1, "mlp_only_layers": [],
      "partial_rotary_factor": 0.25, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
      "full_attention_interval": 4, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128,
      "linear_num_key_heads": 16, "linear_num_value_heads": 32, "linear_value_head_dim": 128})");
  nlohmann::json body = {
      {"model_name", "acme/q3n"},  {"max_seq_len", 32768},     {"gpu", "H200"},
      {"tensor_parallel_size", 2}, {"vllm_version", "0.10.2"}, {"hf_config", cfg}};
  const estimate_result e = run(body);
  EXPECT_EQ(e.model.arch.linear.kind, state_layer_kind::gated_delta_net);
  EXPECT_EQ(e.model.arch.num_attention_layers(0, 48), 12u);
  EXPECT_EQ(e.deploy.block_size, 544u);
  EXPECT_EQ(e.startup.weights.total(), 79758585088u);
  // layer_types instead of the interval: the same; an irregular one is a 400 naming it.
  cfg.erase("full_attention_interval");
  nlohmann::json types = nlohmann::json::array();
  for (int i = 0; i < 48; ++i) types.push_back(i % 4 == 3 ? "full_attention" : "linear_attention");
  cfg["layer_types"] = types;
  body["hf_config"] = cfg;
  EXPECT_EQ(run(body).deploy.block_size, 544u);
  cfg["layer_types"][0] = "full_attention";
  body["hf_config"] = cfg;
  EXPECT_EQ(run_error(body).field, "hf_config.layer_types");
  // linear_attention layers of another kind (no gated DeltaNet keys): refused, not dense.
  cfg["layer_types"][0] = "linear_attention";
  cfg.erase("linear_num_value_heads");
  body["hf_config"] = cfg;
  const error other = run_error(body);
  EXPECT_EQ(other.field, "hf_config.layer_types");
  EXPECT_EQ(other.code, error_code::unsupported);
}

}  // namespace
}  // namespace vllm_mem::testing

namespace vllm_mem::testing {
namespace {

constexpr const char* kQwen36 = "nvidia/Qwen3.6-35B-A3B-NVFP4";

// Row 2002's deployment (RTX 5090, vLLM 0.20.0): fp8 KV, 8192 tokens, 4 sequences, 4096 batched.
deployment row_2002() {
  deployment d;
  d.gpu_total_bytes = static_cast<std::uint64_t>(31.34 * kGiB);
  d.gpu_memory_utilization = 0.9;
  d.profile = profile("0.20.0");
  d.max_model_len = 8192;
  d.max_num_seqs = 4;
  d.max_num_batched_tokens = 4096;
  d.block_size = 16;
  d.kv_bits = 8;
  d.quant = arch_of(kQwen36).quantization;  // the checkpoint's NVFP4 / FP8 mix
  return d;
}

// Qwen3.6-35B-A3B at TP 1: a Gated DeltaNet layer's state is conv 3 x 8192 in bf16 (49,152 B)
// plus a float32 recurrent state of 32 x 128 x 128 (2,097,152 B): 2,146,304 B. An fp8 attention
// layer holds 2 x 2 KV heads x 256 = 1024 B per token, so the block grows to
// ceil(2146304 / 1024) = 2096 tokens (a multiple of 16), which vLLM 0.20 prints ("Setting
// attention block size to 2096 tokens"). 10 attention + 30 state layers: 4 groups of 10; a block
// is 10 pages of 2,146,304 B. In align mode (prefix caching on) a request of 8192 tokens needs
// ceil(8192 / 2096) = 4 attention blocks + 2 per state group: 10.
TEST(HybridBlock, Qwen36StateInFloat32SetsTheBlockAndAlignModeTheConcurrency) {
  const model_arch& a = arch_of(kQwen36);
  auto r = simulate_startup(a, row_2002());
  ASSERT_TRUE(r.ok()) << r.err().message;
  ASSERT_GT(r->kv_cache_bytes, 0);
  EXPECT_EQ(r->kv.block_size, 2096u);
  EXPECT_EQ(r->kv.page_bytes, 2146304u);
  const std::uint64_t blocks = static_cast<std::uint64_t>(r->kv_cache_bytes) / (10 * 2146304ULL);
  EXPECT_EQ(r->num_gpu_blocks, blocks);
  EXPECT_EQ(r->kv_cache_tokens, blocks / 4 * 2096);
  EXPECT_DOUBLE_EQ(r->max_concurrency, static_cast<double>(blocks) / 10.0);
}

// The encoder budget (vLLM compute_encoder_budget): max(max_num_batched_tokens, 16384 tokens of
// the largest image), in whole images; each token is 2 x 2 patches of the ViT, each holding
// 4 x 1152 + 3 x 4304 = 17,520 bf16 values: 16384 x 4 x 17520 x 2 B = 2,296,381,440 B per image.
TEST(EncoderProfile, BudgetInWholeImagesOfTheLargestSize) {
  const model_arch& a = arch_of(kQwen36);
  const vllm_profile p = profile("0.20.0");
  const mm_limits none;
  const double one_image = 16384.0 * 4 * 17520 * 2;
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(a, p, none, 4096, 4, 2.0), one_image);   // row 2002: 1
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(a, p, none, 30000, 4, 2.0), one_image);  // still 1 whole
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(a, p, none, 65536, 8, 2.0), 4 * one_image);  // row 2024
  // Without a tower nothing; a tower without its budget falls back to M hidden-wide tensors.
  EXPECT_EQ(encoder_profile_bytes(arch_of(kQwen3Next), p, none, 8192, 4, 2.0), 0.0);
  model_arch bare = a;
  bare.vision->max_tokens_per_item = 0;
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(bare, p, none, 8192, 4, 2.0),
                   p.vision_activation_factor * 8192 * 2.0 * 1152);
}

// --limit-mm-per-prompt. V1 profiles at most max_num_seqs x limit images: at 65536 batched
// tokens the budget holds 4 images, 2 sequences x 1 image allow 2. Images at 0 with the video
// of a Qwen-VL tower (temporal patches) still open leave the tower on; both at 0 switch it off.
TEST(EncoderProfile, ImageLimitCapsTheItemsAndZeroSwitchesTheTowerOff) {
  const model_arch& a = arch_of(kQwen36);
  ASSERT_GT(a.vision->temporal_patch_size, 0u);  // from the database's extra.temporal_patch_size
  const vllm_profile p = profile("0.20.0");
  const double one_image = 16384.0 * 4 * 17520 * 2;
  mm_limits one;
  one.image = 1;
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(a, p, one, 65536, 2, 2.0), 2 * one_image);
  mm_limits images_off;
  images_off.image = 0;
  EXPECT_FALSE(images_off.tower_off(*a.vision));
  mm_limits off = images_off;
  off.video = 0;
  EXPECT_TRUE(off.tower_off(*a.vision));
  EXPECT_EQ(encoder_profile_bytes(a, p, off, 65536, 8, 2.0), 0.0);
  EXPECT_EQ(encoder_profile_bytes(a, p, off, 8192, 8, 2.0), 0.0);
  // A tower without temporal patches (image only) is off with images at 0 alone.
  model_arch still = a;
  still.vision->temporal_patch_size = 0;
  EXPECT_TRUE(images_off.tower_off(*still.vision));
}

// V0 (worker/model_runner.py profile_run): max_num_seqs becomes max(1, min(S, M // (limit x
// tokens per image))) and each dummy sequence carries `limit` images (1 by default). 16384 tokens
// per image: at M 16384 one sequence of 1 image; with limit 3, M // 49152 = 0 -> 1 sequence of 3;
// at M 65536 and S 2, min(2, 4) = 2 sequences of 1.
TEST(EncoderProfile, V0GivesEachDummySequenceItsImages) {
  const model_arch& a = arch_of(kQwen36);
  const vllm_profile p = profile("0.8.5", engine_kind::v0);
  ASSERT_EQ(p.engine, engine_kind::v0);
  const double one_image = 16384.0 * 4 * 17520 * 2;
  const mm_limits none;
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(a, p, none, 16384, 256, 2.0), one_image);
  mm_limits three;
  three.image = 3;
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(a, p, three, 16384, 256, 2.0), 3 * one_image);
  EXPECT_DOUBLE_EQ(encoder_profile_bytes(a, p, none, 65536, 2, 2.0), 2 * one_image);
}

}  // namespace
}  // namespace vllm_mem::testing
