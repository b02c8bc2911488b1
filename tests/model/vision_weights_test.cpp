// vision_weights_test.cpp — the vision tower and projector inside "Model loading took"
// (vllm-memory-model.md §10): a stated parameter count used as stated, the generic-ViT estimate
// when only the tower's shape is known, both in the model dtype, split across tensor-parallel
// ranks and held by the first pipeline stage only.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/model/weights.hpp"

namespace vllm_mem::testing {
namespace {

weight_bytes weights_of(const char* id, std::uint64_t tp, std::uint64_t pp = 1,
                        std::uint64_t pp_rank = 0) {
  weight_options opt;
  opt.shard.tp = tp;
  opt.shard.pp = pp;
  opt.shard.pp_rank = pp_rank;
  auto w = weights_per_rank(arch_of(id), opt);
  EXPECT_TRUE(w.ok()) << w.err().message;
  return w.ok() ? *w : weight_bytes{};
}

// Gemma 3 27B states its SigLIP tower and projector: 423,060,336 parameters, 2 bytes each in
// bfloat16; each of two tensor-parallel ranks holds half; the second pipeline stage none.
TEST(VisionWeights, StatedTowerSplitsAcrossTensorRanksOnTheFirstStage) {
  constexpr std::uint64_t kTowerBytes = 423060336ULL * 2;
  EXPECT_EQ(weights_of("google/gemma-3-27b-it", 1).vision, kTowerBytes);
  EXPECT_EQ(weights_of("google/gemma-3-27b-it", 2).vision, kTowerBytes / 2);
  EXPECT_EQ(weights_of("google/gemma-3-27b-it", 1, 2, 0).vision, kTowerBytes);
  EXPECT_EQ(weights_of("google/gemma-3-27b-it", 1, 2, 1).vision, 0u);
}

// Qwen3-VL 4B states only the tower's shape (24 layers, width 1024, MLP 4096, patch 16, text
// width 2560). Per layer 4h^2 + 2hi + 9h + i = 12,596,224; patch embedding 3 x 16^2 x 1024 =
// 786,432; projector h x H + H^2 = 9,175,040: 312,270,848 parameters, 624,541,696 B in bf16.
TEST(VisionWeights, GenericVitEstimateFromTheTowerShape) {
  const model_arch& a = arch_of("Qwen/Qwen3-VL-4B-Instruct");
  ASSERT_TRUE(a.vision);
  ASSERT_EQ(a.vision->params, 0u);
  ASSERT_EQ(a.hidden_size, 2560u);
  constexpr std::uint64_t kParams = 24ULL * 12596224 + 786432 + 9175040;
  EXPECT_EQ(weights_of("Qwen/Qwen3-VL-4B-Instruct", 1).vision, kParams * 2);
  // A text-only model has no tower.
  EXPECT_EQ(weights_of("Qwen/Qwen2.5-7B-Instruct", 1).vision, 0u);
}

// The same bytes reach the API's startup answer, inside the weights vLLM reports as loaded.
TEST(VisionWeights, TowerIsPartOfTheReportedModelLoading) {
  const estimate_result r = run({{"model_name", "google/gemma-3-27b-it"},
                                 {"max_seq_len", 4096},
                                 {"gpu", "H100-80GB"},
                                 {"tensor_parallel_size", 2}});
  EXPECT_EQ(r.startup.weights.vision, 423060336ULL);
  EXPECT_GT(r.startup.weights.total(), r.startup.weights.vision);
}

}  // namespace
}  // namespace vllm_mem::testing
