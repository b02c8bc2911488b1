// python_config_test.cpp — a config.json holding Python's NaN / Infinity / -Infinity is read
// wherever a config is read (hf_config in a request, --hf-config, a model folder, the Hub and
// vllm-mem's cache of it), while the rest of a request body stays strict JSON.
#include <gtest/gtest.h>

#include "hub.hpp"
#include "hub_support.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kTinyParams = 110640128;  // hand-checked in hf_config_test.cpp

// tiny_qwen2_config() with a Mamba-style time_step_limit as Python's json.dump writes it.
std::string python_written_config() {
  std::string text = tiny_qwen2_config().dump();
  text.pop_back();  // the closing brace
  return text + R"(,"time_step_limit":[0.0,Infinity],"init_std":NaN})";
}

std::string estimate_body(const std::string& config_text, const std::string& more = "") {
  return R"({"model_name": "acme/tiny-qwen", "max_seq_len": 2048, "hf_config": )" + config_text +
         more + "}";
}

TEST(PythonConfig, HfConfigInARequestMayHoldNonFiniteFloats) {
  const auto res = api_post("/estimate-gpu-memory", estimate_body(python_written_config()));
  ASSERT_EQ(res.status, 200) << res.body;
  const json out = json::parse(res.body);
  EXPECT_EQ(out["model_source"], "hf_config");
  EXPECT_EQ(out["parameters"]["total"].get<std::uint64_t>(), kTinyParams);
}

TEST(PythonConfig, TheRestOfTheRequestBodyStaysStrict) {
  for (const std::string& body : std::vector<std::string>{
           estimate_body(python_written_config(), R"(, "gpu_memory_utilization": NaN)"),
           R"({"max_seq_len": Infinity, "model_name": "acme/tiny-qwen", "hf_config": )" +
               python_written_config() + "}",
           R"({"model_name": "acme/tiny-qwen", "max_seq_len": -Infinity})"}) {
    const auto res = api_post("/estimate-gpu-memory", body);
    EXPECT_EQ(res.status, 400) << body;
    EXPECT_NE(json::parse(res.body)["detail"].get<std::string>().find("malformed JSON"),
              std::string::npos)
        << res.body;
  }
}

TEST(PythonConfig, ConfigFilesAndModelFoldersMayHoldNonFiniteFloats) {
  temp_dir d;
  write_file(d.path() / "config.json", python_written_config());
  auto cfg = hub::read_config_file(d.path() / "config.json");
  ASSERT_TRUE(cfg) << cfg.err().message;
  EXPECT_TRUE((*cfg)["time_step_limit"][1].is_null());
  auto m = hub::read_model_dir(d.path());
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->config["hidden_size"], 1024);
  // Other JSON files stay strict.
  write_file(d.path() / "other.json", R"({"a": NaN})");
  EXPECT_FALSE(hub::read_json_file(d.path() / "other.json", 1 << 20));
  // The CLI end to end.
  const auto r = run_cli("HF_HOME=" + d.path().string(),
                         "estimate --hf-config " + (d.path() / "config.json").string() +
                             " --model acme/tiny-qwen --max-seq-len 2048 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["parameters"]["total"].get<std::uint64_t>(), kTinyParams);
}

TEST(PythonConfig, TheHubsConfigMayHoldNonFiniteFloats) {
  stand_in_hub hub;
  temp_dir home;
  stand_in_hub::route config;
  config.body = python_written_config();
  hub.set("/acme/py-config/resolve/main/config.json", config);
  hub.set_json(
      "/api/models/acme/py-config",
      {{"id", "acme/py-config"},
       {"gated", false},
       {"safetensors", {{"parameters", {{"BF16", kTinyParams}}}, {"total", kTinyParams}}}});
  hub::hub_options o;
  o.endpoint = hub.endpoint();
  o.network = true;
  o.hf_cache = home.path() / "hub";
  o.cache_dir = home.path() / "vllm-mem";
  auto m = hub::model_locator(o).locate("acme/py-config");
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_TRUE(m->config["time_step_limit"][1].is_null());
  // vllm-mem's cache keeps the file as fetched and reads it back the same way.
  o.offline = true;
  auto again = hub::model_locator(o).locate("acme/py-config");
  ASSERT_TRUE(again) << again.err().message;
  EXPECT_EQ(again->config, m->config);
}

}  // namespace
}  // namespace vllm_mem::testing
