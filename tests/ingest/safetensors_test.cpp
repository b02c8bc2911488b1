// safetensors_test.cpp — exact checkpoint bytes: header parsing, index totals, the request's
// `safetensors` field, and how the exact total sets the weights per GPU.
#include <gtest/gtest.h>

#include "hub_support.hpp"
#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/safetensors.hpp"
#include "vllm_mem/model/weights.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

json header_of(const std::vector<fake_tensor>& tensors) {
  const std::string bytes = safetensors_bytes(tensors);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return json::parse(bytes.substr(8, static_cast<std::size_t>(n)));
}

TEST(Safetensors, HeaderGivesBytesPerDtype) {
  const std::vector<fake_tensor> t = {{"model.embed_tokens.weight", "BF16", {1000, 64}},
                                      {"model.layers.0.mlp.down_proj.weight", "F8_E4M3", {64, 256}},
                                      {"model.layers.0.mlp.down_proj.weight_scale", "F32", {64, 1}},
                                      {"model.norm.weight", "BF16", {64}}};
  checkpoint_size c;
  ASSERT_TRUE(add_safetensors_header(header_of(t), tensor_bytes(t), "a.safetensors", 0, c));
  EXPECT_EQ(c.total_bytes, 1000U * 64 * 2 + 64 * 256 + 64 * 4 + 64 * 2);
  EXPECT_EQ(c.bytes_per_dtype.at("BF16"), 1000U * 64 * 2 + 64 * 2);
  EXPECT_EQ(c.bytes_per_dtype.at("F8_E4M3"), 64U * 256);
  EXPECT_EQ(c.bytes_per_dtype.at("F32"), 64U * 4);
  EXPECT_EQ(c.tensors, 4U);
  EXPECT_EQ(c.files, 1U);
}

TEST(Safetensors, LayersVllmDoesNotLoadAreSkipped) {
  // DeepSeek-style checkpoint: layer 2 of a 2-layer model is the multi-token-prediction layer.
  const std::vector<fake_tensor> t = {{"model.layers.0.self_attn.o_proj.weight", "BF16", {8, 8}},
                                      {"model.layers.1.self_attn.o_proj.weight", "BF16", {8, 8}},
                                      {"model.layers.2.self_attn.o_proj.weight", "BF16", {8, 8}},
                                      {"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", {4}}};
  checkpoint_size c;
  ASSERT_TRUE(add_safetensors_header(header_of(t), tensor_bytes(t), "f", 2, c));
  EXPECT_EQ(c.total_bytes, 2U * 8 * 8 * 2);
  EXPECT_EQ(c.skipped_bytes, 8U * 8 * 2 + 16);
}

TEST(Safetensors, MalformedHeadersAreErrors) {
  checkpoint_size c;
  json h = header_of({{"w", "BF16", {4, 4}}});
  EXPECT_FALSE(add_safetensors_header(h, 10, "f", 0, c));  // offsets beyond the data
  h["w"]["shape"] = {4, 5};
  EXPECT_FALSE(add_safetensors_header(h, 1000, "f", 0, c));  // shape x dtype != bytes
  h["w"]["shape"] = {4, 4};
  h["w"]["dtype"] = "Q4_K";
  const auto s = add_safetensors_header(h, 1000, "f.safetensors", 0, c);
  ASSERT_FALSE(s);
  EXPECT_NE(s.err().message.find("f.safetensors"), std::string::npos);
  EXPECT_FALSE(add_safetensors_header(json::array(), 0, "f", 0, c));
  EXPECT_EQ(c.total_bytes, 0U);
}

// Found by fuzzing (fuzz/corpus/safetensors_header/crash-overlapping-tensors): two tensors over
// the same bytes counted them twice. The safetensors format has each tensor's bytes to itself.
TEST(Safetensors, OverlappingTensorsAreErrors) {
  const json h = json::parse(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                 "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]},
                                 "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})");
  checkpoint_size c;
  const auto s = add_safetensors_header(h, 8, "f.safetensors", 0, c);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().field, "f.safetensors");
  EXPECT_NE(s.err().message.find("tensor 'b' (data_offsets [2, 6]) overlaps tensor 'a'"),
            std::string::npos)
      << s.err().message;
  EXPECT_EQ(c.total_bytes, 0U);
  // Adjacent tensors, and an empty one at a boundary, are fine.
  const json ok = json::parse(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                  "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                                  "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})");
  ASSERT_TRUE(add_safetensors_header(ok, 8, "f.safetensors", 0, c));
  EXPECT_EQ(c.total_bytes, 8U);
}

TEST(Safetensors, IndexAndHubCounts) {
  const json index = {{"metadata", {{"total_size", 15231233024ULL}}},
                      {"weight_map",
                       {{"a", "model-00001-of-00002.safetensors"},
                        {"b", "model-00002-of-00002.safetensors"},
                        {"c", "model-00001-of-00002.safetensors"}}}};
  auto c = checkpoint_size_from_index(index, "index");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->total_bytes, 15231233024ULL);
  EXPECT_EQ(c->files, 2U);
  json evil = index;
  evil["weight_map"]["d"] = "../../etc/passwd";
  EXPECT_FALSE(safetensors_index_files(evil, "index"));
  auto hub = checkpoint_size_from_hub_counts(
      {{"parameters", {{"BF16", 1000}, {"F8_E4M3", 5000}, {"F32", 10}}}, {"total", 6010}}, "hub");
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->total_bytes, 2000U + 5000 + 40);
  EXPECT_EQ(hub->bytes_per_dtype.at("F8_E4M3"), 5000U);
}

