// hub_cli_test.cpp — the built vllm-mem with --hf-config, --model-dir, the Hugging Face cache and
// a stand-in Hub on 127.0.0.1 (HF_ENDPOINT), each run with its own temporary HF_HOME.
#include <gtest/gtest.h>

#include "hub_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kTinyParams = 110640128;  // hand-checked in hf_config_test.cpp
constexpr std::uint64_t kTinyKvPerToken = 4096;

json parse_out(const cli_result& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

TEST(CliHub, HfConfigFileGivesHandCheckedCounts) {
  temp_dir d;
  write_file(d.path() / "config.json", tiny_qwen2_config().dump());
  const json out = parse_out(run_cli("HF_HOME=" + d.path().string(),
                                     "estimate --hf-config " + (d.path() / "config.json").string() +
                                         " --model acme/tiny-qwen --max-seq-len 2048 --json"));
  EXPECT_EQ(out["model_source"], "hf_config");
  EXPECT_EQ(out["parameters"]["total"].get<std::uint64_t>(), kTinyParams);
  EXPECT_EQ(out["components_bytes"]["kv_cache_per_token"].get<std::uint64_t>(), kTinyKvPerToken);
  // A broken config: message naming the field, exit 2, nothing on stdout.
  json bad = tiny_qwen2_config();
  bad.erase("vocab_size");
  write_file(d.path() / "bad.json", bad.dump());
  const auto r = run_cli(
      "", "estimate --hf-config " + (d.path() / "bad.json").string() + " --max-seq-len 2048");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("hf_config.vocab_size"), std::string::npos) << r.err;
}

TEST(CliHub, ModelDirReportsTheExactByteTotal) {
  temp_dir d;
  const fs::path m = d.path() / "tiny-qwen";
  write_file(m / "config.json", tiny_qwen2_config().dump());
  const std::vector<fake_tensor> a = {
      {"model.embed_tokens.weight", "BF16", {32000, 1024}},
      {"model.layers.0.mlp.down_proj.weight", "BF16", {1024, 2816}}};
  const std::vector<fake_tensor> b = {{"lm_head.weight", "BF16", {32000, 1024}},
                                      {"model.norm.weight", "F32", {1024}}};
  write_file(m / "model-00001-of-00002.safetensors", safetensors_bytes(a));
  write_file(m / "model-00002-of-00002.safetensors", safetensors_bytes(b));
  json index{{"metadata", {{"total_size", tensor_bytes(a) + tensor_bytes(b)}}},
             {"weight_map", json::object()}};
  for (const auto& t : a) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : b) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  write_file(m / "model.safetensors.index.json", index.dump());
  const std::uint64_t exact = tensor_bytes(a) + tensor_bytes(b);
  const json out = parse_out(
      run_cli("HF_HOME=" + d.path().string(),
              "estimate --model-dir " + m.string() + " --max-seq-len 2048 --dtype auto --json"));
  EXPECT_EQ(out["model_name"], "tiny-qwen");
  EXPECT_EQ(out["model_source"], "safetensors");
  EXPECT_EQ(out["checkpoint"]["total_bytes"].get<std::uint64_t>(), exact);
  EXPECT_EQ(out["checkpoint"]["bytes_per_dtype"]["F32"].get<std::uint64_t>(), 4096U);
  EXPECT_EQ(out["components_bytes"]["model_params"].get<std::uint64_t>(), exact);
  // The table says it too.
  const auto table = run_cli("", "estimate --model-dir " + m.string() + " --max-seq-len 2048");
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("checkpoint:"), std::string::npos) << table.out;
}

