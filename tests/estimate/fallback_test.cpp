// fallback_test.cpp — the offline fallback: an architecture estimated from a size must be one
// vLLM accepts at tensor_parallel_size 1, 2, 4 and 8 (heads and KV heads divisible), with the
// count it was asked for; a misspelt database name says which name it probably meant.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vllm_mem/ingest/name_estimate.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

TEST(Fallback, EstimatedArchitecturesRunAtTensorParallel1248) {
  for (double p : {0.1e9, 0.35e9, 0.5e9, 1.1e9, 1.5e9, 1.8e9, 2.7e9, 3e9, 7e9, 9e9, 13e9, 14e9,
                   22e9, 34e9, 40e9, 70e9, 123e9, 180e9, 405e9}) {
    SCOPED_TRACE(p);
    auto a = resolve_arch(arch_from_params(p), "");
    ASSERT_TRUE(a.ok()) << a.err().message;
    EXPECT_EQ(a->num_kv_heads, 8u);  // Llama's GQA
    EXPECT_EQ(a->num_heads % 8, 0u);
    EXPECT_EQ(a->num_heads * a->head_dim, a->hidden_size);
    for (std::uint64_t tp : {1, 2, 4, 8}) {
      EXPECT_TRUE(check_parallel_sizes(*a, tp, 1).ok()) << "tp " << tp;
    }
    auto c = count_parameters(*a);
    ASSERT_TRUE(c.ok());
    EXPECT_NEAR(static_cast<double>(c->total) / p, 1.0, 0.08);
  }
}

TEST(Fallback, HandCheckedSevenB) {
  // 7e9: depth 32 gives h = 4024 from the quadratic, rounded to 4096 (32 heads of 128, 8 KV
  // heads); the depth solved again: (7e9 - 2*32000*4096) / (12.5*4096^2 + 4096*(2*8*128 + 2))
  // = 6,737,856,000 / 218,112,000 = 30.89 -> 31 layers; I = 3.5*4096 = 14336.
  const arch_spec s = arch_from_params(7e9);
  EXPECT_EQ(s.hidden_size, 4096u);
  EXPECT_EQ(s.num_heads, 32u);
  EXPECT_EQ(s.num_kv_heads, 8u);
  EXPECT_EQ(s.num_layers, 31u);
  EXPECT_EQ(s.intermediate_size, 14336u);
}

TEST(Fallback, NameEstimateAtTensorParallel8IsAccepted) {
  const estimate_result r = run({{"model_name", "acme/brand-new-13b"},
                                 {"max_seq_len", 2048},
                                 {"gpu", "H100-80GB"},
                                 {"tensor_parallel_size", 8}});
  EXPECT_EQ(r.model.source, "name_estimate");
  EXPECT_EQ(r.deploy.tp, 8u);
}

TEST(Fallback, NameEstimateKeepsTheQuantizationTheNameStates) {
  const estimate_result r = run({{"model_name", "acme/brand-new-13b-AWQ"}, {"max_seq_len", 2048}});
  EXPECT_EQ(r.model.source, "name_estimate");
  EXPECT_EQ(r.model.arch.quantization.method, quant_method::awq);
  EXPECT_EQ(r.model.arch.quantization.bits, 4u);
  EXPECT_NE(r.warnings.back().find("AWQ -> awq"), std::string::npos) << r.warnings.back();
  const estimate_result plain = run({{"model_name", "acme/brand-new-13b"}, {"max_seq_len", 2048}});
  EXPECT_LT(r.bytes.model_params * 3, plain.bytes.model_params);
}

