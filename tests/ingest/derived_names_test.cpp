// derived_names_test.cpp — names of derived checkpoints: mirrors (unsloth/, TheBloke/,
// hugging-quants/, RedHatAI/, neuralmagic/, ModelCloud/), quantized suffixes, fine-tune and
// release tokens (-Math-, -Coder-, -2507) resolve to the base entry with the quantization the
// name states, and model_match says how; a fine-tune with its own entry keeps it; GGUF is a 400.
// The names are real repositories (the ground-truth files and issue 13).
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

struct derived_case {
  const char* name;
  const char* entry;  // the database id it resolves to
  const char* match;  // model_match
  quant_method quant;
};

TEST(DerivedNames, RealRepositoryNamesResolveToTheirBase) {
  const derived_case cases[] = {
      // Mirrors of a base (another organisation's upload).
      {"unsloth/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.2-3B", "reupload", quant_method::none},
      {"unsloth/Qwen3-4B", "Qwen/Qwen3-4B", "reupload", quant_method::none},
      {"unsloth/Qwen3-4B-Base", "Qwen/Qwen3-4B", "reupload", quant_method::none},
      // Quantized suffixes.
      {"unsloth/Llama-3.2-1B-Instruct-FP8-Block", "meta-llama/Llama-3.2-1B", "quantized_checkpoint",
       quant_method::fp8_block},
      {"unsloth/Qwen3-8B-FP8", "Qwen/Qwen3-8B", "quantized_checkpoint", quant_method::fp8},
      {"unsloth/meta-llama-3.1-8b-instruct-unsloth-bnb-4bit", "meta-llama/Llama-3.1-8B",
       "quantized_checkpoint", quant_method::bitsandbytes},
      {"unsloth/mistral-7b-instruct-v0.3-bnb-4bit", "mistralai/Mistral-7B-v0.3",
       "quantized_checkpoint", quant_method::bitsandbytes},
      {"unsloth/qwen2.5-3b-instruct-unsloth-bnb-4bit", "Qwen/Qwen2.5-3B", "quantized_checkpoint",
       quant_method::bitsandbytes},
      {"unsloth/llama-3-8b-Instruct-4bit", "meta-llama/Meta-Llama-3-8B", "quantized_checkpoint",
       quant_method::bitsandbytes},
      {"Qwen/Qwen2.5-0.5B-Instruct-AWQ", "Qwen/Qwen2.5-0.5B", "quantized_checkpoint",
       quant_method::awq},
      {"hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "meta-llama/Llama-3.1-8B",
       "quantized_checkpoint", quant_method::awq},
      {"neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", "meta-llama/Llama-3.1-8B",
       "quantized_checkpoint", quant_method::fp8},
      {"ModelCloud/Llama-3.2-1B-Instruct-gptq-4bit", "meta-llama/Llama-3.2-1B",
       "quantized_checkpoint", quant_method::gptq},
      {"RedHatAI/Llama-3.1-8B-Instruct-NVFP4", "meta-llama/Llama-3.1-8B", "quantized_checkpoint",
       quant_method::nvfp4},
      {"RedHatAI/Qwen2.5-7B-Instruct-W4A16", "Qwen/Qwen2.5-7B-Instruct", "quantized_checkpoint",
       quant_method::w4a16},
      {"Qwen/Qwen2.5-7B-Instruct-Int8", "Qwen/Qwen2.5-7B-Instruct", "quantized_checkpoint",
       quant_method::int8},
      {"Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4", "Qwen/Qwen2.5-7B-Instruct", "quantized_checkpoint",
       quant_method::gptq},
      {"Qwen/Qwen3-8B-AWQ", "Qwen/Qwen3-8B", "quantized_checkpoint", quant_method::awq},
      // Fine-tunes and re-releases of the same architecture, when no entry of their own exists.
      {"Qwen/Qwen2.5-Math-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "finetune_of_base",
       quant_method::none},
      {"Qwen/Qwen2.5-Math-1.5B", "Qwen/Qwen2.5-1.5B", "finetune_of_base", quant_method::none},
      {"Qwen/Qwen2.5-Coder-1.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct", "finetune_of_base",
       quant_method::none},
      {"Qwen/Qwen2.5-Coder-1.5B-Instruct-AWQ", "Qwen/Qwen2.5-1.5B-Instruct", "finetune_of_base",
       quant_method::awq},
      // The 2507 refresh has an entry of its own (262144-token context); a mirror finds it.
      {"Qwen/Qwen3-4B-Instruct-2507", "Qwen/Qwen3-4B-Instruct-2507", "exact", quant_method::none},
      {"unsloth/Qwen3-4B-Instruct-2507", "Qwen/Qwen3-4B-Instruct-2507", "reupload",
       quant_method::none},
      // A fine-tune with its own entry keeps it (Qwen2.5-Coder-7B, a Distill).
      {"Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-7B", "suffix_variant",
       quant_method::none},
      {"deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
       "exact", quant_method::none},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto m = cats().models.resolve(c.name);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->entry->id, c.entry);
    EXPECT_EQ(std::string(match_kind_name(m->kind)), c.match);
    const quant_method q = m->quant_from_name ? m->quant_from_name->method : quant_method::none;
    EXPECT_EQ(q, c.quant);
  }
  // Through the API: model_match and a warning naming the base.
  const auto j =
      to_json(run({{"model_name", "Qwen/Qwen2.5-Math-7B-Instruct"}, {"max_seq_len", 2048}}));
  EXPECT_EQ(j["model_match"], "finetune_of_base");
  EXPECT_EQ(j["resolved_model_id"], "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_NE(j["warning"].get<std::string>().find("'Math' token"), std::string::npos)
      << j["warning"];
}

