// fast_paths_test.cpp — every shortcut of the hot path against the slow, obvious way it replaced:
// the JSON writer against nlohmann's dump, the one-pass JSON reader against nlohmann's parser,
// the name index against a scan, layer counts by arithmetic against visiting the layers, and the
// max_model_len search's closed form against a plain binary search over the KV need.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/util/json_writer.hpp"
#include "vllm_mem/util/text.hpp"
#include "vllm_mem/vllm/startup.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string written(double v) {
  std::string s;
  {
    json_writer w(s);
    w.f64(v);
  }
  return s;
}

std::string written(std::string_view v) {
  std::string s;
  {
    json_writer w(s);
    w.string(v);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// json_writer

TEST(JsonWriter, RoundedNumbersPrintAsNlohmannPrintsThem) {
  // k / 100 is printed from k (the writer's fast path); nlohmann's Grisu2 is the reference. The
  // whole range below 1e8 was compared once; this samples it densely at the start and spread out.
  for (std::uint64_t k = 0; k < 200000; ++k) {
    const double v = static_cast<double>(k) / 100.0;
    ASSERT_EQ(written(v), dump(json(v))) << k;
    ASSERT_EQ(written(-v), dump(json(-v))) << k;
  }
  std::mt19937_64 rng(8);
  for (int i = 0; i < 200000; ++i) {
    const double v = static_cast<double>(rng() % 100000000) / 100.0;
    ASSERT_EQ(written(v), dump(json(v))) << v;
  }
}

TEST(JsonWriter, OtherNumbersAndEdgesPrintAsNlohmannPrintsThem) {
  const double values[] = {0.0,  -0.0, 1e-7,  0.123456, 1.0 / 3.0, 2.5e15,
                           1e16, 1e21, -1e-5, 1e6,      999999.99, 1000000.0,
                           0.9,  0.95, 1e300, 5e-324,   123.456};
  for (double v : values) EXPECT_EQ(written(v), dump(json(v))) << v;
  EXPECT_EQ(written(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(written(std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriter, StringsAreEscapedAsNlohmannEscapesThem) {
  const std::string values[] = {"",
                                "plain ASCII, with spaces/and slashes",
                                "quote \" backslash \\ tab \t newline \n",
                                std::string("nul \0 byte", 10),
                                "\x01\x1f\x7f",
                                "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
                                "invalid \xff\xfe utf-8 \xc3",
                                std::string(300, 'x') + "\""};
  for (const auto& v : values) EXPECT_EQ(written(v), dump(json(v))) << v;
}

TEST(JsonWriter, ResponsesEqualNlohmannsOwnDumpOfThem) {
  // Keys in sorted order, numbers and strings as nlohmann prints them: parsing the text and
  // dumping it again gives the same bytes, for every database model with and without a GPU.
  std::size_t checked = 0;
  for (const auto& e : cats().models.entries()) {
    if (!e.arch) continue;
    for (const char* gpu : {"", "H100-80GB", "L4"}) {
      json body = {{"model_name", e.id}, {"max_seq_len", 4096}};
      if (*gpu) body["gpu"] = gpu;
      auto req = parse_estimate_request(body);
      ASSERT_TRUE(req.ok());
      auto res = estimate(*req, cats().models, cats().gpus);
      if (!res) continue;  // e.g. a parallel layout the model does not allow
      std::string text;
      append_json(text, *res);
      ASSERT_EQ(dump(json::parse(text)), text) << e.id << " " << gpu;
      ++checked;
    }
  }
  EXPECT_GT(checked, 200u);
}

TEST(JsonWriter, CommasAndNestingAndAppending) {
  std::string s = "prefix:";
  {
    json_writer w(s);
    w.begin_object().key("a").begin_array().u64(1).i64(-2).null().boolean(true);
    w.begin_object().end_object().end_array().key("b").string("x").key("c").raw("[1,2]");
    w.end_object();
  }
  EXPECT_EQ(s, R"(prefix:{"a":[1,-2,null,true,{}],"b":"x","c":[1,2]})");
  std::string big;
  {
    json_writer w(big);  // grows past its first 2 KiB
    w.begin_array();
    for (int i = 0; i < 5000; ++i) w.u64(123456789);
    w.end_array();
  }
  EXPECT_EQ(json::parse(big).size(), 5000u);
}

// ---------------------------------------------------------------------------------------------
// parse_json_fast: whatever it accepts, nlohmann accepts with the same document, within limits.

void expect_same_or_declined(const std::string& text, const json_limits& limits = {}) {
  json fast;
  if (!parse_json_fast(text, limits, fast)) return;  // declined: the checked path decides
  const json slow = json::parse(text, nullptr, false);
  ASSERT_FALSE(slow.is_discarded()) << text;
  ASSERT_EQ(fast, slow) << text;
  ASSERT_EQ(dump(fast), dump(slow)) << text;
  // Same number types, not only equal values (unsigned, signed and float stay apart).
  ASSERT_EQ(fast.type(), slow.type()) << text;
  auto strict = parse_json_strict(text, limits);
  ASSERT_TRUE(strict.ok()) << text;
  ASSERT_EQ(*strict, slow) << text;
}

TEST(FastJsonReader, AcceptsOrdinaryRequestsAndDeclinesTheRest) {
  const std::string seed =
      R"({"model_name": "meta-llama/Llama-2-7b", "max_seq_len": 2048, "dtype": "float16", )"
      R"("max_batch_size": 32, "gpu_memory_utilization": 0.9, "quantization": null, )"
      R"("params_billions": null, "architecture": {"num_layers": 32, "hidden_size": 4096}})";
  json out;
  EXPECT_TRUE(parse_json_fast(seed, {}, out));
  EXPECT_EQ(out, json::parse(seed));
  const std::string declined[] = {"",
                                  "{",
                                  "{}x",
                                  "{\"a\":1,}",
                                  "{\"a\" 1}",
                                  "[1,]",
                                  "01",
                                  "1.",
                                  ".5",
                                  "-",
                                  "1e",
                                  "+1",
                                  "1e400",
                                  "-1e400",
                                  "nan",
                                  "{\"a\":1,\"a\":2}",
                                  "\"\\n\"",
                                  "\"\xc3\xa9\"",
                                  "\xef\xbb\xbf{}",
                                  "18446744073709551616",
                                  "-9223372036854775809",
                                  "tru",
                                  "nul",
                                  "{\"a\":[1,2}",
                                  "\"tab\there\""};
  for (const auto& t : declined) {
    EXPECT_FALSE(parse_json_fast(t, {}, out)) << t;
    expect_same_or_declined(t);
  }
  for (const auto& t : {"0", "-0", "18446744073709551615", "-9223372036854775808", "1.5e3",
                        "-2.5E-3", "1E+2", "[]", "{}", " [ 1 , {\"b\" : [ ] } ] ", "true", "false",
                        "null", "\"\"", "[0.1,0.2,0.30000000000000004]"}) {
    EXPECT_TRUE(parse_json_fast(t, {}, out)) << t;
    expect_same_or_declined(t);
  }
}

TEST(FastJsonReader, KeepsTheLimits) {
  json out;
  const json_limits tight{3, 8, 6};
  EXPECT_TRUE(parse_json_fast("[[[1]]]", tight, out));
  EXPECT_FALSE(parse_json_fast("[[[[1]]]]", tight, out));          // depth 4
  EXPECT_FALSE(parse_json_fast("\"123456789\"", tight, out));      // string of 9 bytes
  EXPECT_FALSE(parse_json_fast("{\"123456789\":1}", tight, out));  // key of 9 bytes
  EXPECT_TRUE(parse_json_fast("[1,2,3,4,5]", tight, out));         // 6 values with the array
  EXPECT_FALSE(parse_json_fast("[1,2,3,4,5,6]", tight, out));
  for (const auto& t : {"[[[[1]]]]", "\"123456789\"", "[1,2,3,4,5,6]"}) {
    EXPECT_FALSE(parse_json_strict(t, tight).ok()) << t;
  }
}

TEST(FastJsonReader, MutatedRequestsAreAcceptedOnlyAsNlohmannAcceptsThem) {
  const std::string seed =
      R"({"model_name":"meta-llama/Llama-3.1-8B","max_seq_len":8192,"gpu":"H100-80GB",)"
      R"("max_batch_size":64,"gpu_memory_utilization":0.95,"enforce_eager":false,)"
      R"("architecture":{"num_layers":32,"rope_scaling":{"factor":8.0}},"x":[1,-2,3.5e-1]})";
  const char alphabet[] = "{}[]:,\"\\ -+.eE0123456789abtrunlfsx\t\n\x01\xc3";
  std::mt19937 rng(17);
  for (int i = 0; i < 20000; ++i) {
    std::string t = seed;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const std::size_t pos = rng() % t.size();
      const char c = alphabet[rng() % (sizeof alphabet - 1)];
      switch (rng() % 3) {
        case 0:
          t[pos] = c;
          break;
        case 1:
          t.insert(t.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        default:
          t.erase(pos, 1);
      }
    }
    expect_same_or_declined(t);
  }
}

// ---------------------------------------------------------------------------------------------
// format_g4

std::string printf_g4(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

TEST(FormatG4, EqualsPrintf) {
  for (std::uint64_t k = 0; k < 20000; ++k) {
    const double v = static_cast<double>(k) / 100.0;
    ASSERT_EQ(format_g4(v), printf_g4(v)) << k;
  }
  std::mt19937_64 rng(4);
  for (int i = 0; i < 100000; ++i) {
    const double v =
        std::ldexp(static_cast<double>(rng() % 1000000), static_cast<int>(rng() % 60) - 40);
    ASSERT_EQ(format_g4(v), printf_g4(v)) << v;
  }
  for (double v : {0.0, -0.0, 0.123456, 1e-5, 12345.678, 1e30, -2.5, 0.95, 0.9, 1.0}) {
    EXPECT_EQ(format_g4(v), printf_g4(v)) << v;
  }
}

// ---------------------------------------------------------------------------------------------
// name_index

TEST(NameIndex, FindsEveryNameAndNothingElse) {
  const auto& fields = estimate_request_fields();
  const std::vector<std::string_view> names(fields.begin(), fields.end());
  const name_index index(names);
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(index.find(names[i]), int(i));
  for (const char* other : {"", "model", "model_name ", "Model_name", "max_seq_le", "max_seq_lenn",
                            "gpu_memory_utilisation", "architectures", "x"}) {
    EXPECT_EQ(index.find(other), -1) << other;
  }
  std::vector<std::string> many;
  for (int i = 0; i < 500; ++i) many.push_back("key_" + std::to_string(i * 7919));
  const name_index big(std::vector<std::string_view>(many.begin(), many.end()));
  for (std::size_t i = 0; i < many.size(); ++i) EXPECT_EQ(big.find(many[i]), int(i));
  EXPECT_EQ(big.find("key_1"), -1);
}

// ---------------------------------------------------------------------------------------------
// Layer counts by arithmetic

std::vector<model_arch> layer_pattern_archs() {
  std::vector<model_arch> out;
  for (const auto& e : cats().models.entries()) {
    if (e.arch) out.push_back(*e.arch);
  }
  for (const char* type : {"llama", "deepseek_v3", "qwen2_moe"}) {
    for (std::uint64_t freq : {1, 2, 3}) {
      for (std::uint64_t dense : {0, 1, 3}) {
        for (std::uint64_t pattern : {0, 2, 4, 6}) {
          model_arch a;
          a.model_type = type;
          a.num_layers = 61;
          a.num_experts = 8;
          a.moe_layer_freq = freq;
          a.first_k_dense_replace = dense;
          a.sliding_window = 4096;
          a.sliding_window_pattern = pattern;
          out.push_back(a);
        }
      }
    }
  }
  return out;
}

TEST(LayerCounts, MoeAndSlidingLayersCountedByArithmeticEqualAVisit) {
  for (const model_arch& a : layer_pattern_archs()) {
    for (std::uint64_t first = 0; first <= a.num_layers; first += 1 + a.num_layers / 13) {
      for (std::uint64_t last = first; last <= a.num_layers; last += 1 + a.num_layers / 11) {
        std::uint64_t moe = 0, sliding = 0;
        for (std::uint64_t i = first; i < last; ++i) {
          moe += a.is_moe_layer(i) ? 1 : 0;
          sliding += a.is_sliding_layer(i) ? 1 : 0;
        }
        ASSERT_EQ(a.num_moe_layers(first, last), moe)
            << a.model_type << " " << first << "-" << last;
        ASSERT_EQ(a.num_sliding_layers(first, last), sliding)
            << a.model_type << " " << first << "-" << last;
      }
    }
  }
  for (std::uint64_t m = 1; m < 9; ++m) {
    for (std::uint64_t lo = 0; lo < 30; ++lo) {
      for (std::uint64_t hi = 0; hi < 30; ++hi) {
        std::uint64_t n = 0;
        for (std::uint64_t x = lo; x < hi; ++x) n += x % m == 0 ? 1 : 0;
        ASSERT_EQ(count_multiples(lo, hi, m), n);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The largest max_model_len that starts

// Plain binary search over the stage-0 KV need (a single pipeline stage, V1), the definition the
// closed form must meet.
std::uint64_t searched_fit(const estimate_result& e) {
  const model_arch& a = e.model.arch;
  const std::uint64_t derived = a.derived_max_model_len();
  std::uint64_t lo = 0, hi = derived > 0 ? derived : (1ULL << 31);
  const auto available = static_cast<std::uint64_t>(e.startup.kv_cache_bytes);
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (kv_bytes_for_request(a, e.deploy, mid) <= available) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

TEST(MaxModelLenFit, EqualsTheSearchForEveryDatabaseModel) {
  std::size_t checked_v1 = 0, checked_v0 = 0;
  for (const auto& e : cats().models.entries()) {
    if (!e.arch) continue;
    for (const char* gpu : {"H100-80GB", "A100-40GB", "L4", "H200-141GB"}) {
      for (const char* version : {"0.19.0", "0.10.1", "0.9.2", "0.6.5"}) {
        json body = {{"model_name", e.id},
                     {"max_seq_len", 4096},
                     {"gpu", gpu},
                     {"vllm_version", version},
                     {"max_num_batched_tokens", 8192}};
        auto req = parse_estimate_request(body);
        ASSERT_TRUE(req.ok());
        auto res = estimate(*req, cats().models, cats().gpus);
        if (!res || res->startup.num_gpu_blocks == 0) continue;
        const startup_result& s = res->startup;
        const bool kv_only = s.fits || s.limit == limiting_factor::kv_cache ||
                             s.limit == limiting_factor::max_position_embeddings;
        if (!kv_only) continue;
        if (res->deploy.profile.engine == engine_kind::v0) {
          // V0 fails once len > blocks * B (one stage): the fit is that, capped by the model.
          const std::uint64_t derived = res->model.arch.derived_max_model_len();
          const std::uint64_t upper = derived > 0 ? derived : (1ULL << 31);
          EXPECT_EQ(s.max_model_len_fit, std::min(upper, s.num_gpu_blocks * res->deploy.block_size))
              << e.id << " " << gpu << " " << version;
          ++checked_v0;
        } else {
          EXPECT_EQ(s.max_model_len_fit, searched_fit(*res))
              << e.id << " " << gpu << " " << version;
          ++checked_v1;
        }
      }
    }
  }
  EXPECT_GT(checked_v1, 500u);
  EXPECT_GT(checked_v0, 100u);
}

}  // namespace
}  // namespace vllm_mem::testing