// A name with no size in it is a guessed 7B: its start is never called a safe fit.
TEST(Fallback, AGuessedArchitectureIsNeverASafeFit) {
  const json body = {{"model_name", "acme/brand-new-model"},
                     {"max_seq_len", 8192},
                     {"gpu", "H100-80GB"},
                     {"vllm_version", "0.19.0"}};
  const estimate_result r = run(body);
  EXPECT_EQ(r.model.source, "default_estimate");
  EXPECT_TRUE(r.startup.fits);
  EXPECT_GT(r.startup.margin_bytes, 0);
  EXPECT_EQ(r.startup.verdict, startup_verdict::marginal);
  EXPECT_NE(r.startup.verdict_advice.find("params_billions"), std::string::npos);
  // With a size the same start is a fit.
  json sized = body;
  sized["params_billions"] = 7;
  const estimate_result s = run(sized);
  EXPECT_EQ(s.startup.verdict, startup_verdict::fits);
}

// A size in the name gives an estimated architecture: the error bar also covers 10 % of its
// weights and half of one request's KV cache, so a start within that is marginal.
TEST(Fallback, AnEstimatedArchitectureWidensTheErrorBar) {
  const json named = {{"model_name", "acme/brand-new-34b"},
                      {"max_seq_len", 4096},
                      {"gpu", "A100-80GB"},
                      {"vllm_version", "0.19.0"}};
  const estimate_result r = run(named);
  ASSERT_EQ(r.model.source, "name_estimate");
  const startup_result& s = r.startup;
  ASSERT_TRUE(s.fits);
  const double need = static_cast<double>(s.kv_cache_bytes - s.margin_bytes);
  const double era = std::max(0.1 * kGiB, 0.0024 * static_cast<double>(s.total_bytes));
  EXPECT_NEAR(static_cast<double>(s.uncertainty_bytes),
              era + 0.1 * static_cast<double>(s.weights.total()) + 0.5 * need, 2.0);
  EXPECT_LT(s.margin_bytes, static_cast<std::int64_t>(s.uncertainty_bytes));
  EXPECT_EQ(s.verdict, startup_verdict::marginal);
  EXPECT_NE(s.verdict_advice.find("estimated from the parameter count"), std::string::npos);
  // The database's own architecture keeps the era's error bar.
  json known = named;
  known["model_name"] = "Qwen/Qwen2.5-32B";
  EXPECT_LT(run(known).startup.uncertainty_bytes, static_cast<std::uint64_t>(0.3 * kGiB));
}

TEST(Fallback, MisspeltDatabaseNameSaysDidYouMean) {
  // A misspelling of one entry's name with the same numbers is that entry, said in the warning.
  const estimate_result r =
      run({{"model_name", "Qwen/Qwen2.5-7B-Instrcut"}, {"max_seq_len", 2048}});
  EXPECT_EQ(r.model.source, "database");
  EXPECT_EQ(r.model.match, "close_name");
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings.back().find("read as 'Qwen/Qwen2.5-7B-Instruct'"), std::string::npos)
      << r.warnings.back();
  // A close name with other numbers names another model: an estimate from the name, with the hint.
  const estimate_result s = run({{"model_name", "meta-llama/Llama-3.1-7B"}, {"max_seq_len", 2048}});
  EXPECT_EQ(s.model.source, "name_estimate");
  EXPECT_NE(s.warnings.back().find("Did you mean 'meta-llama/Llama-3.1-8B'"), std::string::npos)
      << s.warnings.back();
  // Between names as close, the nearest numbers win: Qwen3-8B, not Qwen2-7B or Qwen3-4B.
  const estimate_result q = run({{"model_name", "Qwen/Qwen3-7B"}, {"max_seq_len", 2048}});
  EXPECT_NE(q.warnings.back().find("Did you mean 'Qwen/Qwen3-8B'"), std::string::npos)
      << q.warnings.back();
  // A name far from every id has no hint.
  const estimate_result t = run({{"model_name", "acme/brand-new-13b"}, {"max_seq_len", 2048}});
  EXPECT_EQ(t.warnings.back().find("Did you mean"), std::string::npos) << t.warnings.back();
}

}  // namespace
}  // namespace vllm_mem::testing
