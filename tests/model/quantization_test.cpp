// quantization_test.cpp — each quantized layout's bytes, hand-computed for a 4096 x 4096 linear
// (vllm-memory-model.md §9.3), and the checkpoints of the dev cases.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/model/quantization.hpp"

namespace vllm_mem::testing {
namespace {

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

TEST(QuantCheckpoints, ConflictingRequestedQuantizationIsRefusedLikeVllm) {
  const error e = run_error({{"model_name", "RedHatAI/Qwen2.5-7B-Instruct-fp8-dynamic"},
                             {"max_seq_len", 2048},
                             {"quantization", "awq"}});
  EXPECT_EQ(e.field, "quantization");
  EXPECT_NE(e.message.find("does not match"), std::string::npos);
}

}  // namespace
}  // namespace vllm_mem::testing