TEST(Safetensors, RequestField) {
  auto c = parse_checkpoint_size(
      {{"total_bytes", 300}, {"bytes_per_dtype", {{"BF16", 200}, {"F32", 100}}}}, "safetensors");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->total_bytes, 300U);
  auto mismatch = parse_checkpoint_size(
      {{"total_bytes", 301}, {"bytes_per_dtype", {{"BF16", 200}}}}, "safetensors");
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.err().field, "safetensors.total_bytes");
  EXPECT_EQ(parse_checkpoint_size({{"bytes_per_dtype", {{"XX", 1}}}}, "safetensors").err().field,
            "safetensors.bytes_per_dtype.XX");
  EXPECT_EQ(parse_checkpoint_size({{"total", 1}}, "safetensors").err().field, "safetensors.total");
  EXPECT_FALSE(parse_checkpoint_size({{"total_bytes", 0}}, "safetensors"));
  EXPECT_FALSE(parse_checkpoint_size({{"total_bytes", -5}}, "safetensors"));
}

// ---------------------------------------------------------------------------------------------
// The exact total sets the weights.

json qwen_config() {
  return {{"model_type", "qwen2"},        {"hidden_size", 1024},
          {"intermediate_size", 2816},    {"num_hidden_layers", 4},
          {"num_attention_heads", 16},    {"num_key_value_heads", 4},
          {"vocab_size", 32000},          {"max_position_embeddings", 8192},
          {"tie_word_embeddings", false}, {"torch_dtype", "bfloat16"}};
}

TEST(Safetensors, OneGpuHoldsExactlyTheCheckpointBytes) {
  // 221280256 bytes is the computed bf16 size; the checkpoint holds 1% more (say, extra tensors).
  const std::uint64_t exact = 223493059;
  const auto e = run({{"model_name", "acme/tiny"},
                      {"max_seq_len", 2048},
                      {"dtype", "auto"},
                      {"hf_config", qwen_config()},
                      {"safetensors", {{"total_bytes", exact}}}});
  EXPECT_EQ(e.model.source, "safetensors");
  EXPECT_EQ(e.bytes.model_params, exact);
  ASSERT_TRUE(e.checkpoint);
  EXPECT_EQ(e.checkpoint_layout_bytes, 2U * 110640128);
  const json out = to_json(e);
  EXPECT_EQ(out["checkpoint"]["total_bytes"].get<std::uint64_t>(), exact);
  EXPECT_EQ(out["checkpoint"]["architecture_bytes"].get<std::uint64_t>(), 2U * 110640128);
  EXPECT_TRUE(out["warning"].is_null());
}

TEST(Safetensors, ShardingAndConversionsStillFollowTheLayout) {
  const std::uint64_t exact = 2U * 110640128;  // exactly the computed bf16 size
  json base{{"model_name", "acme/tiny"},
            {"max_seq_len", 2048},
            {"dtype", "auto"},
            {"hf_config", qwen_config()},
            {"safetensors", {{"total_bytes", exact}}}};
  const auto one = run(base);
  EXPECT_EQ(one.bytes.model_params, exact);
  json tp2 = base;
  tp2["tensor_parallel_size"] = 2;
  const auto two = run(tp2);
  json tp2_computed = tp2;
  tp2_computed.erase("safetensors");
  EXPECT_EQ(two.bytes.model_params, run(tp2_computed).bytes.model_params);  // same layout
  EXPECT_LT(two.bytes.model_params, exact);
  // A float32 checkpoint served in float16 ("auto") holds half its bytes.
  json f32 = base;
  f32["hf_config"]["torch_dtype"] = "float32";
  f32["safetensors"]["total_bytes"] = 2 * exact;
  EXPECT_EQ(run(f32).bytes.model_params, exact);
  // On-the-fly fp8 of a bf16 checkpoint follows the fp8 layout.
  json fp8 = base;
  fp8["quantization"] = "fp8";
  json fp8_computed = fp8;
  fp8_computed.erase("safetensors");
  EXPECT_EQ(run(fp8).bytes.model_params, run(fp8_computed).bytes.model_params);
}

TEST(Safetensors, AMismatchedCheckpointIsWarned) {
  const auto e = run({{"model_name", "acme/tiny"},
                      {"max_seq_len", 2048},
                      {"hf_config", qwen_config()},
                      {"safetensors", {{"total_bytes", 4ULL * 221280256}}}});
  ASSERT_FALSE(e.warnings.empty());
  EXPECT_NE(e.warnings.back().find("belong together"), std::string::npos);
}

TEST(Safetensors, MixedFp8CheckpointIsExact) {
  // An fp8 checkpoint whose bytes per dtype the headers give: the total is what one GPU holds.
  json cfg = qwen_config();
  cfg["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}};
  const auto computed =
      run({{"model_name", "a/b"}, {"max_seq_len", 64}, {"dtype", "auto"}, {"hf_config", cfg}});
  const std::uint64_t bf16 = 2 * 2 * 32768000 + 2 * 1024 * 9;  // embeddings, lm_head, norms
  const std::uint64_t fp8 = computed.bytes.model_params - bf16;
  const auto e = run({{"model_name", "a/b"},
                      {"max_seq_len", 64},
                      {"dtype", "auto"},
                      {"hf_config", cfg},
                      {"safetensors", {{"bytes_per_dtype", {{"BF16", bf16}, {"F8_E4M3", fp8}}}}}});
  EXPECT_EQ(e.bytes.model_params, bf16 + fp8);
  EXPECT_EQ(to_json(e)["checkpoint"]["bytes_per_dtype"]["F8_E4M3"].get<std::uint64_t>(), fp8);
}

}  // namespace
}  // namespace vllm_mem::testing
