// resolution_test.cpp — the names users type, resolved by the model database: exact ids and
// aliases, case and organisation variants, -Instruct/-chat/-it/-base/-hf variants, another
// organisation's re-upload, quantized checkpoint names, every ground-truth model id, and the
// name estimate when nothing matches.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/util/json_limits.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

struct name_case {
  const char* name;
  const char* entry;  // the database id it must resolve to
  match_kind kind;
  bool variant;
};

void expect_resolves(const name_case& c) {
  auto m = cats().models.resolve(c.name);
  ASSERT_TRUE(m.has_value()) << c.name << " did not resolve";
  EXPECT_EQ(m->entry->id, c.entry) << c.name;
  EXPECT_EQ(match_kind_name(m->kind), std::string(match_kind_name(c.kind))) << c.name;
  EXPECT_EQ(m->variant, c.variant) << c.name;
  if (c.kind != match_kind::quantized) {
    EXPECT_FALSE(m->quant_from_name.has_value()) << c.name;
  }
}

TEST(NameResolution, ExactIdsAndAliases) {
  for (const auto& c : {
           name_case{"meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf", match_kind::exact,
                     false},
           // The seed's short name is an alias (Meta's original-format repository).
           name_case{"meta-llama/Llama-2-7b", "meta-llama/Llama-2-7b-hf", match_kind::exact, false},
           name_case{"NousResearch/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-8B",
                     match_kind::exact, false},
           name_case{"google/gemma-2-2b-it", "google/gemma-2-2b", match_kind::exact, false},
           name_case{"gpt-4", "openai/gpt-4", match_kind::exact, false},
       }) {
    expect_resolves(c);
  }
}

TEST(NameResolution, CaseAndMissingOrganisation) {
  for (const auto& c : {
           name_case{"META-LLAMA/llama-2-7B-HF", "meta-llama/Llama-2-7b-hf", match_kind::exact,
                     false},
           name_case{"qwen/qwen2.5-7b", "Qwen/Qwen2.5-7B", match_kind::exact, false},
           name_case{"Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf", match_kind::exact, false},
           name_case{"Qwen2.5-7B", "Qwen/Qwen2.5-7B", match_kind::exact, false},
           name_case{"GPT-4o", "openai/gpt-4o", match_kind::exact, false},
       }) {
    expect_resolves(c);
  }
}

TEST(NameResolution, SuffixVariants) {
  for (const auto& c : {
           // -chat and -hf together
           name_case{"meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-hf",
                     match_kind::suffix_variant, true},
           name_case{"meta-llama/Meta-Llama-3-70B-hf", "meta-llama/Meta-Llama-3-70B",
                     match_kind::suffix_variant, true},
           name_case{"Qwen/Qwen1.5-7B-Chat", "Qwen/Qwen1.5-7B", match_kind::suffix_variant, true},
           name_case{"Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-14B", match_kind::suffix_variant,
                     true},
           name_case{"google/gemma-7b-it", "google/gemma-7b", match_kind::suffix_variant, true},
           name_case{"google/gemma-3-1b-it", "google/gemma-3-1b-pt", match_kind::suffix_variant,
                     true},
           name_case{"ibm-granite/granite-3.1-8b-base", "ibm-granite/granite-3.1-8b-instruct",
                     match_kind::suffix_variant, true},
           name_case{"codellama/CodeLlama-7b-Instruct-hf", "codellama/CodeLlama-7b-hf",
                     match_kind::suffix_variant, true},
           name_case{"tiiuae/falcon-7b-instruct", "tiiuae/falcon-7b", match_kind::suffix_variant,
                     true},
           // A variant token before a date or version suffix.
           name_case{"mistralai/Mistral-Nemo-Instruct-2407", "mistralai/Mistral-Nemo-Base-2407",
                     match_kind::suffix_variant, true},
           name_case{"Qwen2.5-3B-Chat", "Qwen/Qwen2.5-3B", match_kind::suffix_variant, true},
       }) {
    expect_resolves(c);
  }
}

