// config_json_test.cpp — config.json text as Python writes it: NaN, Infinity and -Infinity
// outside strings read as null (everywhere, or only inside one top-level member), strings and the
// rest of the document untouched, and such a config converts as if the value were absent.
#include <gtest/gtest.h>

#include "hub_support.hpp"
#include "vllm_mem/ingest/config_json.hpp"
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/util/json_limits.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

// tiny_qwen2_config() as Python writes it with the non-finite floats of a Mamba-style config.
std::string python_written_config() {
  std::string text = tiny_qwen2_config().dump();
  text.pop_back();  // the closing brace
  return text + R"(,"time_step_limit":[0.0,Infinity],"time_step_floor":-Infinity,"init_std":NaN})";
}

TEST(ConfigJson, NoTokenMeansNoCopy) {
  EXPECT_FALSE(python_nonfinite_to_null(R"({"a": 1.5, "b": [true, null]})"));
  // The words inside strings are not tokens.
  EXPECT_FALSE(python_nonfinite_to_null(R"({"NaN": "Infinity", "c": "-Infinity \" NaN"})"));
  EXPECT_FALSE(python_nonfinite_to_null(R"({"a": 1})", "hf_config"));
}

TEST(ConfigJson, TokensBecomeNullKeepingOffsets) {
  const auto out =
      python_nonfinite_to_null(R"({"a": Infinity, "b": [-Infinity, NaN], "c": "NaN"})");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, R"({"a": null    , "b": [null     , null], "c": "NaN"})");
  // Infinity and -Infinity keep their length, so a later parse error names the file's offset.
  const std::string bad = R"({"a": Infinity, "b": })";
  const auto relaxed = python_nonfinite_to_null(bad);
  ASSERT_TRUE(relaxed);
  EXPECT_EQ(relaxed->size(), bad.size());
  auto e = parse_config_json(bad);
  auto same_length = parse_json_strict(R"({"a": 12345678, "b": })");
  ASSERT_FALSE(e);
  ASSERT_FALSE(same_length);
  EXPECT_EQ(e.err().message, same_length.err().message);
}

TEST(ConfigJson, MemberScopeRelaxesOnlyThatTopLevelValue) {
  const std::string body =
      R"({"a": NaN, "hf_config": {"x": NaN, "y": [Infinity, {"z": -Infinity}]}, "b": -Infinity})";
  const auto out = python_nonfinite_to_null(body, "hf_config");
  ASSERT_TRUE(out);
  EXPECT_EQ(
      *out,
      R"({"a": NaN, "hf_config": {"x": null, "y": [null    , {"z": null     }]}, "b": -Infinity})");
  // A member of that name deeper down, or a top-level array, is not the scope.
  EXPECT_FALSE(python_nonfinite_to_null(R"({"m": {"hf_config": NaN}})", "hf_config"));
  EXPECT_FALSE(python_nonfinite_to_null(R"([{"hf_config": NaN}])", "hf_config"));
  // The scope ends with the member's value, whatever strings it holds.
  EXPECT_EQ(
      *python_nonfinite_to_null(R"({"hf_config": {"k": "}\"", "v": NaN}, "n": NaN})", "hf_config"),
      R"({"hf_config": {"k": "}\"", "v": null}, "n": NaN})");
}

TEST(ConfigJson, StrictParsingStillRejectsTheTokens) {
  EXPECT_FALSE(parse_json_strict(R"({"a": NaN})"));
  EXPECT_FALSE(parse_json_strict(R"({"a": Infinity})"));
  auto j = parse_config_json(R"({"a": NaN, "b": [1, -Infinity], "c": "NaN"})");
  ASSERT_TRUE(j) << j.err().message;
  EXPECT_TRUE((*j)["a"].is_null());
  EXPECT_TRUE((*j)["b"][1].is_null());
  EXPECT_EQ((*j)["c"], "NaN");
  // Tokens Python does not write stay errors.
  EXPECT_FALSE(parse_config_json(R"({"a": nan})"));
  EXPECT_FALSE(parse_config_json(R"({"a": +Infinity})"));
  EXPECT_FALSE(parse_config_json(R"({"a": -NaN})"));
}

TEST(ConfigJson, APythonWrittenConfigConvertsAsWithoutThoseValues) {
  auto j = parse_config_json(python_written_config());
  ASSERT_TRUE(j) << j.err().message;
  EXPECT_TRUE((*j)["time_step_limit"][1].is_null());
  auto with = convert_hf_config(*j, "hf_config.");
  auto without = convert_hf_config(tiny_qwen2_config(), "hf_config.");
  ASSERT_TRUE(with) << with.err().message;
  ASSERT_TRUE(without);
  EXPECT_EQ(with->canonical, without->canonical);
  // A value the converter reads, written as NaN, is absent: rope_theta takes the default.
  json cfg = tiny_qwen2_config();
  std::string text = cfg.dump();
  const std::string theta = "\"rope_theta\":1000000.0";
  ASSERT_NE(text.find(theta), std::string::npos) << text;
  text.replace(text.find(theta), theta.size(), "\"rope_theta\":NaN");
  auto nan_theta = parse_config_json(text);
  ASSERT_TRUE(nan_theta) << nan_theta.err().message;
  auto c = convert_hf_config(*nan_theta, "hf_config.");
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_FALSE(c->canonical.contains("rope_theta"));
}

}  // namespace
}  // namespace vllm_mem::testing
