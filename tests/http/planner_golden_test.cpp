// planner_golden_test.cpp — POST /plan, /solve, /sweep and /placement answer the requests of
// tests/golden/planner byte for byte as recorded in its .out files (status, then body). The
// recorded answers come from the planner before its search was made faster (each setup decoded
// from a JSON body and resolved again); they guard the planner's restructurings, which must not
// change a single byte. A deliberate change of the figures (the model database, the GPU catalog,
// the startup model) changes them too: then record them again with
//   tests/golden/planner/answer.sh build/vllm-mem tests/golden/planner
// and review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

const fs::path& golden_dir() {
  static const fs::path d = fs::path(VLLM_MEM_SOURCE_DIR) / "tests" / "golden" / "planner";
  return d;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(golden_dir())) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(PlannerGolden, TheCorpusIsThere) { EXPECT_GE(case_names().size(), 40U); }

TEST(PlannerGolden, AnswersAreByteIdentical) {
  for (const auto& name : case_names()) {
    SCOPED_TRACE(name);
    const json c = json::parse(read_file(golden_dir() / (name + ".json")));
    const std::string expected = read_file(golden_dir() / (name + ".out"));
    ASSERT_FALSE(expected.empty()) << "no " << name << ".out";
    const auto r = api_post(c["route"].get<std::string>(), c["body"].dump());
    const std::string got = std::to_string(r.status) + "\n" + r.body;
    if (got == expected) continue;
    // The first difference, with some context, rather than two bodies of up to 300 kB.
    const auto diff = std::mismatch(got.begin(), got.end(), expected.begin(), expected.end());
    const auto at = static_cast<std::size_t>(diff.first - got.begin());
    const std::size_t from = at > 120 ? at - 120 : 0;
    ADD_FAILURE() << "differs at byte " << at << " (got " << got.size() << " bytes, expected "
                  << expected.size() << ")\n got: ..." << got.substr(from, 240) << "\nwant: ..."
                  << expected.substr(from, 240);
  }
}

}  // namespace
}  // namespace vllm_mem::testing
