// hub_test.cpp — model folders, the Hugging Face cache, vllm-mem's cache and a stand-in Hub on
// 127.0.0.1 (nothing here needs the internet), and the router's use of a lookup.
#include <gtest/gtest.h>

#include "../http/router.hpp"
#include "hub.hpp"
#include "hub_support.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kTinyParams = 110640128;  // hand-checked in hf_config_test.cpp

std::vector<fake_tensor> shard(int first_layer, int layers) {
  std::vector<fake_tensor> t;
  for (int i = first_layer; i < first_layer + layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.push_back({p + "self_attn.qkv.weight", "BF16", {1536, 1024}});
    t.push_back({p + "mlp.down_proj.weight", "F8_E4M3", {1024, 2816}});
    t.push_back({p + "mlp.down_proj.weight_scale", "F32", {1024}});
  }
  return t;
}

hub::hub_options options_for(const temp_dir& home, const std::string& endpoint) {
  hub::hub_options o;
  o.endpoint = endpoint;
  o.network = true;
  o.hf_cache = home.path() / "hub";
  o.cache_dir = home.path() / "vllm-mem";
  o.connect_timeout_ms = 2000;
  o.total_timeout_ms = 5000;
  return o;
}

// A repository on the stand-in: config.json and the API's per-dtype counts.
void publish(stand_in_hub& hub, const std::string& id, const json& config,
             std::optional<std::uint64_t> bf16_params = kTinyParams) {
  hub.set_json("/" + id + "/resolve/main/config.json", config);
  json info{{"id", id}, {"gated", false}};
  if (bf16_params) {
    info["safetensors"] = {{"parameters", {{"BF16", *bf16_params}}}, {"total", *bf16_params}};
  }
  hub.set_json("/api/models/" + id, info);
}

// ---------------------------------------------------------------------------------------------
// Local model folders

TEST(ModelDir, ShardsGiveTheExactTotalFromTheirHeaders) {
  temp_dir d;
  write_file(d.path() / "config.json", tiny_qwen2_config().dump());
  const auto a = shard(0, 2), b = shard(2, 2);
  write_file(d.path() / "model-00001-of-00002.safetensors", safetensors_bytes(a));
  write_file(d.path() / "model-00002-of-00002.safetensors", safetensors_bytes(b));
  json index{{"metadata", {{"total_size", 1}}}, {"weight_map", json::object()}};
  for (const auto& t : a) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : b) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  write_file(d.path() / "model.safetensors.index.json", index.dump());
  // A consolidated file beside HF shards is not part of the checkpoint vLLM loads.
  write_file(d.path() / "consolidated.safetensors", safetensors_bytes(shard(0, 1)));
  auto m = hub::read_model_dir(d.path());
  ASSERT_TRUE(m) << m.err().message;
  ASSERT_TRUE(m->safetensors);
  EXPECT_EQ(m->safetensors->total_bytes, tensor_bytes(a) + tensor_bytes(b));
  EXPECT_EQ(m->safetensors->bytes_per_dtype.at("F8_E4M3"), 4U * 1024 * 2816);
  EXPECT_EQ(m->safetensors->bytes_per_dtype.at("BF16"), 4U * 1536 * 1024 * 2);
  EXPECT_EQ(m->safetensors->files, 2U);
  EXPECT_EQ(m->config["model_type"], "qwen2");
}

TEST(ModelDir, WithoutAnIndexEverySafetensorsFileCounts) {
  temp_dir d;
  write_file(d.path() / "config.json", tiny_qwen2_config().dump());
  const auto a = shard(0, 4);
  // Layer 4 of a 4-layer model: a multi-token-prediction layer vLLM does not load.
  const auto mtp = shard(4, 1);
  write_file(d.path() / "model.safetensors", safetensors_bytes(a));
  write_file(d.path() / "mtp.safetensors", safetensors_bytes(mtp));
  auto m = hub::read_model_dir(d.path());
  ASSERT_TRUE(m) << m.err().message;
  ASSERT_TRUE(m->safetensors);
  EXPECT_EQ(m->safetensors->total_bytes, tensor_bytes(a));
  EXPECT_EQ(m->safetensors->skipped_bytes, tensor_bytes(mtp));
}

