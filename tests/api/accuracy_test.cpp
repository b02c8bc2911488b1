// accuracy_test.cpp — pins the startup model's accuracy on the dev cases (a regression fails the
// build). The cases are tests/data/vllm-startup-cases.dev.json, a copy of the ground truth.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "test_support.hpp"
#include "vllm_mem/api/accuracy.hpp"
#include "vllm_mem/ingest/arch_json.hpp"

namespace vllm_mem::testing {
namespace {

accuracy_report score_file(const char* name) {
  std::ifstream in(std::string(VLLM_MEM_SOURCE_DIR) + "/tests/data/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cases = nlohmann::json::parse(ss.str(), nullptr, false);
  EXPECT_FALSE(cases.is_discarded()) << name;
  auto r = score_cases(cases, cats());
  EXPECT_TRUE(r.ok()) << name;
  return *r;
}

const accuracy_report& report() {
  static const accuracy_report rep = score_file("vllm-startup-cases.dev.json");
  return rep;
}

const case_row& row_of(const accuracy_report& rep, const std::string& id) {
  for (const auto& r : rep.rows) {
    if (r.id == id) return r;
  }
  ADD_FAILURE() << "no row " << id;
  std::abort();
}

double rel_error(const case_row& r, const char* key) {
  const double logged = r.expected[key].get<double>();
  return std::fabs(r.predicted[key].get<double>() - logged) / logged;
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

// Set 2 (tests/data/vllm-startup-cases.dev2.json, a verbatim copy of the shared file): 18
// startups from other sources. Pinned at today's values so it cannot get worse (issue 13: before
// this work weights 0.018 / 0.046, KV tokens 0.063 / 0.162, fits 0.941).
TEST(Dev2Cases, SummaryDoesNotRegress) {
  static const accuracy_report rep = score_file("vllm-startup-cases.dev2.json");
  const accuracy_summary& s = rep.summary;
  EXPECT_EQ(s.cases, 18u);
  EXPECT_GE(s.coverage, 17.0 / 18.0);
  ASSERT_TRUE(s.weights_rel_median && s.weights_rel_p90);
  EXPECT_LE(*s.weights_rel_median, 0.019);
  EXPECT_LE(*s.weights_rel_p90, 0.046);
  ASSERT_TRUE(s.tokens_rel_median && s.tokens_rel_p90);
  EXPECT_LE(*s.tokens_rel_median, 0.051);
  EXPECT_LE(*s.tokens_rel_p90, 0.109);
  ASSERT_TRUE(s.activation_abs_median_gib);
  EXPECT_LE(*s.activation_abs_median_gib, 0.05);
  ASSERT_TRUE(s.fits_accuracy);
  EXPECT_DOUBLE_EQ(*s.fits_accuracy, 1.0);  // row 1039 starts (V0 0.5.5 checks all blocks)
  // The bare totals 14.56 (row 1030) and 22.16 (row 1039) are within 2% of only PCIe cards
  // (T4; L4, A10G, A10): the PCIe term, not NVLink's 2.05 GiB.
  EXPECT_NEAR(row_of(rep, "row-1030").predicted["non_torch_gib"].get<double>(), 0.27, 0.01);
  EXPECT_LE(rel_error(row_of(rep, "row-1039"), "kv_cache_tokens"), 0.03);
}

// The set-2 cases whose inputs only their notes state, with those inputs as request fields
// (tests/data/README.md says which): LoRA rows 1011, 1018, 1020 and the PCIe rows 1030, 1039.
TEST(Dev2StatedCases, LoraWeightsAndPcieNonTorchFollowTheStatedInputs) {
  static const accuracy_report rep = score_file("vllm-startup-cases.dev2-stated.json");
  EXPECT_EQ(rep.summary.cases, 5u);
  EXPECT_DOUBLE_EQ(rep.summary.coverage, 1.0);
  // "Model loading took" with the LoRA slots: 1.47 / 1.4721, 8.97 / 8.9638, 7.79 / 7.8 (before:
  // 1.41, 8.80, 7.50: errors 4.2%, 1.8%, 3.8%).
  EXPECT_LE(rel_error(row_of(rep, "row-1011"), "weights_gib"), 0.002);
  EXPECT_LE(rel_error(row_of(rep, "row-1018"), "weights_gib"), 0.001);
  EXPECT_LE(rel_error(row_of(rep, "row-1020"), "weights_gib"), 0.002);
  // V1 0.10.2 captures the graphs with and without LoRA: 1.07 / 1.12 (before 0.53).
  EXPECT_NEAR(row_of(rep, "row-1018").predicted["cuda_graph_gib"].get<double>(), 1.12, 0.06);
  // PCIe: non-torch 0.27 / 0.11 at TP 8 on T4s (before 2.05); row 1039's KV tokens 150112 /
  // 154400 (before 129328, -16%).
  EXPECT_NEAR(row_of(rep, "row-1030").predicted["non_torch_gib"].get<double>(), 0.11, 0.17);
  EXPECT_LE(rel_error(row_of(rep, "row-1039"), "kv_cache_tokens"), 0.03);
  for (const auto& r : rep.rows) {
    EXPECT_EQ(r.predicted["fits"], r.expected["fits"]) << r.id;
  }
}

}  // namespace
}  // namespace vllm_mem::testing

namespace vllm_mem::testing {
namespace {

// A cases file is the user's: fields of the wrong type are an error naming the problem.
TEST(Accuracy, ACaseFieldOfTheWrongTypeIsAnErrorNotACrash) {
  const auto cases = nlohmann::json::parse(
      R"([{"id": 5, "request": {"model_name": "Qwen/Qwen3-8B", "max_seq_len": 2048,
            "gpu": "L4"}, "expected": {"weights_gib": "x"}}])");
  const auto r = score_cases(cases, cats());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, error_code::invalid_argument);
  EXPECT_NE(r.err().message.find("wrong type"), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace vllm_mem::testing