TEST(NameResolution, AnotherOrganisationsReupload) {
  for (const auto& c : {
           name_case{"someorg/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf", match_kind::reupload,
                     false},
           name_case{"someorg/Meta-Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B",
                     match_kind::reupload, false},
           name_case{"someorg/Qwen3-30B-A3B-FP8", "Qwen/Qwen3-30B-A3B-FP8", match_kind::reupload,
                     false},
           // Re-upload of a variant: both at once.
           name_case{"someorg/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-14B", match_kind::reupload,
                     true},
       }) {
    expect_resolves(c);
  }
}

struct quant_case {
  const char* name;
  const char* entry;
  quant_method method;
  std::uint32_t bits;
};

TEST(NameResolution, QuantizedCheckpointNamesResolveToTheirBasePlusQuantization) {
  for (const auto& c : {
           quant_case{"RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8-dynamic", "meta-llama/Llama-3.1-8B",
                      quant_method::fp8, 8},
           quant_case{"someorg/Mistral-7B-v0.1-FP8", "mistralai/Mistral-7B-v0.1", quant_method::fp8,
                      8},
           quant_case{"Qwen/Qwen2.5-7B-Instruct-AWQ", "Qwen/Qwen2.5-7B-Instruct", quant_method::awq,
                      4},
           quant_case{"TheBloke/Llama-2-7B-GPTQ", "meta-llama/Llama-2-7b-hf", quant_method::gptq,
                      4},
           quant_case{"Qwen/Qwen2.5-1.5B-Instruct-GPTQ-Int4", "Qwen/Qwen2.5-1.5B-Instruct",
                      quant_method::gptq, 4},
           quant_case{"Qwen/Qwen2-7B-Instruct-GPTQ-Int8", "Qwen/Qwen2-7B-Instruct",
                      quant_method::gptq, 8},
           quant_case{"someorg/Qwen2.5-7B-Int8", "Qwen/Qwen2.5-7B", quant_method::int8, 8},
           quant_case{"RedHatAI/Qwen2.5-1.5B-Instruct-quantized.w4a16",
                      "Qwen/Qwen2.5-1.5B-Instruct", quant_method::w4a16, 4},
           quant_case{"someorg/Qwen2.5-1.5B-Instruct-w4a16", "Qwen/Qwen2.5-1.5B-Instruct",
                      quant_method::w4a16, 4},
           quant_case{"someorg/Mistral-7B-v0.3-w8a8", "mistralai/Mistral-7B-v0.3",
                      quant_method::int8, 8},
           quant_case{"RedHatAI/Llama-3.2-1B-Instruct-quantized.w8a8", "meta-llama/Llama-3.2-1B",
                      quant_method::int8, 8},
           quant_case{"unsloth/gemma-2-9b-it-bnb-4bit", "google/gemma-2-9b",
                      quant_method::bitsandbytes, 4},
           quant_case{"unsloth/Llama-3.2-1B-Instruct-bnb-4bit", "meta-llama/Llama-3.2-1B",
                      quant_method::bitsandbytes, 4},
           quant_case{"someorg/Qwen3-30B-A3B-MXFP4", "Qwen/Qwen3-30B-A3B", quant_method::mxfp4, 4},
           quant_case{"nvidia/Llama-3.3-70B-Instruct-NVFP4", "meta-llama/Llama-3.3-70B-Instruct",
                      quant_method::nvfp4, 4},
       }) {
    SCOPED_TRACE(c.name);
    auto m = cats().models.resolve(c.name);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->entry->id, c.entry);
    EXPECT_EQ(m->kind, match_kind::quantized);
    ASSERT_TRUE(m->quant_from_name.has_value());
    EXPECT_EQ(m->quant_from_name->method, c.method);
    EXPECT_EQ(m->quant_from_name->bits, c.bits);
    // Through the API: the base architecture with that quantization, and a warning saying so.
    const estimate_result r = run({{"model_name", c.name}, {"max_seq_len", 2048}});
    const json j = to_json(r);
    EXPECT_EQ(j["model_source"], "database");
    EXPECT_EQ(j["resolved_model_id"], c.entry);
    EXPECT_EQ(j["model_match"], "quantized_checkpoint");
    EXPECT_EQ(r.model.arch.quantization.method, c.method);
    EXPECT_NE(j["warning"].get<std::string>().find("quantization its name states"),
              std::string::npos);
  }
}