TEST(ModelDir, PartialDownloadFallsBackToTheIndexTotal) {
  temp_dir d;
  write_file(d.path() / "config.json", tiny_qwen2_config().dump());
  write_file(d.path() / "model-00001-of-00002.safetensors", safetensors_bytes(shard(0, 2)));
  write_file(
      d.path() / "model.safetensors.index.json",
      json{{"metadata", {{"total_size", 123456789}}},
           {"weight_map",
            {{"a", "model-00001-of-00002.safetensors"}, {"b", "model-00002-of-00002.safetensors"}}}}
          .dump());
  auto m = hub::read_model_dir(d.path());
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->safetensors->total_bytes, 123456789U);
  EXPECT_TRUE(m->safetensors->bytes_per_dtype.empty());
}

TEST(ModelDir, BrokenFoldersAreErrorsNamingTheFile) {
  temp_dir d;
  auto none = hub::read_model_dir(d.path());
  ASSERT_FALSE(none);
  EXPECT_NE(none.err().message.find("config.json"), std::string::npos);
  write_file(d.path() / "config.json", tiny_qwen2_config().dump());
  std::string bad = safetensors_bytes(shard(0, 1));
  bad[0] = '\x7f';  // a header length far beyond the file
  write_file(d.path() / "model.safetensors", bad);
  auto m = hub::read_model_dir(d.path());
  ASSERT_FALSE(m);
  EXPECT_NE(m.err().message.find("model.safetensors"), std::string::npos) << m.err().message;
  write_file(d.path() / "model.safetensors", "abc");
  EXPECT_FALSE(hub::read_model_dir(d.path()));
  write_file(d.path() / "config.json", "{\"model_type\": ");
  EXPECT_FALSE(hub::read_model_dir(d.path()));
  EXPECT_FALSE(hub::read_model_dir(d.path() / "config.json"));  // not a directory
}

// ---------------------------------------------------------------------------------------------
// Caches

