// mm_limits_test.cpp — `limit_mm_per_prompt` (vLLM's --limit-mm-per-prompt): its three spellings,
// its refusals, and what it changes: no encoder profile when every modality of the tower is at 0,
// and from 0.11 no tower weights either (profile.hpp zero_mm_limit_drops_tower).
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/api/vllm_command.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kGemma3 = "google/gemma-3-27b-it";       // SigLIP, images only
constexpr const char* kQwen3Vl = "Qwen/Qwen3-VL-4B-Instruct";  // temporal patches: video too

json body(const char* model, const char* version, const json& limits) {
  json b = {{"model_name", model},
            {"max_seq_len", 4096},
            {"gpu", "H100-80GB"},
            {"vllm_version", version}};
  if (!limits.is_null()) b["limit_mm_per_prompt"] = limits;
  return b;
}

TEST(MmLimits, ObjectJsonTextAndPairsAreOneRequest) {
  const estimate_result a = run(body(kQwen3Vl, "0.19.0", {{"image", 0}, {"video", 0}}));
  const estimate_result b = run(body(kQwen3Vl, "0.19.0", R"({"image": 0, "video": {"count": 0}})"));
  const estimate_result c = run(body(kQwen3Vl, "0.19.0", "image=0,video=0"));
  EXPECT_EQ(a.deploy.mm.image, 0u);
  EXPECT_EQ(a.deploy.mm.video, 0u);
  for (const estimate_result* r : {&b, &c}) {
    EXPECT_EQ(r->startup.weights.total(), a.startup.weights.total());
    EXPECT_EQ(r->startup.activation_peak_bytes, a.startup.activation_peak_bytes);
    EXPECT_EQ(r->startup.kv_cache_bytes, a.startup.kv_cache_bytes);
  }
  // Modalities the estimate does not model are checked, not used.
  const estimate_result d = run(body(kQwen3Vl, "0.19.0", {{"image", 2}, {"audio", 1}}));
  EXPECT_EQ(d.deploy.mm.image, 2u);
  EXPECT_FALSE(d.deploy.mm.video.has_value());
}

TEST(MmLimits, BadLimitsNameTheFieldAndTheRule) {
  const std::pair<json, const char*> cases[] = {
      {json{{"image", -1}}, "limit_mm_per_prompt.image"},
      {json{{"image", 1.5}}, "limit_mm_per_prompt.image"},
      {json{{"video", 2000000}}, "limit_mm_per_prompt.video"},
      {json{{"image", {{"width", 512}}}}, "limit_mm_per_prompt.image"},
      {json::array({1}), "limit_mm_per_prompt"},
      {json("image"), "limit_mm_per_prompt"},
      {json("image=0,"), "limit_mm_per_prompt"},
      {json("{\"image\": 0"), "limit_mm_per_prompt"},
  };
  for (const auto& [limits, field] : cases) {
    const error e = run_error(body(kGemma3, "0.19.0", limits));
    EXPECT_EQ(e.field, field) << limits.dump();
    EXPECT_NE(e.message.find(field), std::string::npos) << e.message;
  }
  const http::response r =
      api_post("/estimate-gpu-memory", body(kGemma3, "0.19.0", {{"image", -1}}).dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("must be an integer in [0, 1048576]"), std::string::npos) << r.body;
}

// From 0.11 the tower is not built: Gemma 3's 423,060,336 bf16 parameters leave "Model loading
// took" with images at 0. Qwen3-VL's tower also serves video, so images at 0 alone keep it.
TEST(MmLimits, ZeroForEveryModalityDropsTheTowerFrom011) {
  const estimate_result with = run(body(kGemma3, "0.19.0", nullptr));
  const estimate_result off = run(body(kGemma3, "0.19.0", {{"image", 0}}));
  EXPECT_EQ(with.startup.weights.vision, 423060336ULL * 2);
  EXPECT_EQ(off.startup.weights.vision, 0u);
  EXPECT_EQ(with.startup.weights.total() - off.startup.weights.total(), 423060336ULL * 2);
  EXPECT_LT(off.startup.activation_peak_bytes, with.startup.activation_peak_bytes);
  EXPECT_GT(off.startup.kv_cache_bytes, with.startup.kv_cache_bytes);

  EXPECT_GT(run(body(kQwen3Vl, "0.19.0", {{"image", 0}})).startup.weights.vision, 0u);
  EXPECT_EQ(run(body(kQwen3Vl, "0.19.0", {{"image", 0}, {"video", 0}})).startup.weights.vision, 0u);
}

// Before 0.11 the tower is loaded regardless, but the profile encodes no image: the activation
// peak drops by exactly the encoder term (here the per-token fallback, M tokens of
// vision_activation_factor tensors of the tower's width).
TEST(MmLimits, BeforeO11TheTowerStaysAndOnlyTheEncoderProfileGoes) {
  const estimate_result with = run(body(kGemma3, "0.10.1", nullptr));
  const estimate_result off = run(body(kGemma3, "0.10.1", {{"image", 0}}));
  EXPECT_EQ(off.startup.weights.vision, with.startup.weights.vision);
  EXPECT_GT(off.startup.weights.vision, 0u);
  const deployment& d = with.deploy;
  const double encoder = d.profile.vision_activation_factor *
                         static_cast<double>(d.max_num_batched_tokens) * 2.0 * 1152.0;
  EXPECT_GT(encoder, 0.0);
  EXPECT_NEAR(
      static_cast<double>(with.startup.activation_peak_bytes - off.startup.activation_peak_bytes),
      encoder, 2.0);
}

// vllm serve's spellings: the JSON value, and one modality per dotted flag.
TEST(MmLimits, VllmCommandFlagsSetTheField) {
  auto dotted = parse_vllm_command(
      "vllm serve Qwen/Qwen3-VL-4B-Instruct --limit-mm-per-prompt.image 0 "
      "--limit-mm-per-prompt.video=0",
      "vllm_command");
  ASSERT_TRUE(dotted.ok()) << dotted.err().message;
  EXPECT_EQ(dotted->fields["limit_mm_per_prompt"], json({{"image", 0}, {"video", 0}}));
  auto whole = parse_vllm_command(
      R"(vllm serve Qwen/Qwen3-VL-4B-Instruct --limit-mm-per-prompt '{"image": 2}')",
      "vllm_command");
  ASSERT_TRUE(whole.ok()) << whole.err().message;
  EXPECT_EQ(whole->fields["limit_mm_per_prompt"], R"({"image": 2})");
  const estimate_result by_command = run({{"vllm_command",
                                           "vllm serve google/gemma-3-27b-it "
                                           "--limit-mm-per-prompt image=0 --max-model-len 4096"},
                                          {"gpu", "H100-80GB"},
                                          {"vllm_version", "0.19.0"}});
  EXPECT_EQ(by_command.startup.weights.vision, 0u);
  // The command the answer suggests carries the limits, and reads back to the same request.
  const json answer = to_json(run(body(kQwen3Vl, "0.19.0", {{"image", 0}, {"video", 0}})));
  const std::string cmd = "vllm serve " + std::string(kQwen3Vl) + " " +
                          answer["vllm_startup"]["vllm_args"].get<std::string>();
  EXPECT_NE(cmd.find("--limit-mm-per-prompt image=0,video=0"), std::string::npos) << cmd;
  auto back = parse_vllm_command(cmd, "vllm_command");
  ASSERT_TRUE(back.ok()) << back.err().message;
  EXPECT_EQ(back->fields["limit_mm_per_prompt"], "image=0,video=0");
}

}  // namespace
}  // namespace vllm_mem::testing
