// arithmetic_test.cpp — absurd numbers in requests: each gets a 400 naming the field and the
// rule (a documented bound, or the 2^60-byte limit of checked_math.hpp), never a wrapped number,
// inf, NaN or a negative size; the largest accepted inputs answer with sane numbers throughout.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "router.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t k2p62 = 1ULL << 62;
constexpr std::uint64_t k2p40 = 1ULL << 40;
constexpr std::uint64_t k2p31 = 1ULL << 31;

// Every number finite, sizes never null (a NaN written as null), nothing negative except vLLM's
// signed "Available KV cache memory" (kv_cache_bytes / kv_cache_gib, docs/api.md).
void expect_sane_numbers(const json& j, const std::string& key, const std::string& where) {
  auto ends = [&](const char* s) {
    const std::string suffix(s);
    return key.size() >= suffix.size() &&
           key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) expect_sane_numbers(*it, it.key(), where);
  } else if (j.is_array()) {
    for (const auto& x : j) expect_sane_numbers(x, key, where);
  } else if (j.is_number()) {
    const double x = j.get<double>();
    EXPECT_TRUE(std::isfinite(x)) << key << " in " << where;
    if (key != "kv_cache_bytes" && key != "kv_cache_gib" && key != "margin_gib") {
      EXPECT_GE(x, 0.0) << key << " in " << where;
    }
    // No byte count beyond 2^60 (checked_math.hpp); GiB/GB figures far below it.
    EXPECT_LE(std::fabs(x), 0x1p60) << key << " in " << where;
  } else if (j.is_null()) {
    EXPECT_FALSE(ends("_gb") || ends("_gib") || ends("_bytes")) << key << " is null in " << where;
  }
}

struct absurd_case {
  const char* name;
  const char* path;
  json body;
  const char* field;
  const char* rule;  // a substring of the detail
};

std::string case_name(const ::testing::TestParamInfo<absurd_case>& i) { return i.param.name; }

class Absurd : public ::testing::TestWithParam<absurd_case> {};

TEST_P(Absurd, AnswersBadRequestNamingTheField) {
  const absurd_case& c = GetParam();
  const auto r = api_post(c.path, c.body.dump());
  EXPECT_EQ(r.status, 400) << c.body.dump() << " -> " << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["field"], c.field) << r.body;
  EXPECT_NE(j["detail"].get<std::string>().find(c.rule), std::string::npos) << r.body;
}

json llama(json extra = json::object()) {
  json b = {{"model_name", "meta-llama/Llama-2-7b"}, {"max_seq_len", 2048}};
  b.update(extra);
  return b;
}

// The largest architecture parse_arch_spec accepts: every byte count of it is near 2^60.
json huge_arch() {
  return {{"num_layers", 2048},          {"hidden_size", 131072}, {"num_heads", 4096},
          {"num_kv_heads", 4096},        {"head_dim", 4096},      {"vocab_size", 16777216},
          {"intermediate_size", 1048576}};
}

json huge_moe_arch() {
  json a = huge_arch();
  a["num_experts"] = 4096;
  a["num_experts_per_tok"] = 4096;
  a["moe_intermediate_size"] = 1048576;
  return a;
}