TEST(CliHub, TheHuggingFaceCacheComesBeforeTheDatabase) {
  temp_dir home;
  // A cached snapshot of a database model whose config says something else.
  const fs::path repo = home.path() / "hub" / "models--Qwen--Qwen2.5-7B";
  write_file(repo / "refs" / "main", "abc123");
  write_file(repo / "snapshots" / "abc123" / "config.json", tiny_qwen2_config().dump());
  const json out = parse_out(run_cli("HF_HOME=" + home.path().string(),
                                     "estimate --model Qwen/Qwen2.5-7B --max-seq-len 2048 --json"));
  EXPECT_EQ(out["model_source"], "hf_config");
  EXPECT_EQ(out["parameters"]["total"].get<std::uint64_t>(), kTinyParams);
  EXPECT_NE(out["model_origin"].get<std::string>().find("Hugging Face cache"), std::string::npos);
  // A cached config the calculator cannot read does not hide the database's entry.
  const fs::path mpt = home.path() / "hub" / "models--mosaicml--mpt-7b";
  write_file(mpt / "snapshots" / "0" / "config.json", json{{"model_type", "mpt"}}.dump());
  const json m = parse_out(run_cli("HF_HOME=" + home.path().string(),
                                   "estimate --model mosaicml/mpt-7b --max-seq-len 2048 --json"));
  EXPECT_EQ(m["model_source"], "database");
  // HF_HUB_CACHE points elsewhere: the database answers.
  const json db = parse_out(run_cli(
      "HF_HOME=" + home.path().string() + " HF_HUB_CACHE=" + (home.path() / "empty").string(),
      "estimate --model Qwen/Qwen2.5-7B --max-seq-len 2048 --json"));
  EXPECT_EQ(db["model_source"], "database");
}

TEST(CliHub, ResolvesFromTheStandInHubCachesAndWorksOffline) {
  stand_in_hub hub;
  temp_dir home;
  hub.set_json("/acme/some-model/resolve/main/config.json", tiny_qwen2_config());
  hub.set_json(
      "/api/models/acme/some-model",
      {{"id", "acme/some-model"},
       {"safetensors", {{"parameters", {{"BF16", kTinyParams}}}, {"total", kTinyParams}}}});
  // No --hub: the CLI looks an unknown id up by default, as vLLM does.
  const std::string env =
      "HF_HUB_OFFLINE=0 HF_ENDPOINT=" + hub.endpoint() + " HF_HOME=" + home.path().string();
  const std::string args =
      "estimate --model acme/some-model --max-seq-len 2048 --dtype auto --json";
  const json out = parse_out(run_cli(env, args));
  EXPECT_EQ(out["model_source"], "safetensors");
  EXPECT_EQ(out["parameters"]["total"].get<std::uint64_t>(), kTinyParams);
  EXPECT_EQ(out["components_bytes"]["model_params"].get<std::uint64_t>(), 2 * kTinyParams);
  EXPECT_EQ(out["model_origin"], hub.endpoint() + "/acme/some-model");
  const auto fetched = hub.requests().size();
  EXPECT_GE(fetched, 2U);
  // Again, offline: served from vllm-mem's cache, no request.
  const json again = parse_out(run_cli(env + " HF_HUB_OFFLINE=1", args));
  EXPECT_EQ(again["model_source"], "safetensors");
  EXPECT_EQ(again["components_bytes"]["model_params"].get<std::uint64_t>(), 2 * kTinyParams);
  EXPECT_EQ(hub.requests().size(), fetched);
  // Offline and not cached: answered from the name; with --hub, a clear message and exit 1.
  const json named = parse_out(run_cli(env + " HF_HUB_OFFLINE=1",
                                       "estimate --model acme/other-7b --max-seq-len 2048 --json"));
  EXPECT_EQ(named["model_source"], "name_estimate");
  const auto off = run_cli(env + " HF_HUB_OFFLINE=1",
                           "estimate --hub --model acme/other-model --max-seq-len 2048");
  EXPECT_EQ(off.exit_code, 1);
  EXPECT_NE(off.err.find("HF_HUB_OFFLINE=1"), std::string::npos) << off.err;
  // --offline is HF_HUB_OFFLINE=1 on the command line.
  const json flag =
      parse_out(run_cli(env, "estimate --offline --model acme/other-7b --max-seq-len 2048 --json"));
  EXPECT_EQ(flag["model_source"], "name_estimate");
  EXPECT_EQ(hub.requests().size(), fetched);
}

