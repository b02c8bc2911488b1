// quantization_test.cpp — each quantized layout's bytes, hand-computed for a 4096 x 4096 linear
// (vllm-memory-model.md §9.3), and the checkpoints of the dev cases.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/model/quantization.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kIn = 4096, kOut = 4096, kNumel = kIn * kOut;

std::uint64_t bytes(const char* method, std::uint32_t act_bits = 16) {
  auto q = parse_quantization(method);
  EXPECT_TRUE(q.has_value()) << method;
  return quantized_linear_bytes(*q, kIn, kOut, act_bits, kIn);
}

TEST(QuantLayouts, Unquantized) {
  quant_spec none;
  EXPECT_EQ(quantized_linear_bytes(none, kIn, kOut, 16, kIn), kNumel * 2);
  EXPECT_EQ(quantized_linear_bytes(none, kIn, kOut, 32, kIn), kNumel * 4);
}

TEST(QuantLayouts, Fp8AndInt8HaveOneBytePlusFp32ChannelScales) {
  EXPECT_EQ(bytes("fp8"), kNumel + 4 * kOut);
  EXPECT_EQ(bytes("int8"), kNumel + 4 * kOut);
  EXPECT_EQ(bytes("Q8"), kNumel + 4 * kOut);
}

TEST(QuantLayouts, Fp8BlockScalesPer128x128) {
  EXPECT_EQ(bytes("fp8_block"), kNumel + 4 * 32 * 32);
}

TEST(QuantLayouts, AwqAndGptqPackFourBitsWithGroupScalesAndZeros) {
  // 4 bits -> numel/2; scales fp16 [in/128, out]; zeros int32 [in/128, out/8] -> out/2 bytes/group.
  const std::uint64_t groups = kIn / 128;
  EXPECT_EQ(bytes("awq"), kNumel / 2 + groups * kOut * 2 + groups * kOut / 2);
  EXPECT_EQ(bytes("Q4"), bytes("awq"));
  EXPECT_EQ(bytes("gptq"), kNumel / 2 + groups * kOut * 2 + groups * kOut / 2);
  quant_spec act_order = *parse_quantization("gptq");
  act_order.desc_act = true;
  // g_idx int32[in]; on a row-parallel layer (in = 2048 of 4096) the scales keep every group.
  EXPECT_EQ(quantized_linear_bytes(act_order, kIn, kOut, 16, kIn),
            kNumel / 2 + groups * kOut * 2 + groups * kOut / 2 + kIn * 4);
  EXPECT_EQ(quantized_linear_bytes(act_order, kIn / 2, kOut, 16, kIn),
            kNumel / 4 + groups * kOut * 2 + groups * kOut / 2 + kIn / 2 * 4);
}

TEST(QuantLayouts, W4a16ScalesInTheModelDtypeWithoutZerosWhenSymmetric) {
  EXPECT_EQ(bytes("w4a16"), kNumel / 2 + kIn / 128 * kOut * 2);
}

TEST(QuantLayouts, BitsandbytesNf4WithAndWithoutDoubleQuantization) {
  quant_spec q = *parse_quantization("bitsandbytes");
  const std::uint64_t blocks = kNumel / 64;
  EXPECT_EQ(quantized_linear_bytes(q, kIn, kOut, 16, kIn),
            kNumel / 2 + blocks + 4 * (blocks / 256) + 1024);
  q.double_quant = false;
  EXPECT_EQ(quantized_linear_bytes(q, kIn, kOut, 16, kIn), kNumel / 2 + 4 * blocks);
}

TEST(QuantLayouts, Mxfp4AndNvfp4BlockScales) {
  EXPECT_EQ(bytes("mxfp4"), kNumel / 2 + kNumel / 32);
  EXPECT_EQ(bytes("nvfp4"), kNumel / 2 + kNumel / 16 + 8);
}

TEST(QuantLayouts, UnknownMethodsAreRejected) {
  EXPECT_FALSE(parse_quantization("q3_k_m").has_value());
  EXPECT_FALSE(parse_quantization("").has_value());
}