TEST(Locator, FindsTheHuggingFaceCacheSnapshotOfRefsMain) {
  temp_dir home;
  const fs::path repo = home.path() / "hub" / "models--acme--cached";
  write_file(repo / "refs" / "main", "0123abcd\n");
  json old = tiny_qwen2_config();
  old["num_hidden_layers"] = 2;
  write_file(repo / "snapshots" / "ffff0000" / "config.json", old.dump());
  write_file(repo / "snapshots" / "0123abcd" / "config.json", tiny_qwen2_config().dump());
  write_file(repo / "snapshots" / "0123abcd" / "model.safetensors", safetensors_bytes(shard(0, 4)));
  const hub::model_locator loc(options_for(home, "http://127.0.0.1:9"));
  auto m = loc.find_cached("acme/cached");
  ASSERT_TRUE(m) << m.err().message;
  ASSERT_TRUE(*m);
  EXPECT_EQ((**m).config["num_hidden_layers"], 4);
  EXPECT_NE((**m).origin.find("Hugging Face cache"), std::string::npos);
  EXPECT_EQ((**m).safetensors->total_bytes, tensor_bytes(shard(0, 4)));
  auto missing = loc.find_cached("acme/other");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST(Locator, RejectsIdsThatAreNotHubIds) {
  stand_in_hub hub;
  temp_dir home;
  const hub::model_locator loc(options_for(home, hub.endpoint()));
  for (const char* id : {"../etc/passwd", "acme/../x", "a/b/c", "acme--x/y", ".acme/x", "acme/x.",
                         "acme", "acme/x?y", "acme/x y", "/x"}) {
    auto r = loc.locate(id);
    ASSERT_FALSE(r) << id;
    EXPECT_EQ(r.err().code, error_code::invalid_argument) << id;
  }
  EXPECT_TRUE(hub.requests().empty());
  EXPECT_TRUE(valid_hub_model_id("meta-llama/Llama-3.1-8B-Instruct"));
  EXPECT_TRUE(valid_hub_model_id("Qwen/Qwen2.5-7B"));
}

// ---------------------------------------------------------------------------------------------
// The stand-in Hub

TEST(Locator, FetchesCachesAndServesOffline) {
  stand_in_hub hub;
  temp_dir home;
  publish(hub, "acme/some-model", tiny_qwen2_config());
  {
    const hub::model_locator loc(options_for(home, hub.endpoint()));
    auto m = loc.locate("acme/some-model");
    ASSERT_TRUE(m) << m.err().message;
    EXPECT_EQ(m->config["hidden_size"], 1024);
    ASSERT_TRUE(m->safetensors);
    EXPECT_EQ(m->safetensors->total_bytes, 2 * kTinyParams);
    EXPECT_EQ(m->origin, hub.endpoint() + "/acme/some-model");
  }
  EXPECT_TRUE(fs::exists(home.path() / "vllm-mem" / "models--acme--some-model" / "config.json"));
  const auto before = hub.requests().size();
  hub::hub_options off = options_for(home, hub.endpoint());
  off.offline = true;
  const hub::model_locator offline(off);
  auto again = offline.locate("acme/some-model");
  ASSERT_TRUE(again) << again.err().message;
  EXPECT_EQ(again->safetensors->total_bytes, 2 * kTinyParams);
  EXPECT_NE(again->origin.find("vllm-mem cache"), std::string::npos);
  EXPECT_EQ(hub.requests().size(), before);  // no request while offline
  auto uncached = offline.locate("acme/never-fetched");
  ASSERT_FALSE(uncached);
  EXPECT_EQ(uncached.err().code, error_code::not_found);
  EXPECT_NE(uncached.err().message.find("HF_HUB_OFFLINE"), std::string::npos);
  EXPECT_EQ(hub.requests().size(), before);
  hub::hub_options no_net = options_for(home, hub.endpoint());
  no_net.network = false;
  auto disabled = hub::model_locator(no_net).locate("acme/never-fetched");
  ASSERT_FALSE(disabled);
  EXPECT_NE(disabled.err().message.find("--hub"), std::string::npos);
}

TEST(Locator, ReadsShardHeadersWithRangeRequests) {
  stand_in_hub hub;
  temp_dir home;
  publish(hub, "acme/sharded", tiny_qwen2_config(), std::nullopt);  // the API has no counts
  const auto a = shard(0, 2), b = shard(2, 2);
  hub.set_file("/acme/sharded/resolve/main/model-00001-of-00002.safetensors", safetensors_bytes(a));
  hub.set_file("/acme/sharded/resolve/main/model-00002-of-00002.safetensors", safetensors_bytes(b));
  json index{{"metadata", {{"total_size", 999}}}, {"weight_map", json::object()}};
  for (const auto& t : a) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : b) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  hub.set_json("/acme/sharded/resolve/main/model.safetensors.index.json", index);
  const hub::model_locator loc(options_for(home, hub.endpoint()));
  auto m = loc.locate("acme/sharded");
  ASSERT_TRUE(m) << m.err().message;
  ASSERT_TRUE(m->safetensors);
  EXPECT_EQ(m->safetensors->total_bytes, tensor_bytes(a) + tensor_bytes(b));
  EXPECT_EQ(m->safetensors->bytes_per_dtype.at("F32"), 4U * 1024 * 4);
  // Only the headers were read: a range of 8 bytes, then the header, per shard.
  int ranged = 0;
  for (const auto& r : hub.requests()) {
    if (r.find(".safetensors [bytes=") != std::string::npos) ++ranged;
    if (r.find(".safetensors") != std::string::npos && r.find("index") == std::string::npos) {
      EXPECT_NE(r.find("[bytes="), std::string::npos) << r;
    }
  }
  EXPECT_EQ(ranged, 4);
}

TEST(Locator, SingleFileCheckpointHeader) {
  stand_in_hub hub;
  temp_dir home;
  publish(hub, "acme/single", tiny_qwen2_config(), std::nullopt);
  const auto t = shard(0, 4);
  hub.set_file("/acme/single/resolve/main/model.safetensors", safetensors_bytes(t));
  auto m = hub::model_locator(options_for(home, hub.endpoint())).locate("acme/single");
  ASSERT_TRUE(m) << m.err().message;
  ASSERT_TRUE(m->safetensors);
  EXPECT_EQ(m->safetensors->total_bytes, tensor_bytes(t));
}

