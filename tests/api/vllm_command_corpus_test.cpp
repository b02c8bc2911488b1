// vllm_command_corpus_test.cpp — the command reader against vLLM's own text: every flag of
// `vllm serve` (tests/data/vllm-serve-flags.json, read from vLLM's parser with each flag's effect
// on memory) is either a request field or listed with a reason, and a flag that changes memory is
// never listed as one that does not; and 30 real command lines from vLLM's docs and recipes
// (tests/data/vllm-commands.json, each with its source) set the fields written beside them, list
// the rest, and give the estimate of those fields.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "test_support.hpp"
#include "vllm_mem/api/vllm_command.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

json data_file(const char* name) {
  std::ifstream in(std::string(VLLM_MEM_SOURCE_DIR) + "/tests/data/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// The flags the reader listed, as written (the first word of each entry; no environment).
std::vector<std::string> listed_flags(const vllm_command& c) {
  std::vector<std::string> out;
  for (const auto& f : c.ignored) {
    if (f.flag.empty() || f.flag[0] != '-') continue;
    out.push_back(f.flag.substr(0, f.flag.find(' ')));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

TEST(VllmCommand, EveryFlagOfTheHelpIsKnown) {
  const json help = data_file("vllm-serve-flags.json");
  ASSERT_GE(help["flags"].size(), 250u);
  int checked = 0;
  for (const auto& f : help["flags"]) {
    for (const auto& n : f["names"]) {
      const std::string name = n.get<std::string>();
      if (name[0] != '-') continue;  // the positional model
      const bool takes = f["takes_value"].get<bool>();
      const std::string cmd = "vllm serve some/model " + name + (takes ? " 1" : "");
      auto c = parse_vllm_command(cmd, "vllm_command");
      ASSERT_TRUE(c.ok()) << cmd << ": " << c.err().message;
      ++checked;
      if (c->ignored.empty()) {  // a modelled field (--model replaces the positional)
        EXPECT_TRUE(c->fields.size() > 1 || c->fields["model_name"] == "1") << cmd;
        continue;
      }
      ASSERT_EQ(c->ignored.size(), 1u) << cmd;
      const std::string& reason = c->ignored[0].reason;
      EXPECT_FALSE(reason.empty()) << name;
      if (f["memory"] == "yes") {
        EXPECT_NE(reason, "does not change GPU memory") << name << " changes memory in vLLM";
      }
      // A boolean flag of vLLM's BooleanOptionalAction has its --no- form too.
      if (f["boolean_negatable"].get<bool>() && name.rfind("--", 0) == 0) {
        auto neg = parse_vllm_command("vllm serve m --no-" + name.substr(2), "vllm_command");
        EXPECT_TRUE(neg.ok()) << "--no-" << name.substr(2);
      }
    }
  }
  EXPECT_GE(checked, 300);
  // The environment vLLM reads: each is used or listed, none refused.
  for (const auto& e : help["env"]) {
    const std::string cmd = e["name"].get<std::string>() + "=1 vllm serve some/model";
    auto c = parse_vllm_command(cmd, "vllm_command");
    ASSERT_TRUE(c.ok()) << cmd << ": " << c.err().message;
    EXPECT_EQ(c->fields.size() + c->ignored.size(), 2u) << cmd;
  }
}

TEST(VllmCommand, ThirtyRealCommandLinesSetTheirFields) {
  const json corpus = data_file("vllm-commands.json");
  ASSERT_EQ(corpus["commands"].size(), 30u);
  for (const auto& c : corpus["commands"]) {
    const std::string id = c["id"].get<std::string>();
    ASSERT_TRUE(c["source"]["commit"].is_string()) << id << " has its source";
    auto parsed = parse_vllm_command(c["command"].get<std::string>(), "vllm_command");
    ASSERT_TRUE(parsed.ok()) << id << ": " << parsed.err().message;
    EXPECT_EQ(parsed->fields, c["fields"]) << id;
    std::vector<std::string> want = c["other_flags"].get<std::vector<std::string>>();
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    EXPECT_EQ(listed_flags(*parsed), want) << id;
  }
}

// Through the API: each command gives the answer of its fields (or the same refusal).
TEST(VllmCommand, ThirtyRealCommandLinesGiveTheEstimateOfTheirFields) {
  const json corpus = data_file("vllm-commands.json");
  for (const auto& c : corpus["commands"]) {
    const std::string id = c["id"].get<std::string>();
    json by_fields = c["fields"];
    if (!by_fields.contains("max_model_len"))
      by_fields["max_seq_len"] = 4096;
    else
      by_fields["max_seq_len"] = by_fields["max_model_len"];
    json by_command = {{"vllm_command", c["command"]}, {"gpu", "H100-80GB"}};
    if (!c["fields"].contains("max_model_len")) by_command["max_seq_len"] = 4096;
    by_fields["gpu"] = "H100-80GB";
    const http::response a = api_post("/estimate-gpu-memory", by_command.dump());
    const http::response b = api_post("/estimate-gpu-memory", by_fields.dump());
    ASSERT_EQ(a.status, b.status) << id << ": " << a.body.substr(0, 300) << " vs "
                                  << b.body.substr(0, 300);
    json ja = json::parse(a.body), jb = json::parse(b.body);
    if (a.status == 200) {
      EXPECT_TRUE(ja.contains("ignored_flags")) << id;
      for (const char* k : {"ignored_flags", "vllm_command"}) ja.erase(k);
    }
    EXPECT_EQ(ja, jb) << id;
  }
}

}  // namespace
}  // namespace vllm_mem::testing