// vLLM methods whose layout the checkpoint decides, alone or with the scheme in words after them.
TEST(QuantLayouts, MethodFamiliesTakeTheSchemeNamedAfterThem) {
  auto ct = parse_quantization("compressed-tensors (nvfp4)");
  ASSERT_TRUE(ct.has_value());
  EXPECT_TRUE(ct->from_checkpoint);
  EXPECT_EQ(ct->method, quant_method::nvfp4);
  auto mixed = parse_quantization("modelopt (modelopt_mixed: nvfp4 + fp8; nvfp4 moe via marlin)");
  ASSERT_TRUE(mixed.has_value());
  EXPECT_TRUE(mixed->from_checkpoint);
  EXPECT_EQ(mixed->method, quant_method::nvfp4);
  auto bare = parse_quantization("compressed-tensors");
  ASSERT_TRUE(bare.has_value());
  EXPECT_TRUE(bare->from_checkpoint);
  EXPECT_TRUE(bare->is_none());
  auto modelopt = parse_quantization("modelopt");  // ModelOptFp8Config unless the checkpoint says
  ASSERT_TRUE(modelopt.has_value());
  EXPECT_EQ(modelopt->method, quant_method::fp8);
  auto described = parse_quantization("awq (4-bit, group 128)");
  ASSERT_TRUE(described.has_value());
  EXPECT_FALSE(described->from_checkpoint);
  EXPECT_EQ(described->method, quant_method::awq);
  // DeepSeek-V4's own config: the checkpoint decides, the words after it only describe it.
  auto v4 = parse_quantization("deepseek_v4_fp8 (native fp8 checkpoint; experts fp4/mxfp4)");
  ASSERT_TRUE(v4.has_value());
  EXPECT_TRUE(v4->from_checkpoint);
  EXPECT_TRUE(v4->is_none());
}

TEST(QuantCheckpoints, FamilyNameLoadsTheCheckpointsOwnLayout) {
  const json base = {{"model_name", "RedHatAI/Qwen2.5-7B-Instruct-fp8-dynamic"},
                     {"max_seq_len", 2048}};
  json named = base;
  named["quantization"] = "compressed-tensors";
  EXPECT_EQ(run(named).bytes.model_params, run(base).bytes.model_params);
  // A model whose description states no quantization: the family alone says no layout.
  const error e = run_error({{"model_name", "meta-llama/Llama-3.1-8B"},
                             {"max_seq_len", 2048},
                             {"quantization", "compressed-tensors"}});
  EXPECT_EQ(e.field, "quantization");
  EXPECT_NE(e.message.find("takes its layout from the checkpoint"), std::string::npos) << e.message;
  // With the scheme named, the base model is quantized to it.
  json schemed = {{"model_name", "meta-llama/Llama-3.1-8B"},
                  {"max_seq_len", 2048},
                  {"quantization", "compressed-tensors (w4a16)"}};
  EXPECT_EQ(run(schemed).deploy.quant.method, quant_method::w4a16);
}

// ModelOpt MIXED_PRECISION (nvidia/Qwen3.6-35B-A3B-NVFP4): attention and Gated DeltaNet
// projections in FP8, experts in NVFP4. Per linear, fp8 minus nvfp4 is
// in*out*(1 - 1/2 - 1/16) + 4*out - 8 bytes: 30 DeltaNet layers of in_proj_qkvz 2048x12288,
// in_proj_ba 2048x64 and out_proj 4096x2048 (14,794,984 B), 10 attention layers of qkv 2048x9216
// (16 query heads with their gates + 2 x 2 KV heads, of 256) and o_proj 4096x2048 (11,972,592 B).
TEST(QuantCheckpoints, MixedPrecisionAttentionProjectionsInFp8) {
  const json mixed = {{"model_name", "nvidia/Qwen3.6-35B-A3B-NVFP4"}, {"max_seq_len", 4096}};
  json all_fp4 = mixed;
  all_fp4["architecture"] = {
      {"quantization",
       {{"method", "nvfp4"}, {"bits", 4}, {"group_size", 16}, {"quantize_lm_head", true}}}};
  const std::uint64_t with_fp8 = run(mixed).bytes.model_params;
  const std::uint64_t without = run(all_fp4).bytes.model_params;
  EXPECT_EQ(with_fp8 - without, 30ULL * 14794984 + 10ULL * 11972592);
}

