// v0_pipeline_check_test.cpp — V0 before 0.6.4 checks max_model_len against all KV blocks, not a
// pipeline stage's share (raise_if_cache_size_invalid's 3-argument form), so a PP engine whose
// per-stage share is too short still starts (row 1039).
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/vllm/startup.hpp"

namespace vllm_mem::testing {
namespace {

vllm_profile profile(const char* version) {
  auto v = parse_vllm_version(version, "vllm_version");
  auto p = make_profile(*v, engine_kind::v0);
  EXPECT_TRUE(p.ok());
  return *p;
}

TEST(V0PipelineCheck, BoundaryAt064) {
  EXPECT_FALSE(profile("0.5.5").v0_check_splits_blocks_by_pp);
  EXPECT_FALSE(profile("0.6.3").v0_check_splits_blocks_by_pp);
  EXPECT_TRUE(profile("0.6.4").v0_check_splits_blocks_by_pp);
  EXPECT_TRUE(profile("0.10.1").v0_check_splits_blocks_by_pp);
}

TEST(V0PipelineCheck, AllBlocksBefore064StageShareAfter) {
  const model_arch& a = arch_of("mistralai/Mistral-Nemo-Base-2407");
  deployment d;
  d.gpu_total_bytes = static_cast<std::uint64_t>(22.16 * kGiB);
  d.profile = profile("0.5.5");
  d.pp = 2;
  d.max_num_seqs = 256;
  d.max_num_batched_tokens = 512;
  d.max_model_len = 4096;
  d.quant = parse_quantization("fp8").value();
  auto base = simulate_startup(a, d);
  ASSERT_TRUE(base.ok());
  const std::uint64_t blocks = base->num_gpu_blocks;
  ASSERT_GT(blocks, 1000u);
  // A length above one stage's share (blocks / 2 * 16) but within all blocks (blocks * 16).
  d.max_model_len = blocks / 2 * 16 + 16;
  auto old_rule = simulate_startup(a, d);
  ASSERT_TRUE(old_rule.ok());
  EXPECT_TRUE(old_rule->fits);
  EXPECT_EQ(old_rule->max_model_len_fit, blocks * 16);
  d.profile.v0_check_splits_blocks_by_pp = true;
  auto new_rule = simulate_startup(a, d);
  ASSERT_TRUE(new_rule.ok());
  EXPECT_FALSE(new_rule->fits);
  EXPECT_EQ(new_rule->max_model_len_fit, blocks / 2 * 16);
  EXPECT_NE(new_rule->error.find("(" + std::to_string(blocks / 2 * 16) + ")"), std::string::npos)
      << new_rule->error;
}

}  // namespace
}  // namespace vllm_mem::testing
