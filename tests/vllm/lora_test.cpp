// lora_test.cpp — LoRA slots allocated at load (vllm/lora.hpp) with hand-checked bytes, for one
// model at two ranks and two max_loras; the version switches (extra vocabulary up to 0.11,
// embedding wrappers per model type); CUDA graphs captured twice on V1 >= 0.10.2; the request
// fields, their 400s and the echo in the answer.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/vllm/lora.hpp"
#include "vllm_mem/vllm/startup.hpp"

namespace vllm_mem::testing {
namespace {

vllm_version ver(const char* text) { return parse_vllm_version(text, "vllm_version").value(); }

std::uint64_t llama1b_bytes(std::uint64_t rank, std::uint64_t loras, const char* version) {
  lora_config c;
  c.enabled = true;
  c.max_lora_rank = rank;
  c.max_loras = loras;
  return lora_slot_bytes(arch_of("meta-llama/Llama-3.2-1B"), c, ver(version), 1, 0, 16, true, true,
                         16);
}

// Llama-3.2-1B: H 2048, 32 heads of 64, 8 KV heads, I 8192, V 128256, tied, 16 layers.
// Per layer, in units of r: qkv 3*2048 + (2048 + 2*512) = 9216; o_proj 2048 + 2048 = 4096;
// gate_up 2*(2048 + 8192) = 20480; down 8192 + 2048 = 10240; sum 44032, x16 = 704,512 r.
// Up to 0.11 (E = 256): embedding (V+E) r + H r + E H = 130,560 r + 524,288; logits
// r H + pad256(V+E) r + E H = 130,560 r + 524,288 (128,512 is a multiple of 256).
// One slot: 965,632 r + 1,048,576 elements; plus E*H = 524,288 extra embed_tokens rows per slot
// (tied: no lm_head rows); all bf16.
TEST(Lora, Llama32OneBAtTwoRanksAndTwoSlotCounts) {
  // r 16, 1 slot: (15,450,112 + 1,048,576) * 2 + 524,288 * 2.
  EXPECT_EQ(llama1b_bytes(16, 1, "0.11.2"), 34045952u);
  // r 32, 1 slot: (30,900,224 + 1,048,576) * 2 + 1,048,576 = 64,946,176 B = 0.0605 GiB, the
  // difference row 1011 shows (0.0420 linear + 0.0185 embedding layout).
  EXPECT_EQ(llama1b_bytes(32, 1, "0.11.2"), 64946176u);
  // 4 slots: everything x4.
  EXPECT_EQ(llama1b_bytes(16, 4, "0.11.2"), 4u * 34045952u);
  EXPECT_EQ(llama1b_bytes(32, 4, "0.11.2"), 4u * 64946176u);
}

TEST(Lora, NoExtraVocabularyFrom012) {
  // E = 0: embedding V r + H r, logits r H + V r: 2 * 130,304 r; slot 965,120 r; no base rows.
  EXPECT_EQ(lora_extra_vocab(ver("0.11.2")), 256u);
  EXPECT_EQ(lora_extra_vocab(ver("0.12.0")), 0u);
  EXPECT_EQ(llama1b_bytes(16, 1, "0.12.0"), 965120u * 16 * 2);
}

TEST(Lora, EmbeddingWrappersPerModelTypeAndVersion) {
  const model_arch& qwen3 = arch_of("Qwen/Qwen3-4B");
  EXPECT_TRUE(lora_wraps_embeddings(arch_of("meta-llama/Llama-3.2-1B"), ver("0.8.5")));
  EXPECT_FALSE(lora_wraps_embeddings(qwen3, ver("0.15.1")));
  EXPECT_TRUE(lora_wraps_embeddings(qwen3, ver("0.16.1")));  // PR #29816
  EXPECT_FALSE(lora_wraps_embeddings(arch_of("Qwen/Qwen2.5-7B"), ver("0.16.1")));
  // Qwen3-8B (row 1018, 0.10.2, r 32): linear only. 36 layers, H 4096, 32 heads of 128, 8 KV
  // heads, I 12288: per layer qkv 3*32*4096 + (4096 + 2048)*32 = 589,824; o 32*4096 + 4096*32
  // = 262,144; gate_up 2*(32*4096 + 12288*32) = 1,048,576; down 32*12288 + 4096*32 = 524,288;
  // 2,424,832 x 36 = 87,293,952 elements x 2 B = 174,587,904 B (0.1626 GiB).
  lora_config c;
  c.enabled = true;
  c.max_lora_rank = 32;
  EXPECT_EQ(lora_slot_bytes(arch_of("Qwen/Qwen3-8B"), c, ver("0.10.2"), 1, 0, 36, true, true, 16),
            174587904u);
}

TEST(Lora, TensorParallelAndFullySharded) {
  // Qwen3-8B at tp 2, r 32: q 2048, kv 4*128 = 512: qkv 3*32*4096 + 3072*32 = 491,520;
  // o 32*2048 + 4096*32 = 196,608; gate_up 2*(32*4096 + 6144*32) = 655,360; down 32*6144 +
  // 4096*32 = 327,680; 1,671,168 x 36 x 2 B = 120,324,096.
  const model_arch& a = arch_of("Qwen/Qwen3-8B");
  lora_config c;
  c.enabled = true;
  c.max_lora_rank = 32;
  EXPECT_EQ(lora_slot_bytes(a, c, ver("0.10.2"), 2, 0, 36, true, true, 16), 120324096u);
  // Fully sharded: lora_a of column layers [16, 4096], lora_b of row layers [2048, 32]:
  // qkv 3*16*4096 + 3072*32 = 294,912; o 32*2048 + 2048*32 = 131,072; gate_up
  // 2*(16*4096 + 6144*32) = 524,288; down 32*6144 + 2048*32 = 262,144; 1,212,416 x 36 x 2.
  c.fully_sharded = true;
  EXPECT_EQ(lora_slot_bytes(a, c, ver("0.10.2"), 2, 0, 36, true, true, 16), 87293952u);
  // float32 LoRA weights double the slots.
  c.fully_sharded = false;
  c.dtype_bits = 32;
  EXPECT_EQ(lora_slot_bytes(a, c, ver("0.10.2"), 2, 0, 36, true, true, 16), 2u * 120324096u);
}

nlohmann::json lora_request() {
  return {{"model_name", "meta-llama/Llama-3.2-1B"},
          {"max_seq_len", 2048},
          {"gpu", "L4"},
          {"dtype", "bfloat16"},
          {"vllm_version", "0.11.2"},
          {"max_num_seqs", 256}};
}

TEST(Lora, WeightsIncludeTheSlotsAndGraphsAreCapturedTwiceOnV1) {
  const estimate_result off = run(lora_request());
  auto body = lora_request();
  body["enable_lora"] = true;
  body["max_lora_rank"] = 32;
  const estimate_result on = run(body);
  EXPECT_EQ(on.startup.weights.lora, 64946176u);
  EXPECT_EQ(on.startup.weights.total(), off.startup.weights.total() + 64946176u);
  EXPECT_EQ(on.startup.kv_cache_bytes, off.startup.kv_cache_bytes - 64946176);
  // cudagraph_specialize_lora: every capture size with and without LoRA.
  EXPECT_EQ(on.startup.cuda_graphs, 2 * off.startup.cuda_graphs);
  EXPECT_NEAR(static_cast<double>(on.startup.cuda_graph_bytes),
              2.0 * static_cast<double>(off.startup.cuda_graph_bytes), 2.0);
  const auto j = to_json(on)["vllm_startup"];
  EXPECT_DOUBLE_EQ(j["lora_weights_gib"].get<double>(), 0.06);
  EXPECT_NE(
      j["vllm_args"].get<std::string>().find("--enable-lora --max-loras 1 --max-lora-rank 32"),
      std::string::npos);
  EXPECT_FALSE(to_json(off)["vllm_startup"].contains("lora_weights_gib"));
  // V0 captures one set.
  body["vllm_version"] = "0.8.5";
  body["vllm_engine"] = "v0";
  auto v0 = lora_request();
  v0["vllm_version"] = "0.8.5";
  v0["vllm_engine"] = "v0";
  EXPECT_EQ(run(body).startup.cuda_graphs, run(v0).startup.cuda_graphs);
}

TEST(Lora, SizesWithoutEnableLoraAreIgnoredBadValuesAre400s) {
  auto body = lora_request();
  body["max_loras"] = 4;  // vLLM ignores the sizes without --enable-lora
  EXPECT_EQ(run(body).startup.weights.lora, 0u);
  body["enable_lora"] = true;
  body["max_lora_rank"] = 24;
  error e = run_error(body);
  EXPECT_EQ(e.field, "max_lora_rank");
  EXPECT_NE(e.message.find("320"), std::string::npos) << e.message;
  body["max_lora_rank"] = 16;
  body["max_cpu_loras"] = 2;
  e = run_error(body);
  EXPECT_EQ(e.field, "max_cpu_loras");
  body.erase("max_cpu_loras");
  body["lora_dtype"] = "int8";
  e = run_error(body);
  EXPECT_EQ(e.field, "lora_dtype");
}

}  // namespace
}  // namespace vllm_mem::testing