TEST(NameResolution, QuantizedCheckpointsTheDatabaseKnowsResolveToThemselves) {
  struct known {
    const char* name;
    const char* entry;
    quant_method method;
  };
  for (const auto& c : {
           known{"RedHatAI/Qwen2.5-7B-Instruct-FP8-Dynamic",
                 "RedHatAI/Qwen2.5-7B-Instruct-fp8-dynamic", quant_method::fp8},
           known{"Qwen/Qwen3-235B-A22B-FP8", "Qwen/Qwen3-235B-A22B-FP8", quant_method::fp8_block},
           known{"kaitchup/Phi-4-AutoRound-GPTQ-4bit", "kaitchup/Phi-4-AutoRound-GPTQ-4bit",
                 quant_method::gptq},
           known{"Qwen/Qwen2.5-72B-Instruct-AWQ", "Qwen/Qwen2.5-72B-Instruct-AWQ",
                 quant_method::awq},
           known{"unsloth/meta-llama-3.1-8b-instruct-bnb-4bit",
                 "unsloth/meta-llama-3.1-8b-instruct-bnb-4bit", quant_method::bitsandbytes},
       }) {
    SCOPED_TRACE(c.name);
    auto m = cats().models.resolve(c.name);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->entry->id, c.entry);
    EXPECT_EQ(m->kind, match_kind::exact);
    EXPECT_FALSE(m->quant_from_name.has_value());
    ASSERT_TRUE(m->entry->arch.has_value());
    EXPECT_EQ(m->entry->arch->quantization.method, c.method);
  }
  // A further quantization of a known checkpoint: the outermost suffix is what is loaded.
  const estimate_result r =
      run({{"model_name", "someorg/Qwen3-30B-A3B-FP8-AWQ"}, {"max_seq_len", 2048}});
  EXPECT_EQ(r.model.resolved_id, "Qwen/Qwen3-30B-A3B-FP8");
  EXPECT_EQ(r.model.arch.quantization.method, quant_method::awq);
  // The AWQ checkpoint keeps its own padded MLP (29696), not the BF16 model's 29568.
  EXPECT_EQ(arch_of("Qwen/Qwen2.5-72B-Instruct-AWQ").intermediate_size, 29696u);
}

TEST(NameResolution, SharedKeysGoToTheExactBaseWhateverTheFileOrder) {
  // "qwen2.5-7b" is the normalised name of both Qwen/Qwen2.5-7B and Qwen/Qwen2.5-7B-Instruct
  // (whose context differs); a variant name that is neither goes to the exact base.
  for (const char* n : {"Qwen/Qwen2.5-7B-Base", "Qwen/Qwen2.5-7B-Chat", "qwen2.5-7b-it"}) {
    auto m = cats().models.resolve(n);
    ASSERT_TRUE(m.has_value()) << n;
    EXPECT_EQ(m->entry->id, "Qwen/Qwen2.5-7B") << n;
  }
  // The winner does not depend on the order the files are loaded in.
  std::vector<model_db::source_file> files;
  for (const auto& f : embedded_files()) {
    if (f.name.rfind("data/models/", 0) == 0) files.push_back({std::string(f.name), f.text});
  }
  std::reverse(files.begin(), files.end());
  auto reversed = model_db::load(files);
  ASSERT_TRUE(reversed.ok()) << reversed.err().message;
  for (const auto& e : cats().models.entries()) {
    for (const std::string& n :
         {e.id + "-chat", e.id + "-Instruct-hf", "other/" + e.display_name}) {
      auto a = cats().models.resolve(n);
      auto b = reversed->resolve(n);
      ASSERT_EQ(a.has_value(), b.has_value()) << n;
      if (a) {
        EXPECT_EQ(a->entry->id, b->entry->id) << n;
      }
    }
  }
}