TEST(Locator, GatedModelsNeedAToken) {
  stand_in_hub hub;
  temp_dir home;
  stand_in_hub::route cfg;
  cfg.body = tiny_qwen2_config().dump();
  cfg.required_token = "hf_secret";
  hub.set("/acme/gated/resolve/main/config.json", cfg);
  auto m = hub::model_locator(options_for(home, hub.endpoint())).locate("acme/gated");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.err().code, error_code::forbidden);
  EXPECT_NE(m.err().message.find("HF_TOKEN"), std::string::npos) << m.err().message;
  EXPECT_NE(m.err().message.find("restricted"), std::string::npos) << m.err().message;
  hub::hub_options wrong = options_for(home, hub.endpoint());
  wrong.token = "hf_other";
  auto w = hub::model_locator(wrong).locate("acme/gated");
  ASSERT_FALSE(w);
  EXPECT_NE(w.err().message.find("has no access"), std::string::npos) << w.err().message;
  hub::hub_options right = options_for(home, hub.endpoint());
  right.token = "hf_secret";
  auto ok = hub::model_locator(right).locate("acme/gated");
  ASSERT_TRUE(ok) << ok.err().message;
  EXPECT_EQ(hub.authorizations().back(), "Bearer hf_secret");  // on every request to the Hub
}

TEST(Locator, MissingModelsAndFiles) {
  stand_in_hub hub;
  temp_dir home;
  const hub::model_locator loc(options_for(home, hub.endpoint()));
  auto m = loc.locate("acme/missing");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.err().code, error_code::not_found);
  EXPECT_NE(m.err().message.find("was not found"), std::string::npos) << m.err().message;
  hub.set_json("/acme/no-config/resolve/main/README.md", json::object());
  auto n = loc.locate("acme/no-config");
  ASSERT_FALSE(n);
  EXPECT_NE(n.err().message.find("has no config.json"), std::string::npos) << n.err().message;
  stand_in_hub::route big;
  big.body = std::string(2 << 20, ' ');
  hub.set("/acme/huge/resolve/main/config.json", big);
  EXPECT_FALSE(loc.locate("acme/huge"));
  stand_in_hub::route broken;
  broken.body = "{\"model_type\": \"llama\",";
  hub.set("/acme/broken/resolve/main/config.json", broken);
  auto b = loc.locate("acme/broken");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.err().code, error_code::invalid_argument);
}

TEST(Locator, UnreachableHub) {
  temp_dir home;
  int port = 0;
  {
    stand_in_hub gone;  // bound, then closed: nothing listens there any more
    port = std::stoi(gone.endpoint().substr(gone.endpoint().rfind(':') + 1));
  }
  auto m = hub::model_locator(options_for(home, "http://127.0.0.1:" + std::to_string(port)))
               .locate("acme/some-model");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.err().code, error_code::unavailable);
  EXPECT_NE(m.err().message.find("could not reach"), std::string::npos) << m.err().message;
}

TEST(Locator, RedirectsOnlyWithinTheEndpoint) {
  stand_in_hub hub;
  temp_dir home;
  stand_in_hub::route moved;
  moved.status = 307;
  moved.headers = {{"Location", "/acme/renamed/resolve/main/config.json"}};
  hub.set("/acme/old-name/resolve/main/config.json", moved);
  publish(hub, "acme/renamed", tiny_qwen2_config());
  const hub::model_locator loc(options_for(home, hub.endpoint()));
  auto m = loc.locate("acme/old-name");
  ASSERT_TRUE(m) << m.err().message;
  stand_in_hub::route away;
  away.status = 302;
  away.headers = {{"Location", "http://127.0.0.2:1/elsewhere/config.json"}};
  hub.set("/acme/away/resolve/main/config.json", away);
  auto a = loc.locate("acme/away");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.err().code, error_code::unavailable);
  EXPECT_NE(a.err().message.find("not followed"), std::string::npos) << a.err().message;
}

// ---------------------------------------------------------------------------------------------
// The router with a lookup