TEST(DerivedNames, TheBlokesGptqResolvesToItsBaseWithGptq4Bit) {
  // TheBloke's GPTQ upload of Mistral-7B-Instruct-v0.2 (set-2 row 1003): the database's v0.2
  // entry with the 4-bit GPTQ layout the name states.
  auto m = cats().models.resolve("TheBloke/Mistral-7B-Instruct-v0.2-GPTQ");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->entry->id, "mistralai/Mistral-7B-Instruct-v0.2");
  EXPECT_EQ(m->kind, match_kind::quantized);
  ASSERT_TRUE(m->quant_from_name.has_value());
  EXPECT_EQ(m->quant_from_name->method, quant_method::gptq);
  EXPECT_EQ(m->quant_from_name->bits, 4u);
  EXPECT_EQ(m->quant_from_name->group_size, 128u);
}

TEST(DerivedNames, GgufIsRefusedWithTheReason) {
  for (const char* n : {"TheBloke/Llama-2-7B-Chat-GGUF", "Qwen/Qwen2.5-7B-Instruct-GGUF",
                        "bartowski/Meta-Llama-3.1-8B-Instruct-gguf"}) {
    SCOPED_TRACE(n);
    const error e = run_error({{"model_name", n}, {"max_seq_len", 2048}});
    EXPECT_EQ(e.code, error_code::invalid_argument);
    EXPECT_EQ(e.field, "model_name");
    EXPECT_NE(e.message.find("GGUF"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("does not model"), std::string::npos) << e.message;
  }
  // Only a whole token: "ggufish" or a name merely containing the letters is not GGUF.
  const estimate_result r = run({{"model_name", "acme/ggufish-7b"}, {"max_seq_len", 2048}});
  EXPECT_EQ(r.model.source, "name_estimate");
}

// A name not in the database whose family is, and only with architectures the calculator does
// not model (Nemotron-H beside its 56B entry), gets that reason instead of a
// size-estimated Llama; params_billions still asks for the rough estimate. A family with modelled
// entries keeps the size estimate.
TEST(DerivedNames, UnknownMemberOfAnUnmodelledFamilyIsRefusedWithTheReason) {
  const error e =
      run_error({{"model_name", "nvidia/Nemotron-H-8B-Base-8K"}, {"max_seq_len", 2048}});
  EXPECT_EQ(e.code, error_code::unsupported);
  EXPECT_EQ(e.field, "model_name");
  EXPECT_NE(e.message.find("its family is (nvidia/Nemotron-H-56B"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("hybrid Mamba-2"), std::string::npos) << e.message;
  const estimate_result rough = run({{"model_name", "deepseek-ai/DeepSeek-V4-Lite"},
                                     {"max_seq_len", 2048},
                                     {"params_billions", 5}});
  EXPECT_EQ(rough.model.source, "params_billions");
  // Gemma 4's E2B has an entry of its own that says why it is not modelled; the E4B's QAT
  // checkpoint resolves to the E4B entry with the W4A16 its name states.
  const error e2b = run_error({{"model_name", "google/gemma-4-E2B-it"}, {"max_seq_len", 2048}});
  EXPECT_EQ(e2b.code, error_code::unsupported);
  EXPECT_NE(e2b.message.find("double-wide MLP"), std::string::npos) << e2b.message;
  const estimate_result qat =
      run({{"model_name", "google/gemma-4-E4B-it-qat-w4a16-ct"}, {"max_seq_len", 2048}});
  EXPECT_EQ(qat.model.resolved_id, "google/gemma-4-E4B-it");
  EXPECT_EQ(qat.model.arch.quantization.method, quant_method::w4a16);
  EXPECT_EQ(qat.model.arch.quantization.group_size, 32u);
  const estimate_result sized = run({{"model_name", "Qwen/Qwen3-77B-Foo"}, {"max_seq_len", 2048}});
  EXPECT_EQ(sized.model.source, "name_estimate");
}

}  // namespace
}  // namespace vllm_mem::testing

namespace vllm_mem::testing {
namespace {

// Regression: a misspelt name ("Llama-3.1-8B-Instruc", no organisation) became "a 7B Llama-style
// architecture was assumed" with no hint. A name one database entry is closest to, with the same
// numbers, is that entry, said in model_match and the warning; a name whose numbers differ
// (Qwen3-7B) only gets the hint, since it names another model.
TEST(DerivedNames, AMisspeltDatabaseNameIsThatEntryAndSaysSo) {
  for (const char* typed : {"meta-llama/Llama-3.1-8B-Instrct", "Llama-3.1-8B-Instruc",
                            "meta-llama/llama-3.1-8b-instuct"}) {
    const auto j = to_json(run({{"model_name", typed}, {"max_seq_len", 2048}}));
    EXPECT_EQ(j["model_match"], "close_name") << typed;
    EXPECT_EQ(j["resolved_model_id"], "meta-llama/Llama-3.1-8B") << typed;
    EXPECT_EQ(j["model_source"], "database") << typed;
    EXPECT_NE(j["warning"].get<std::string>().find("read as 'meta-llama/Llama-3.1-8B-Instruct'"),
              std::string::npos)
        << j["warning"];
  }
  const auto other = to_json(run({{"model_name", "Qwen/Qwen3-7B"}, {"max_seq_len", 2048}}));
  EXPECT_EQ(other["model_source"], "name_estimate");
  EXPECT_TRUE(other["model_match"].is_null());
  EXPECT_NE(other["warning"].get<std::string>().find("Did you mean"), std::string::npos);
  // A name far from every entry stays an estimate from the name.
  const auto far = to_json(run({{"model_name", "acme/Wombat-13B"}, {"max_seq_len", 2048}}));
  EXPECT_EQ(far["model_source"], "name_estimate");
}

}  // namespace
}  // namespace vllm_mem::testing