// llm-compressor's NVFP4 recipe for Qwen3.6-35B-A3B (RedHatAI/Qwen3.6-35B-A3B-NVFP4) ignores
// re:.*linear_attn.*: the Gated DeltaNet projections stay bf16. Per linear, bf16 minus nvfp4 is
// in*out*(2 - 1/2 - 1/16) - 8 bytes: in_proj_qkvz 2048x12288, in_proj_ba 2048x64 and out_proj
// 4096x2048 give 33,685,504 x 1.4375 - 24 = 48,422,888 B per layer, 30 layers.
TEST(QuantCheckpoints, IgnoredLinearAttentionStaysSixteenBit) {
  const json recipe = {{"model_name", "RedHatAI/Qwen3.6-35B-A3B-NVFP4"}, {"max_seq_len", 4096}};
  json all_fp4 = recipe;
  all_fp4["architecture"] = {
      {"quantization", {{"method", "nvfp4"}, {"bits", 4}, {"group_size", 16}}}};
  const auto r = run(recipe);
  EXPECT_EQ(r.model.match, "exact");
  EXPECT_EQ(r.bytes.model_params - run(all_fp4).bytes.model_params, 30ULL * 48422888);
}

TEST(QuantCheckpoints, UnquantizedModuleListsSetTheClassTheyCover) {
  auto applied = [](std::vector<std::string> names, quant_spec q) {
    apply_unquantized_modules(names, q);
    return q;
  };
  const quant_spec nvfp4 = *parse_quantization("nvfp4");
  // A whole linear_attn: the state mixer in 16 bit, attention unchanged.
  auto q = applied({"re:.*lm_head", "re:.*linear_attn.*"}, nvfp4);
  EXPECT_EQ(q.state_mixer_method, quant_method::none);
  EXPECT_FALSE(q.attention_method.has_value());
  // A whole self_attn: attention in 16 bit, the state mixer keeps the method.
  q = applied({"model.layers.*.self_attn*"}, nvfp4);
  EXPECT_EQ(q.attention_method, quant_method::none);
  EXPECT_EQ(q.state_mixer_method, quant_method::nvfp4);
  // Single projections or layers do not change a class.
  q = applied({"*.self_attn.kv_b_proj", "model.layers.61*", "model.layers.3.self_attn", "mtp*"},
              nvfp4);
  EXPECT_FALSE(q.attention_method.has_value());
  EXPECT_FALSE(q.state_mixer_method.has_value());
  // An explicit scheme wins; experts-only checkpoints have nothing else quantized.
  quant_spec mixed = nvfp4;
  mixed.attention_method = quant_method::fp8;
  EXPECT_EQ(applied({"*.self_attn"}, mixed).attention_method, quant_method::fp8);
  quant_spec experts = *parse_quantization("mxfp4");
  experts.experts_only = true;
  EXPECT_FALSE(applied({"model.layers.*.self_attn"}, experts).attention_method.has_value());
}