json hf(json extra) {
  json c = {{"model_type", "llama"},      {"num_hidden_layers", 32},        {"hidden_size", 4096},
            {"num_attention_heads", 32},  {"num_key_value_heads", 8},       {"vocab_size", 32000},
            {"intermediate_size", 11008}, {"max_position_embeddings", 8192}};
  c.update(extra);
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Requests, Absurd,
    ::testing::Values(
        // Bounds on the request fields (documented in docs/api.md).
        absurd_case{"max_seq_len_2p62", "/estimate-gpu-memory", llama({{"max_seq_len", k2p62}}),
                    "max_seq_len", "at most 2147483648"},
        absurd_case{"max_seq_len_1e300", "/estimate-gpu-memory", llama({{"max_seq_len", 1e300}}),
                    "max_seq_len", "positive integer"},
        absurd_case{"max_model_len_2p62", "/estimate-gpu-memory", llama({{"max_model_len", k2p62}}),
                    "max_model_len", "at most 2147483648"},
        absurd_case{"max_batch_size_2p40", "/estimate-gpu-memory",
                    llama({{"max_batch_size", k2p40}}), "max_batch_size", "at most 1048576"},
        absurd_case{"max_num_seqs_2p40", "/estimate-gpu-memory", llama({{"max_num_seqs", k2p40}}),
                    "max_num_seqs", "at most 1048576"},
        absurd_case{"max_num_batched_tokens_2p62", "/estimate-gpu-memory",
                    llama({{"max_num_batched_tokens", k2p62}}), "max_num_batched_tokens",
                    "at most 2147483648"},
        absurd_case{"params_billions_1e12",
                    "/estimate-gpu-memory",
                    {{"model_name", "x"}, {"max_seq_len", 2048}, {"params_billions", 1e12}},
                    "params_billions",
                    "at most 100000"},
        absurd_case{"params_billions_1e6",
                    "/estimate-gpu-memory",
                    {{"model_name", "x"}, {"max_seq_len", 2048}, {"params_billions", 1e6}},
                    "params_billions",
                    "at most 100000"},
        absurd_case{"gpu_memory_gib_1e15", "/estimate-gpu-memory",
                    llama({{"gpu_memory_gib", 1e15}}), "gpu_memory_gib", "between 0.5 and 4096"},
        absurd_case{"tensor_parallel_size_2p31", "/estimate-gpu-memory",
                    llama({{"tensor_parallel_size", k2p31}}), "tensor_parallel_size",
                    "at most 1024"},
        absurd_case{"pipeline_parallel_size_2p31", "/estimate-gpu-memory",
                    llama({{"pipeline_parallel_size", k2p31}}), "pipeline_parallel_size",
                    "at most 1024"},
        absurd_case{"architecture_hidden_2p40", "/estimate-gpu-memory",
                    llama({{"model_name", "x"},
                           {"architecture",
                            {{"num_layers", 32},
                             {"hidden_size", k2p40},
                             {"num_heads", 32},
                             {"vocab_size", 32000},
                             {"intermediate_size", 11008}}}}),
                    "architecture.hidden_size", "between 1 and 131072"},
        absurd_case{"architecture_layers_1e9", "/estimate-gpu-memory",
                    llama({{"model_name", "x"},
                           {"architecture",
                            {{"num_layers", 1000000000},
                             {"hidden_size", 4096},
                             {"num_heads", 32},
                             {"vocab_size", 32000},
                             {"intermediate_size", 11008}}}}),
                    "architecture.num_layers", "between 1 and 2048"},
        absurd_case{"hf_config_hidden_2p40", "/estimate-gpu-memory",
                    llama({{"model_name", "x"}, {"hf_config", hf({{"hidden_size", k2p40}})}}),
                    "hf_config.hidden_size", "between 1 and 131072"},
        absurd_case{
            "hf_config_layers_1e9", "/estimate-gpu-memory",
            llama({{"model_name", "x"}, {"hf_config", hf({{"num_hidden_layers", 1000000000}})}}),
            "hf_config.num_hidden_layers", "between 1 and 2048"},
        absurd_case{"safetensors_total_2p62", "/estimate-gpu-memory",
                    llama({{"safetensors", {{"total_bytes", k2p62}}}}), "safetensors.total_bytes",
                    "between 1 and 2^50"},
        // Each value within its bound, the product beyond 2^60 bytes (checked_math.hpp).
        absurd_case{"kv_cache_past_2p60", "/estimate-gpu-memory",
                    llama({{"max_seq_len", k2p31}, {"max_batch_size", 1048576}}), "max_seq_len",
                    "more than 2^60 bytes"},
        absurd_case{"kv_cache_past_2p60_on_gpu",
                    "/estimate-gpu-memory",
                    {{"model_name", "x"},
                     {"max_seq_len", k2p31},
                     {"max_batch_size", 1048576},
                     {"gpu", "H100-80GB"},
                     {"architecture", huge_arch()}},
                    "max_seq_len",
                    "more than 2^60 bytes"},
        absurd_case{"moe_weights_past_2p60",
                    "/estimate-gpu-memory",
                    {{"model_name", "x"},
                     {"max_seq_len", 2048},
                     {"dtype", "float32"},
                     {"architecture", huge_moe_arch()}},
                    "architecture",
                    "more than 2^60 bytes"},
        absurd_case{"tiny_utilization", "/estimate-gpu-memory",
                    llama({{"gpu_memory_utilization", 1e-300}}), "gpu_memory_utilization",
                    "more than 2^60 bytes"},
        // The planner's fields.
        absurd_case{"plan_max_gpus_2p40",
                    "/plan",
                    {{"model_name", "meta-llama/Llama-2-7b"}, {"max_gpus", k2p40}},
                    "max_gpus",
                    "at most 1024"},
        absurd_case{"plan_max_model_len_2p62",
                    "/plan",
                    {{"model_name", "meta-llama/Llama-2-7b"}, {"max_model_len", k2p62}},
                    "max_model_len",
                    "at most 2147483648"},
        absurd_case{"plan_kv_cache_past_2p60",
                    "/plan",
                    {{"model_name", "meta-llama/Llama-2-7b"},
                     {"max_model_len", k2p31},
                     {"max_batch_size", 1048576}},
                    "max_model_len",
                    "reduce 'max_model_len' or 'max_batch_size'"},
        absurd_case{"solve_kv_cache_past_2p60",
                    "/solve",
                    {{"model_name", "meta-llama/Llama-2-7b"},
                     {"gpu", "H100-80GB"},
                     {"max_model_len", k2p31},
                     {"max_batch_size", 1048576}},
                    "max_model_len",
                    "more than 2^60 bytes"},
        absurd_case{
            "solve_num_gpus_2p40",
            "/solve",
            {{"model_name", "meta-llama/Llama-2-7b"}, {"gpu", "H100-80GB"}, {"num_gpus", k2p40}},
            "num_gpus",
            "at most 1024"},
        absurd_case{"sweep_context_2p62",
                    "/sweep",
                    {{"model_name", "meta-llama/Llama-2-7b"},
                     {"gpu", "H100-80GB"},
                     {"context_lengths", {1024, k2p62}}},
                    "context_lengths[1]",
                    "at most 2147483648"},
        absurd_case{"sweep_batch_2p40",
                    "/sweep",
                    {{"model_name", "meta-llama/Llama-2-7b"},
                     {"gpu", "H100-80GB"},
                     {"batch_sizes", {k2p40}}},
                    "batch_sizes[0]",
                    "at most 1048576"},
        absurd_case{"placement_count_2p40",
                    "/placement",
                    {{"models", {{{"model_name", "meta-llama/Llama-2-7b"}}}},
                     {"pool", {{{"gpu", "H100-80GB"}, {"count", k2p40}}}}},
                    "pool[0].count",
                    "at most 64"}),
    case_name);