TEST(RouterLookup, ResolvesUnknownModelsThroughTheStandInHub) {
  stand_in_hub hub;
  temp_dir home;
  publish(hub, "acme/some-model", tiny_qwen2_config());
  auto loc = std::make_shared<hub::model_locator>(options_for(home, hub.endpoint()));
  const http::router r(cats(), [loc](std::string_view id) { return loc->locate(id); });
  auto post = [&](const json& body) {
    const std::string text = body.dump();
    return r.handle({"POST", "/estimate-gpu-memory", text, "application/json", ""});
  };
  auto res = post({{"model_name", "acme/some-model"}, {"max_seq_len", 2048}, {"dtype", "auto"}});
  ASSERT_EQ(res.status, 200) << res.body;
  json out = json::parse(res.body);
  EXPECT_EQ(out["model_source"], "safetensors");
  EXPECT_EQ(out["parameters"]["total"].get<std::uint64_t>(), kTinyParams);
  EXPECT_EQ(out["components_bytes"]["model_params"].get<std::uint64_t>(), 2 * kTinyParams);
  EXPECT_EQ(out["model_origin"], hub.endpoint() + "/acme/some-model");
  // Cached: the second request makes no Hub request.
  const auto n = hub.requests().size();
  ASSERT_EQ(post({{"model_name", "acme/some-model"}, {"max_seq_len", 2048}}).status, 200);
  EXPECT_EQ(hub.requests().size(), n);
  // Database models, and requests that describe the model, never reach the Hub.
  ASSERT_EQ(post({{"model_name", "meta-llama/Llama-2-7b-hf"}, {"max_seq_len", 2048}}).status, 200);
  ASSERT_EQ(post({{"model_name", "acme/unknown-7b"}, {"max_seq_len", 2048}, {"params_billions", 7}})
                .status,
            200);
  EXPECT_EQ(hub.requests().size(), n);
  // Missing and gated models.
  res = post({{"model_name", "acme/missing"}, {"max_seq_len", 2048}});
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_EQ(json::parse(res.body)["field"], "model_name");
  stand_in_hub::route gated;
  gated.body = tiny_qwen2_config().dump();
  gated.required_token = "t";
  hub.set("/acme/gated/resolve/main/config.json", gated);
  res = post({{"model_name", "acme/gated"}, {"max_seq_len", 2048}});
  EXPECT_EQ(res.status, 403) << res.body;
  EXPECT_NE(json::parse(res.body)["detail"].get<std::string>().find("HF_TOKEN"), std::string::npos);
  // A config the calculator cannot read: 400 naming the config and the field.
  json bad = tiny_qwen2_config();
  bad["num_key_value_heads"] = 5;
  publish(hub, "acme/bad", bad);
  res = post({{"model_name", "acme/bad"}, {"max_seq_len", 2048}});
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_EQ(json::parse(res.body)["field"], "hf_config.num_key_value_heads");
}

TEST(RouterLookup, UnreachableHubIs424AndNamesWithoutAnOrgAreNotLookedUp) {
  int calls = 0;
  const http::router r(cats(), [&calls](std::string_view) -> result<external_model> {
    ++calls;
    return make_error(error_code::unavailable, "could not reach the Hugging Face Hub",
                      "model_name");
  });
  auto post = [&](const json& body) {
    const std::string text = body.dump();
    return r.handle({"POST", "/estimate-gpu-memory", text, "application/json", ""});
  };
  EXPECT_EQ(post({{"model_name", "acme/x"}, {"max_seq_len", 16}}).status, 424);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(post({{"model_name", "my-model-7b"}, {"max_seq_len", 16}}).status, 200);
  EXPECT_EQ(post({{"model_name", "../../etc/passwd"}, {"max_seq_len", 16}}).status, 200);
  EXPECT_EQ(post({{"model_name", "acme/x"},
                  {"max_seq_len", 16},
                  {"architecture",
                   {{"num_layers", 2},
                    {"hidden_size", 64},
                    {"num_heads", 4},
                    {"vocab_size", 100},
                    {"intermediate_size", 128}}}})
                .status,
            200);
  EXPECT_EQ(calls, 1);
  // Without a lookup the router estimates from the name, as before.
  const http::router plain(cats());
  const std::string text = json{{"model_name", "acme/x-7b"}, {"max_seq_len", 16}}.dump();
  const auto res = plain.handle({"POST", "/estimate-gpu-memory", text, "application/json", ""});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(json::parse(res.body)["model_source"], "name_estimate");
}

}  // namespace
}  // namespace vllm_mem::testing