TEST(QuantCheckpoints, DevCaseWeightsWithinOnePercentOfModelLoading) {
  // "Model loading took" of the dev cases (GiB) for each quantized layout.
  struct c {
    const char* model;
    const char* version;
    double gpu_gib;
    int tp;
    double logged_gib;
  };
  const c cases[] = {
      {"RedHatAI/Qwen2.5-7B-Instruct-fp8-dynamic", "0.19.0", 79.19, 1, 8.14},            // fp8
      {"RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8", "0.19.0", 79.19, 1, 8.49},  // int8
      {"redhatai/Llama-3.3-70B-Instruct-quantized.w8a8", "0.19.0", 79.19, 2, 33.88},  // int8, tp 2
      {"kaitchup/Phi-4-AutoRound-GPTQ-4bit", "0.6.5", 79.25, 1, 8.5107},              // gptq
      {"unsloth/meta-llama-3.1-8b-instruct-bnb-4bit", "0.7.2", 14.74, 1, 5.3541},     // nf4
      {"openai/gpt-oss-120b", "0.11.0", 79.18, 1, 64.38},                             // mxfp4
  };
  for (const auto& k : cases) {
    const auto r = run({{"model_name", k.model},
                        {"max_seq_len", 2048},
                        {"dtype", "auto"},
                        {"gpu_memory_gib", k.gpu_gib},
                        {"tensor_parallel_size", k.tp},
                        {"vllm_version", k.version}});
    const double w = static_cast<double>(r.startup.weights.total()) / kGiB;
    EXPECT_NEAR(w / k.logged_gib, 1.0, 0.01)
        << k.model << ": " << w << " GiB vs logged " << k.logged_gib;
  }
}

TEST(QuantCheckpoints, NameSuffixImpliesTheLayout) {
  // A quantized checkpoint the database does not hold resolves to its base + the named method.
  const auto r =
      run({{"model_name", "someone/Meta-Llama-3.1-8B-Instruct-AWQ"}, {"max_seq_len", 2048}});
  EXPECT_EQ(r.model.match, "quantized_checkpoint");
  EXPECT_EQ(r.deploy.quant.method, quant_method::awq);
  const auto base = run({{"model_name", "meta-llama/Llama-3.1-8B"}, {"max_seq_len", 2048}});
  EXPECT_LT(r.bytes.model_params, base.bytes.model_params / 2);
}

// vLLM >= 0.10 refuses float16 for Gemma 2/3 and GLM-4 (config/model.py
// _FLOAT16_NOT_SUPPORTED_MODELS), naming the checkpoint's own model_type: the seed's estimate
// stands, vLLM's startup does not. 0.8.2 ran Gemma 3 in float16 (set-2 row 1030), and bfloat16 or
// vLLM's default (no dtype given) always starts.
TEST(QuantCheckpoints, Float16IsRefusedForNumericallyUnstableModelsLikeVllm) {
  json body = {{"model_name", "google/gemma-3-27b-it"},
               {"max_seq_len", 8192},
               {"gpu", "H100-80GB"},
               {"dtype", "float16"},
               {"vllm_version", "0.19.0"}};
  const estimate_result refused = run(body);
  EXPECT_FALSE(refused.startup.fits);
  EXPECT_EQ(refused.startup.limit, limiting_factor::dtype);
  EXPECT_EQ(refused.startup.verdict, startup_verdict::does_not_fit);
  EXPECT_EQ(refused.startup.max_model_len_fit, 0u);
  EXPECT_NE(refused.startup.error.find("The model type 'gemma3' does not support float16"),
            std::string::npos)
      << refused.startup.error;
  EXPECT_GT(refused.bytes.model_params, 0u);  // the seed's figures are still given
  body["vllm_version"] = "0.8.2";
  EXPECT_TRUE(run(body).startup.fits);
  body["vllm_version"] = "0.19.0";
  body["dtype"] = "bfloat16";
  EXPECT_TRUE(run(body).startup.fits);
  body.erase("dtype");
  EXPECT_TRUE(run(body).startup.fits);
}

TEST(QuantCheckpoints, ConflictingRequestedQuantizationIsRefusedLikeVllm) {
  const error e = run_error({{"model_name", "RedHatAI/Qwen2.5-7B-Instruct-fp8-dynamic"},
                             {"max_seq_len", 2048},
                             {"quantization", "awq"}});
  EXPECT_EQ(e.field, "quantization");
  EXPECT_NE(e.message.find("does not match"), std::string::npos);
}

}  // namespace
}  // namespace vllm_mem::testing
