// accuracy_test.cpp — pins the startup model's accuracy on the dev cases (a regression fails the
// build). The cases are tests/data/vllm-startup-cases.dev.json, a copy of the ground truth.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "test_support.hpp"
#include "vllm_mem/api/accuracy.hpp"
#include "vllm_mem/ingest/arch_json.hpp"

namespace vllm_mem::testing {
namespace {

const accuracy_report& report() {
  static const accuracy_report rep = [] {
    std::ifstream in(std::string(VLLM_MEM_SOURCE_DIR) + "/tests/data/vllm-startup-cases.dev.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto cases = nlohmann::json::parse(ss.str(), nullptr, false);
    EXPECT_FALSE(cases.is_discarded());
    auto r = score_cases(cases, cats());
    EXPECT_TRUE(r.ok());
    return *r;
  }();
  return rep;
}

TEST(DevCases, SummaryMeetsTheTargetsAndDoesNotRegress) {
  const accuracy_summary& s = report().summary;
  EXPECT_EQ(s.cases, 49u);
  EXPECT_GE(s.coverage, 48.0 / 49.0);
  // Issue 3's targets, and tighter pins at today's values (so a regression fails even inside
  // the targets).
  ASSERT_TRUE(s.weights_rel_median && s.weights_rel_p90);
  EXPECT_LE(*s.weights_rel_median, 0.002);
  EXPECT_LE(*s.weights_rel_p90, 0.01);
  ASSERT_TRUE(s.tokens_rel_median && s.tokens_rel_p90);
  EXPECT_LE(*s.tokens_rel_median, 0.005);
  EXPECT_LE(*s.tokens_rel_p90, 0.04);
  ASSERT_TRUE(s.activation_abs_median_gib);
  EXPECT_LE(*s.activation_abs_median_gib, 0.06);
  // p90 is row 36's: its case fills in max_num_seqs 256 where the log's capture sizes [2, 1]
  // show a tiny max_num_seqs, so its sampler is over-counted (docs/accuracy.md).
  EXPECT_LE(*s.activation_abs_p90_gib, 0.40);
  EXPECT_LE(*s.kv_gib_abs_median, 0.1);
  EXPECT_GE(s.weights_n, 40u);
  EXPECT_GE(s.tokens_n, 30u);
}

TEST(DevCases, StartVerdictsDifferOnlyOnTheInconsistentCases) {
  // Rows 15, 17, 18 and 19: the cases' requests carry values the logs did not state (a default
  // max_model_len of 131072 for rows 15/17/18, gpu_memory_utilization 0.9 for row 19) and with
  // those values vLLM refuses to start by its own rules, even with the logged figures (see
  // docs/accuracy.md). Every other verdict must match.
  const std::set<std::string> inconsistent = {"row-15", "row-17", "row-18", "row-19"};
  for (const auto& r : report().rows) {
    if (!r.covered || !r.expected.contains("fits")) continue;
    const bool same = r.predicted["fits"].get<bool>() == r.expected["fits"].get<bool>();
    EXPECT_EQ(same, inconsistent.count(r.id) == 0) << r.id << " " << r.model;
  }
}

TEST(DevCases, Row19IsInconsistentWithItsOwnLoggedFigures) {
  // weights 64.38 + activation 7.38 + non-torch 0.13 = 71.89 GiB > 0.9 x 79.18 = 71.26 GiB.
  EXPECT_GT(64.38 + 7.38 + 0.13, 0.9 * 79.18);
}

}  // namespace
}  // namespace vllm_mem::testing