// The largest inputs each bound allows still answer 200 with sane numbers everywhere.
TEST(ArithmeticExtremes, LargestAcceptedInputsAnswerSaneNumbers) {
  const std::pair<const char*, json> cases[] = {
      {"/estimate-gpu-memory",
       {{"model_name", "x"},
        {"max_seq_len", k2p31},
        {"params_billions", 100000},
        {"gpu_memory_gib", 0.5},
        {"max_num_batched_tokens", k2p31},
        {"dtype", "float32"}}},
      {"/estimate-gpu-memory",
       {{"model_name", "x"},
        {"max_seq_len", 16},
        {"gpu_memory_gib", 4096},
        {"architecture", huge_arch()}}},
      {"/estimate-gpu-memory", llama({{"max_seq_len", k2p31}, {"gpu", "H100-80GB"}})},
      {"/sweep",
       {{"model_name", "meta-llama/Llama-2-7b"},
        {"gpu", "H100-80GB"},
        {"context_lengths", {1024, k2p31}},
        {"batch_sizes", {1, 1048576}}}},
      {"/plan",
       {{"model_name", "meta-llama/Llama-2-7b"}, {"max_gpus", 1024}, {"max_model_len", k2p31}}},
      // 256 x 2^31 tokens x 512 KiB per token = 2^58 bytes: within the bound; the reverse solves
      // probe up to the bound and beyond it.
      {"/solve",
       {{"model_name", "meta-llama/Llama-2-7b"},
        {"gpu", "H100-80GB"},
        {"max_model_len", k2p31},
        {"max_batch_size", 256}}},
  };
  for (const auto& [path, body] : cases) {
    const auto r = api_post(path, body.dump());
    EXPECT_EQ(r.status, 200) << path << " " << body.dump() << " -> " << r.body.substr(0, 300);
    expect_sane_numbers(json::parse(r.body), "", std::string(path) + " " + body.dump());
  }
}

}  // namespace
}  // namespace vllm_mem::testing
