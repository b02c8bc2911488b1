// --cpu-offload-gb: decoder-layer parameters moved to host memory until the budget is reached
// (vLLM maybe_offload_to_cpu), what stays on the GPU, the flag in commands, bad values.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/api/estimate_json.hpp"

namespace vllm_mem::testing {
namespace {

using nlohmann::json;

json llama_on_4080(double offload_gib) {
  json body = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
               {"max_seq_len", 8192},
               {"gpu", "RTX-4080"},
               {"vllm_version", "0.19.0"}};
  if (offload_gib > 0) body["cpu_offload_gb"] = offload_gib;
  return body;
}

TEST(CpuOffload, MovesThatManyGibOfDecoderWeights) {
  const estimate_result none = run(llama_on_4080(0));
  const estimate_result four = run(llama_on_4080(4));
  // 4 x 2^30 bytes leave the GPU ("Model loading took" drops by them), and the KV cache grows
  // by the same amount: the profile and the other terms do not change.
  EXPECT_EQ(four.startup.weights.cpu_offload, 4ULL << 30);
  EXPECT_EQ(none.startup.weights.total() - four.startup.weights.total(), 4ULL << 30);
  EXPECT_EQ(four.startup.kv_cache_bytes - none.startup.kv_cache_bytes,
            static_cast<std::int64_t>(4ULL << 30));
  const json j = to_json(four);
  EXPECT_DOUBLE_EQ(j["vllm_startup"]["cpu_offload_gib"].get<double>(), 4.0);
  EXPECT_NE(j["vllm_startup"]["vllm_args"].get<std::string>().find("--cpu-offload-gb 4"),
            std::string::npos);
  EXPECT_FALSE(to_json(none)["vllm_startup"].contains("cpu_offload_gib"));
}

TEST(CpuOffload, EmbeddingsAndLmHeadStayOnTheGpu) {
  // More than the model: only the 32 decoder layers move; embed_tokens and lm_head
  // (2 x 128256 x 4096 x 2 B) and the final norm stay, with the buffers.
  const estimate_result all = run(llama_on_4080(100));
  const weight_bytes& w = all.startup.weights;
  EXPECT_EQ(w.cpu_offload,
            w.attention + w.dense_mlp + w.experts + w.shared_experts + w.router + w.norms);
  EXPECT_EQ(w.total(), w.embedding + w.lm_head + w.vision + w.buffers);
  EXPECT_EQ(w.embedding, 128256ULL * 4096 * 2);
}

TEST(CpuOffload, TheFlagAndItsErrors) {
  const json cmd = {
      {"vllm_command",
       "vllm serve meta-llama/Llama-3.1-8B-Instruct --max-model-len 8192 --cpu-offload-gb 2.5"},
      {"gpu", "RTX-4080"}};
  const estimate_result r = run(cmd);
  EXPECT_EQ(r.deploy.cpu_offload_bytes, static_cast<std::uint64_t>(2.5 * (1ULL << 30)));
  for (const json& bad : {json(-1), json("4"), json(1e9)}) {
    json body = llama_on_4080(0);
    body["cpu_offload_gb"] = bad;
    const error e = run_error(body);
    EXPECT_EQ(e.field, "cpu_offload_gb") << bad.dump();
  }
}

}  // namespace
}  // namespace vllm_mem::testing