TEST(NameResolution, VariantTokensAreWholeWords) {
  EXPECT_EQ(normalize_model_name("meta-llama/Meta-Llama-3-8B-Instruct"), "llama-3-8b");
  EXPECT_EQ(normalize_model_name("mistralai/Mistral-Nemo-Instruct-2407"), "mistral-nemo-2407");
  EXPECT_EQ(normalize_model_name("meta-llama/Llama-2-7b-chat-hf"), "llama-2-7b");
  // "-pt" must not eat the end of "gpt", "-it" not the end of "split" or "lit".
  EXPECT_EQ(normalize_model_name("openai/gpt-oss-20b"), "gpt-oss-20b");
  EXPECT_EQ(normalize_model_name("x/model-gpt"), "model-gpt");
  EXPECT_EQ(normalize_model_name("x/llama-split"), "llama-split");
  EXPECT_EQ(normalize_model_name("x/llama-lit"), "llama-lit");
  EXPECT_FALSE(has_variant_token("openai/gpt-oss-120b"));
  EXPECT_TRUE(has_variant_token("google/gemma-3-27b-it"));
  // A name that only looks like a variant of a known model does not match it.
  EXPECT_FALSE(cats().models.resolve("someorg/Llama-2-7b-split").has_value());
  EXPECT_FALSE(cats().models.resolve("someorg/gemma-7b-gpt").has_value());
  // Mistral-7B-Instruct-v0.2 is neither v0.1 nor v0.3 (different context and window): it has its
  // own entry.
  const auto v02 = cats().models.resolve("mistralai/Mistral-7B-Instruct-v0.2");
  ASSERT_TRUE(v02.has_value());
  EXPECT_EQ(v02->entry->id, "mistralai/Mistral-7B-Instruct-v0.2");
}

TEST(NameResolution, ClosedModelsMatchOnlyTheirOwnNames) {
  // A repository called gpt-4 under another organisation is not OpenAI's closed model.
  EXPECT_FALSE(cats().models.resolve("someorg/gpt-4").has_value());
  EXPECT_FALSE(cats().models.resolve("gpt-4-AWQ").has_value());
  auto m = cats().models.resolve("anthropic/Claude-3-Opus");
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->entry->closed);
}

TEST(NameResolution, VariantMatchesWarnThatContextMayDiffer) {
  const json j = to_json(run({{"model_name", "Qwen/Qwen2.5-14B-Instruct"}, {"max_seq_len", 2048}}));
  EXPECT_EQ(j["model_source"], "database");
  EXPECT_EQ(j["model_match"], "suffix_variant");
  EXPECT_NE(j["warning"].get<std::string>().find("context fields"), std::string::npos);
  // An exact name has no such warning.
  const json k = to_json(run({{"model_name", "Qwen/Qwen2.5-14B"}, {"max_seq_len", 2048}}));
  EXPECT_TRUE(k["warning"].is_null());
}

TEST(NameResolution, UnknownNamesFallBackToTheNameEstimateWithAWarning) {
  const json j = to_json(run({{"model_name", "acme/brand-new-13b"}, {"max_seq_len", 2048}}));
  EXPECT_EQ(j["model_source"], "name_estimate");
  EXPECT_TRUE(j["resolved_model_id"].is_null());
  EXPECT_NE(j["warning"].get<std::string>().find("not in the database"), std::string::npos);
  const json k = to_json(run({{"model_name", "acme/mystery"}, {"max_seq_len", 2048}}));
  EXPECT_EQ(k["model_source"], "default_estimate");
  EXPECT_NE(k["warning"].get<std::string>().find("7B"), std::string::npos);
}