TEST(CliHub, GatedAndMissingModelsGiveClearMessages) {
  stand_in_hub hub;
  temp_dir home;
  stand_in_hub::route gated;
  gated.body = tiny_qwen2_config().dump();
  gated.required_token = "hf_token_of_test";
  hub.set("/acme/gated-model/resolve/main/config.json", gated);
  const std::string env =
      "HF_HUB_OFFLINE=0 HF_ENDPOINT=" + hub.endpoint() + " HF_HOME=" + home.path().string();
  const auto g = run_cli(env, "estimate --hub --model acme/gated-model --max-seq-len 2048");
  EXPECT_EQ(g.exit_code, 1);
  EXPECT_TRUE(g.out.empty());
  EXPECT_NE(g.err.find("gated"), std::string::npos) << g.err;
  EXPECT_NE(g.err.find("HF_TOKEN"), std::string::npos) << g.err;
  // Without --hub the failure is said on stderr and the answer comes from the name.
  const auto soft = run_cli(env, "estimate --model acme/gated-model --max-seq-len 2048 --json");
  EXPECT_EQ(soft.exit_code, 0) << soft.err;
  EXPECT_EQ(parse_out(soft)["model_source"], "default_estimate");  // no size in the name
  EXPECT_NE(soft.err.find("HF_TOKEN"), std::string::npos) << soft.err;
  const json ok = parse_out(run_cli(env + " HF_TOKEN=hf_token_of_test",
                                    "estimate --model acme/gated-model --max-seq-len 2048 --json"));
  EXPECT_EQ(ok["model_source"], "hf_config");
  const auto m = run_cli(env, "estimate --hub --model acme/no-such-model --max-seq-len 2048");
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_NE(m.err.find("was not found on " + hub.endpoint()), std::string::npos) << m.err;
  const auto missing = run_cli(env, "estimate --model acme/no-such-7b --max-seq-len 2048 --json");
  EXPECT_EQ(missing.exit_code, 0) << missing.err;
  EXPECT_NE(missing.err.find("was not found"), std::string::npos) << missing.err;
}

TEST(CliHub, AnUnreachableHubIsSaidAndTheAnswerComesOffline) {
  temp_dir home;
  // Port 9 (discard) on the loopback: nothing listens, the connection is refused at once.
  const std::string env =
      "HF_HUB_OFFLINE=0 HF_ENDPOINT=http://127.0.0.1:9 HF_HOME=" + home.path().string();
  const auto r = run_cli(env, "estimate --model acme/unknown-7b --max-seq-len 2048 --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_out(r)["model_source"], "name_estimate");
  EXPECT_NE(r.err.find("note: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--offline"), std::string::npos) << r.err;
  // A database model never asks the Hub.
  const auto db = run_cli(env, "estimate --model Qwen/Qwen2.5-7B --max-seq-len 2048 --json");
  EXPECT_EQ(db.exit_code, 0) << db.err;
  EXPECT_EQ(db.err, "");
  EXPECT_EQ(parse_out(db)["model_source"], "database");
  // With --hub it is an error.
  const auto strict =
      run_cli(env, "estimate --hub --model acme/unknown-7b --max-seq-len 2048 --json");
  EXPECT_EQ(strict.exit_code, 1);
}

TEST(CliHub, WithoutHubAccessUnknownNamesAreEstimatedAsBefore) {
  temp_dir home;
  const json out = parse_out(run_cli("HF_HOME=" + home.path().string(),
                                     "estimate --model acme/unknown-7b --max-seq-len 2048 --json"));
  EXPECT_EQ(out["model_source"], "name_estimate");
  // A bad HF_ENDPOINT is a usage error.
  const auto bad = run_cli("HF_ENDPOINT=ftp://x HF_HOME=" + home.path().string(),
                           "estimate --model acme/unknown-7b --max-seq-len 2048");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("HF_ENDPOINT"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace vllm_mem::testing