// ../shared/ground-truth/vllm-startup-cases.dev.json, copied into tests/data (see its README).
std::vector<json> ground_truth_cases() {
  std::ifstream in(
      std::filesystem::path(VLLM_MEM_SOURCE_DIR) / "tests" / "data" / "vllm-startup-cases.dev.json",
      std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto doc = parse_json_strict(ss.str(), json_limits{64, 1 << 20, 1000000});
  if (!doc || !doc->is_array()) return {};
  return std::vector<json>(doc->begin(), doc->end());
}

TEST(NameResolution, EveryGroundTruthModelResolvesFromTheDatabase) {
  const auto cases = ground_truth_cases();
  ASSERT_EQ(cases.size(), 49u);
  // Incomplete entries answer with the missing field instead of a guess.
  const std::map<std::string, std::string> incomplete = {
      {"ibm-granite/granite-vision-3.3-2b", "architecture.intermediate_size"}};
  std::set<std::string> names;
  for (const auto& c : cases) names.insert(c["request"]["model_name"].get<std::string>());
  EXPECT_EQ(names.size(), 36u);
  for (const auto& c : cases) {
    const std::string name = c["request"]["model_name"].get<std::string>();
    SCOPED_TRACE(c["id"].get<std::string>() + " " + name);
    ASSERT_TRUE(cats().models.resolve(name).has_value());
    auto req = parse_estimate_request(c["request"]);
    ASSERT_TRUE(req.ok()) << req.err().message;
    auto model = resolve_model(*req, cats().models);
    if (auto it = incomplete.find(name); it != incomplete.end()) {
      ASSERT_FALSE(model.ok());
      EXPECT_EQ(model.err().field, it->second);
      continue;
    }
    ASSERT_TRUE(model.ok()) << model.err().message;
    EXPECT_EQ(model->source.rfind("database", 0), 0u) << model->source;
    // Quantized checkpoints resolve with their quantization (the cases name no on-the-fly one).
    const bool quantized_name = strip_quant_suffix(name).has_value() ||
                                name.find("quantized.") != std::string::npos ||
                                name.find("FP8") != std::string::npos;
    if (quantized_name) {
      EXPECT_FALSE(model->arch.quantization.is_none()) << "no quantization for " << name;
    }
  }
}

TEST(NameResolution, EveryIdAndAliasResolvesToItsOwnEntry) {
  for (const auto& e : cats().models.entries()) {
    auto m = cats().models.resolve(e.id);
    ASSERT_TRUE(m.has_value()) << e.id;
    EXPECT_EQ(m->entry, &e);
    EXPECT_EQ(m->kind, match_kind::exact);
    for (const auto& a : e.aliases) {
      auto ma = cats().models.resolve(a);
      ASSERT_TRUE(ma.has_value()) << a;
      EXPECT_EQ(ma->entry, &e) << a;
    }
  }
}

}  // namespace
}  // namespace vllm_mem::testing

namespace vllm_mem::testing {
namespace {

// GPU names as people type them resolve to the catalog entry (issue: "4090", "rtx4090", "h100",
// "A100 80GB", "H100 SXM", "L40s"); a name that is not a GPU is refused with a suggestion.
TEST(GpuNames, AsPeopleTypeThem) {
  const std::vector<std::pair<const char*, const char*>> typed = {
      {"4090", "RTX-4090"},   {"rtx4090", "RTX-4090"},   {"RTX 4090", "RTX-4090"},
      {"h100", "H100-80GB"},  {"H100 SXM", "H100-80GB"}, {"A100 80GB", "A100-80GB"},
      {"L40s", "L40S"},       {"a10g", "A10G"},          {"3090", "RTX-3090"},
      {"A6000", "RTX-A6000"}, {"H200", "H200-141GB"},    {"mi300x", "MI300X"}};
  for (const auto& [name, id] : typed) {
    const gpu_entry* g = cats().gpus.find(name);
    ASSERT_NE(g, nullptr) << name;
    EXPECT_EQ(g->id, id) << name;
  }
  const http::response r = api_post(
      "/estimate-gpu-memory", R"({"model_name":"Qwen/Qwen3-8B","max_seq_len":2048,"gpu":"H10"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("did you mean"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace vllm_mem::testing
