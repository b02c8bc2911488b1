// data_validation_test.cpp — the model database as data: every file strict and embedded as it is
// on disk, unique names, cited sources, architecture invariants, completeness, fill_from, and the
// parameter count computed from each architecture against the published one (data/schema.md).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/model/weights.hpp"
#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kSourceDir{VLLM_MEM_SOURCE_DIR};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Open entries that do not resolve, with the architecture field each lacks. Their notes must
// name that field (the reason). Adding an entry here is a reviewed decision, not a fix.
const std::map<std::string, std::string> kIncomplete = {
    {"deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "vocab_size"},  // excerpt ended before it
    {"ibm-granite/granite-vision-3.3-2b", "intermediate_size"},  // text tower not read
    {"moonshotai/Kimi-Dev-72B", "vocab_size"},                   // GGUF metadata only
};

// Entries whose architecture the calculator's physics cannot describe (hybrid Mamba, SSM,
// heterogeneous layers): they carry `unsupported` with the reason and do not resolve.
const std::set<std::string> kUnsupported = {
    "ai21labs/AI21-Jamba-1.5-Mini",
    "ai21labs/Jamba-v0.1",
    "mistralai/Mamba-Codestral-7B-v0.1",
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1",
    "nvidia/Nemotron-H-56B-Base-8K",
    "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",  // Mamba-2 + MoE + 6 attention blocks
    "google/gemma-4-E2B-it",                       // a double-wide MLP in the KV-shared layers
};

// Official counts the computed count misses by more than 1%. Each entry explains why in
// params.exception; a new exception must be added here on purpose.
const std::set<std::string> kOfficialExceptions = {
    "deepseek-ai/DeepSeek-V2-Lite",                 // "16B" rounds the computed 15.71B
    "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct",  // same architecture and rounding
    "ibm-granite/granite-3.1-2b-instruct",          // "2.5B" rounds the computed 2.53B
    "meta-llama/Llama-4-Scout-17B-16E-Instruct",    // 109B includes a vision encoder not recorded
};

// Checkpoints whose model.safetensors.index.json total_size the computed layout of the entry's
// own dtype and quantization misses by more than kCheckpointTolerance, with the reason. None
// today; a new one must be added here on purpose, explained.
constexpr double kCheckpointTolerance = 0.015;
const std::map<std::string, std::string> kCheckpointExceptions = {};

// Nominal size labels ("7B") are not exact counts; they are checked only for gross errors.
constexpr double kNominalTolerance = 0.15;
const std::set<std::string> kNominalExceptions = {
    "Qwen/Qwen2.5-VL-7B-Instruct",  // "7B" names the text model; the count adds a 0.68B ViT
};

constexpr std::string_view kExcludesOne = "active excludes one embedding matrix";
constexpr std::string_view kIncludesBoth = "active includes both embedding matrices";
constexpr std::string_view kUnknownConvention =
    "unknown: both conventions match the rounded figure";

// Active counts are published rounded to two digits ("2.4B", "3.6B"): a looser bound.
constexpr double kActiveTolerance = 0.05;

bool is_embedded_data(std::string_view name) { return name.rfind("data/", 0) == 0; }

// The entry's architecture key as written, or null.
json written(const model_entry& e, const char* key) {
  const auto a = e.raw.find("architecture");
  if (a == e.raw.end() || !a->contains(key)) return json();
  return (*a)[key];
}

TEST(DataFiles, EmbeddedCopyEqualsTheFilesOnDisk) {
  std::size_t compared = 0;
  for (const auto& f : embedded_files()) {
    const fs::path p = kSourceDir / std::string(f.name);
    ASSERT_TRUE(fs::exists(p)) << f.name << " is embedded but not on disk";
    EXPECT_EQ(read_text(p), std::string(f.text))
        << f.name << ": the embedded copy differs from the file (rebuild to re-embed)";
    ++compared;
  }
  EXPECT_GT(compared, 20u);
}

TEST(DataFiles, EveryDataFileOnDiskIsEmbedded) {
  std::set<std::string> embedded;
  for (const auto& f : embedded_files()) embedded.insert(std::string(f.name));
  std::size_t files = 0;
  for (const auto& d : fs::directory_iterator(kSourceDir / "data" / "models")) {
    if (d.path().extension() != ".json") continue;
    ++files;
    const std::string rel = "data/models/" + d.path().filename().string();
    EXPECT_TRUE(embedded.count(rel)) << rel << " is not embedded (re-run cmake)";
  }
  EXPECT_TRUE(embedded.count("data/gpus.json"));
  EXPECT_GE(files, 20u);
}

TEST(DataFiles, EveryModelFileParsesStrictly) {
  for (const auto& f : embedded_files()) {
    if (!is_embedded_data(f.name) || f.name == "data/gpus.json") continue;
    // The same strict parser as requests: duplicate keys, comments, NaN and garbage are errors.
    auto doc = parse_json_strict(f.text, json_limits{32, 65536, 1000000});
    ASSERT_TRUE(doc.ok()) << f.name << ": " << doc.err().message;
    EXPECT_EQ((*doc)["schema_version"], 1) << f.name;
    ASSERT_TRUE((*doc)["models"].is_array()) << f.name;
    EXPECT_FALSE((*doc)["models"].empty()) << f.name;
    // Each file loads on its own, unless an entry fills from another file.
    bool cross_file = false;
    for (const auto& e : (*doc)["models"]) cross_file = cross_file || e.contains("fill_from");
    if (!cross_file) {
      auto db = model_db::load({{std::string(f.name), f.text}});
      EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.err().message);
    }
  }
}

TEST(DataLoader, RejectsMalformedEntries) {
  const std::string good_arch =
      R"("architecture": {"num_layers": 2, "hidden_size": 64, "num_heads": 4, "vocab_size": 100,
          "intermediate_size": 128})";
  auto load = [&](const std::string& models) {
    const std::string text = R"({"schema_version": 1, "models": [)" + models + "]}";
    return model_db::load({{"data/models/test.json", text}});
  };
  const std::string a = R"({"id": "org/a", "source": ["s"], "verification": "B", )" + good_arch;
  EXPECT_TRUE(load(a + "}").ok());
  EXPECT_TRUE(load(a + R"(, "checkpoint": {"total_size_bytes": 10, "source": "s"}})").ok());
  const struct {
    std::string models;
    std::string says;
  } cases[] = {
      {a + R"(, "colour": 1})", "unknown key 'colour'"},
      {a + R"(, "id": "org/b"})", "duplicate key"},
      {a + "}," + a + "}", "used by both"},
      {R"({"id": "org/a", "aliases": ["ORG/B"], "source": [], )" + good_arch + "}," +
           R"({"id": "org/b", "source": [], )" + good_arch + "}",
       "used by both"},
      {R"({"id": "org/x", "source": []})", "has no architecture"},
      {R"({"id": "org/x", "closed": true, )" + good_arch + "}", "must not state an architecture"},
      {a + R"(, "unsupported": ""})", "must give the reason"},
      {a + "}," + R"({"id": "org/c", "source": [], "architecture": {"num_layers": 2},
           "fill_from": {"id": "org/a", "fields": ["hidden_size"]}})",
       "'reason'"},
      {a + "}," + R"({"id": "org/c", "source": [], "architecture": {"num_layers": 2},
           "fill_from": {"id": "org/a", "fields": ["num_layers"], "reason": "r"}})",
       "already states"},
      {a + "}," + R"({"id": "org/c", "source": [], "architecture": {"num_layers": 2},
           "fill_from": {"id": "org/a", "fields": ["head_dim"], "reason": "r"}})",
       "does not state"},
      {a + "}," + R"({"id": "org/c", "source": [], "architecture": {"num_layers": 2},
           "fill_from": {"id": "org/nope", "fields": ["vocab_size"], "reason": "r"}})",
       "not the id of an entry"},
      {a + "}," + R"({"id": "org/c", "source": [], "architecture": {"num_layers": 2},
           "fill_from": {"id": "org/a", "fields": ["colour"], "reason": "r"}})",
       "not an architecture key"},
      {a + R"(, "checkpoint": {"total_size_bytes": 10}})", "'checkpoint' must be"},
      {a + R"(, "checkpoint": {"total_size_bytes": 0, "source": "s"}})", "positive integer"},
      {a + R"(, "checkpoint": {"total_size_bytes": "10", "source": "s"}})", "positive integer"},
      {a + R"(, "checkpoint": {"total_size_bytes": 10, "source": ""}})", "checkpoint.source"},
  };
  for (const auto& c : cases) {
    auto db = load(c.models);
    ASSERT_FALSE(db.ok()) << c.models;
    EXPECT_NE(db.err().message.find(c.says), std::string::npos)
        << "message: " << db.err().message << "\nexpected to contain: " << c.says;
    EXPECT_NE(db.err().message.find("data/models/test.json"), std::string::npos)
        << db.err().message;
  }
}

TEST(ModelDatabase, IdsAndAliasesAreUniqueCaseInsensitively) {
  std::map<std::string, std::string> seen;
  for (const auto& e : cats().models.entries()) {
    std::vector<std::string> names{e.id};
    names.insert(names.end(), e.aliases.begin(), e.aliases.end());
    for (const auto& n : names) {
      auto [it, inserted] = seen.emplace(to_lower(n), e.id);
      EXPECT_TRUE(inserted) << n << " names both " << it->second << " and " << e.id;
    }
    // An alias that only differs in case from a name of the entry is useless (lookup ignores case).
    std::set<std::string> own;
    for (const auto& n : names) EXPECT_TRUE(own.insert(to_lower(n)).second) << e.id << ": " << n;
  }
  EXPECT_GT(seen.size(), 170u);
}

TEST(ModelDatabase, EveryEntryCitesItsSourcesAndVerification) {
  const std::set<std::string> levels = {"A", "B", "C", "Q"};
  for (const auto& e : cats().models.entries()) {
    SCOPED_TRACE(e.id);
    EXPECT_FALSE(e.source.empty());
    for (const auto& s : e.source) EXPECT_GE(s.size(), 10u) << "source too short: " << s;
    EXPECT_FALSE(e.display_name.empty());
    EXPECT_FALSE(e.family.empty());
    EXPECT_FALSE(e.notes.empty());
    if (e.closed) {
      EXPECT_EQ(e.verification, "closed");
    } else {
      EXPECT_TRUE(levels.count(e.verification)) << "verification '" << e.verification << "'";
    }
    if (e.raw.contains("params")) {
      const std::set<std::string> statuses = {"official", "nominal", "unofficial"};
      EXPECT_TRUE(statuses.count(e.params.status)) << "params.status '" << e.params.status << "'";
      EXPECT_FALSE(e.params.source.empty());
      if (e.params.official_total) {
        EXPECT_FALSE(e.params.text.empty());
      }
      if (e.params.official_active && e.params.status == "official") {
        EXPECT_TRUE(e.params.convention == kExcludesOne || e.params.convention == kIncludesBoth ||
                    e.params.convention == kUnknownConvention)
            << "params.convention '" << e.params.convention << "'";
      }
    }
  }
}

TEST(ModelDatabase, ClosedModelsStateNoArchitectureAndOnlyPublishedFigures) {
  std::size_t closed = 0;
  for (const auto& e : cats().models.entries()) {
    if (!e.closed) {
      EXPECT_NE(e.params.status, "unofficial") << e.id;
      continue;
    }
    ++closed;
    SCOPED_TRACE(e.id);
    EXPECT_FALSE(e.raw.contains("architecture"));
    EXPECT_FALSE(e.spec.has_value());
    EXPECT_FALSE(e.arch.has_value());
    EXPECT_TRUE(e.raw.contains("params"));
    if (e.params.status != "official") {
      EXPECT_EQ(e.params.status, "unofficial");
    }
  }
  EXPECT_EQ(closed, 10u);  // GPT x3, Claude 3 x3, Gemini x4 (the seed's closed rows)
}

TEST(ModelDatabase, ArchitectureInvariants) {
  for (const auto& e : cats().models.entries()) {
    if (!e.spec) continue;
    SCOPED_TRACE(e.id);
    const arch_spec& s = *e.spec;
    if (s.model_type == "mamba2") continue;  // no attention at all (unsupported)
    ASSERT_TRUE(s.num_layers && s.hidden_size && s.num_heads);
    if (s.num_kv_heads) {
      EXPECT_EQ(*s.num_heads % *s.num_kv_heads, 0u)
          << *s.num_heads << " heads, " << *s.num_kv_heads << " KV heads";
    }
    if (*s.hidden_size % *s.num_heads != 0) {
      EXPECT_TRUE(s.head_dim.has_value()) << "hidden/heads is not whole: head_dim is required";
    }
    const bool moe = s.num_experts.value_or(0) > 1;
    if (moe) {
      ASSERT_TRUE(s.num_experts_per_tok.has_value());
      EXPECT_GE(*s.num_experts_per_tok, 1u);
      EXPECT_LE(*s.num_experts_per_tok, *s.num_experts);
      if (e.unsupported.empty()) {
        EXPECT_TRUE(s.moe_intermediate_size.has_value());
      }
      if (s.first_k_dense_replace.value_or(0) > 0 || s.moe_layer_freq.value_or(1) > 1) {
        EXPECT_TRUE(s.intermediate_size.has_value()) << "dense layers need intermediate_size";
        EXPECT_LT(s.first_k_dense_replace.value_or(0), *s.num_layers);
      }
    } else {
      for (const auto* f :
           {&s.num_experts_per_tok, &s.moe_intermediate_size, &s.num_shared_experts,
            &s.shared_expert_intermediate_size, &s.first_k_dense_replace, &s.moe_layer_freq}) {
        EXPECT_FALSE(f->has_value()) << "MoE field on a dense model";
      }
    }
    if (s.shared_expert_intermediate_size) {
      EXPECT_TRUE(s.num_shared_experts.has_value());
    }
    const bool mla = s.kv_lora_rank.has_value();
    for (const auto* f :
         {&s.q_lora_rank, &s.qk_rope_head_dim, &s.qk_nope_head_dim, &s.v_head_dim}) {
      if (mla && f != &s.q_lora_rank) {
        EXPECT_TRUE(f->has_value()) << "MLA field missing";
      }
      if (!mla) {
        EXPECT_FALSE(f->has_value()) << "MLA field without kv_lora_rank";
      }
    }
    if (s.sliding_window_pattern) {
      EXPECT_TRUE(s.sliding_window.has_value());
      EXPECT_GE(*s.sliding_window_pattern, 2u);
    }
    if (s.sliding_window && s.max_position_embeddings) {
      EXPECT_GT(*s.sliding_window, 0u);
    }
    if (e.verification == "Q") {
      EXPECT_TRUE(s.quantization.has_value()) << "a quantized checkpoint states its quantization";
    }
    if (s.quantization) {
      const json q = written(e, "quantization");
      EXPECT_TRUE(q.is_object() && q.contains("read"))
          << "quantization.read says how it was obtained";
    }
    if (s.vision) {
      EXPECT_GT(s.vision->num_layers, 0u);
      EXPECT_GT(s.vision->hidden_size, 0u);
      const json v = written(e, "vision");
      if (v.is_object() && v.contains("params")) {
        EXPECT_TRUE(v.contains("params_source")) << "vision.params";
      }
    }
  }
}

TEST(ModelDatabase, EveryOpenEntryResolvesUnlessListed) {
  std::set<std::string> seen_incomplete, seen_unsupported;
  for (const auto& e : cats().models.entries()) {
    if (e.closed) continue;
    SCOPED_TRACE(e.id);
    ASSERT_TRUE(e.spec.has_value());
    if (!e.unsupported.empty()) {
      seen_unsupported.insert(e.id);
      EXPECT_TRUE(kUnsupported.count(e.id)) << "new unsupported entry: " << e.unsupported;
      EXPECT_FALSE(e.arch.has_value());
      continue;
    }
    const auto it = kIncomplete.find(e.id);
    if (it == kIncomplete.end()) {
      EXPECT_TRUE(e.arch.has_value()) << [&] {
        auto r = resolve_arch(*e.spec, "architecture.");
        return r.ok() ? std::string("resolves now") : r.err().message;
      }();
      continue;
    }
    seen_incomplete.insert(e.id);
    auto r = resolve_arch(*e.spec, "architecture.");
    ASSERT_FALSE(r.ok()) << "listed as incomplete but resolves: remove it from kIncomplete";
    EXPECT_EQ(r.err().field, "architecture." + it->second) << r.err().message;
    EXPECT_NE(e.notes.find(it->second), std::string::npos)
        << "the notes must say why " << it->second << " is missing";
    EXPECT_EQ(e.verification, "C") << "an incomplete entry is secondary (C)";
  }
  EXPECT_EQ(seen_incomplete.size(), kIncomplete.size());
  EXPECT_EQ(seen_unsupported.size(), kUnsupported.size());
}

TEST(ModelDatabase, FillFromCopiesOnlyTheListedMissingFields) {
  std::size_t filled = 0;
  for (const auto& e : cats().models.entries()) {
    if (!e.fill_from) continue;
    ++filled;
    SCOPED_TRACE(e.id);
    const model_entry* from = cats().models.find_exact(e.fill_from->id);
    ASSERT_NE(from, nullptr);
    ASSERT_TRUE(from->spec && e.spec);
    EXPECT_TRUE(e.arch.has_value()) << "the fill exists to complete the entry";
    const json mine = to_json(*e.arch);
    const json theirs = to_json(*from->arch);
    for (const auto& f : e.fill_from->fields) {
      EXPECT_TRUE(written(e, f.c_str()).is_null()) << f << " is stated by the entry itself";
      EXPECT_EQ(mine.value(f, json()), theirs.value(f, json())) << f;
    }
    EXPECT_GE(e.fill_from->reason.size(), 40u);
    EXPECT_NE(e.notes.find("fill_from"), std::string::npos) << "notes mention the fill";
  }
  // DeepSeek-Coder-V2-Lite-Instruct, granite-3.0-3b-a800m-instruct, Mistral-7B-Instruct-v0.2
  EXPECT_EQ(filled, 3u);
}

TEST(ModelDatabase, FilledEntriesResolveAndSayWhereTheValuesCameFrom) {
  // The two incomplete entries the ground-truth cases need.
  const model_arch& coder = arch_of("deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct");
  EXPECT_EQ(coder.vocab_size, 102400u);
  EXPECT_EQ(coder.moe_intermediate_size, 1408u);
  EXPECT_EQ(coder.num_shared_experts, 2u);
  EXPECT_EQ(coder.first_k_dense_replace, 1u);
  EXPECT_FALSE(coder.tie_word_embeddings);
  EXPECT_EQ(coder.max_position_embeddings, 163840u);  // its own (read), not filled
  const model_arch& granite = arch_of("ibm-granite/granite-3.0-3b-a800m-instruct");
  EXPECT_EQ(granite.vocab_size, 49155u);
  EXPECT_TRUE(granite.tie_word_embeddings);
  EXPECT_EQ(granite.max_position_embeddings, 4096u);  // Granite 3.0 report, not 3.1's 131072
  const estimate_result r =
      run({{"model_name", "ibm-granite/granite-3.0-3b-a800m-instruct"}, {"max_seq_len", 4096}});
  const std::string w = to_json(r)["warning"].get<std::string>();
  EXPECT_NE(w.find("vocab_size, tie_word_embeddings"), std::string::npos) << w;
  EXPECT_NE(w.find("granite-3.1-3b-a800m-instruct"), std::string::npos) << w;
  EXPECT_NE(w.find("context/RoPE only"), std::string::npos) << w;
  EXPECT_EQ(to_json(r)["model_source"], "database");
}

TEST(ModelDatabase, IncompleteEntryAsksForTheMissingField) {
  const error e =
      run_error({{"model_name", "ibm-granite/granite-vision-3.3-2b"}, {"max_seq_len", 4096}});
  EXPECT_EQ(e.field, "architecture.intermediate_size");
  EXPECT_NE(e.message.find("granite-vision-3.3-2b is incomplete"), std::string::npos) << e.message;
  // Given the missing value, the entry resolves.
  const estimate_result r = run({{"model_name", "ibm-granite/granite-vision-3.3-2b"},
                                 {"max_seq_len", 4096},
                                 {"architecture", {{"intermediate_size", 8192}}}});
  EXPECT_EQ(r.model.source, "database+request_architecture");
}

TEST(ModelDatabase, UnsupportedEntryIsRefusedWithItsReason) {
  const error e =
      run_error({{"model_name", "nvidia/Nemotron-H-56B-Base-8K"}, {"max_seq_len", 4096}});
  EXPECT_EQ(e.code, error_code::unsupported);
  EXPECT_EQ(e.field, "model_name");
  EXPECT_NE(e.message.find("Mamba-2"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("params_billions"), std::string::npos) << e.message;
}

double relative(std::uint64_t computed, std::uint64_t published) {
  return (static_cast<double>(computed) - static_cast<double>(published)) /
         static_cast<double>(published);
}

TEST(ParameterCounts, OfficialCountsMatchWithinOnePercent) {
  std::size_t checked = 0;
  std::set<std::string> exceptions_used;
  for (const auto& e : cats().models.entries()) {
    if (!e.arch || e.params.status != "official" || !e.params.official_total) continue;
    SCOPED_TRACE(e.id);
    auto p = count_parameters(*e.arch);
    ASSERT_TRUE(p.ok()) << p.err().message;
    const double rel = relative(p->total, *e.params.official_total);
    ++checked;
    if (std::fabs(rel) <= 0.01) {
      EXPECT_FALSE(kOfficialExceptions.count(e.id))
          << "within 1% now (" << rel << "): remove it from kOfficialExceptions";
      continue;
    }
    exceptions_used.insert(e.id);
    EXPECT_TRUE(kOfficialExceptions.count(e.id))
        << "computed " << p->total << " vs official " << *e.params.official_total << " ("
        << rel * 100 << "%): fix the data or explain an exception";
    EXPECT_FALSE(e.params.exception.empty()) << "params.exception must explain the difference";
    EXPECT_LT(std::fabs(rel), 0.02) << "an explained exception is still within 2%";
  }
  EXPECT_EQ(exceptions_used.size(), kOfficialExceptions.size());
  EXPECT_GE(checked, 35u);
}

TEST(ParameterCounts, NominalLabelsHaveNoGrossErrors) {
  std::size_t checked = 0;
  for (const auto& e : cats().models.entries()) {
    if (!e.arch || e.params.status != "nominal" || !e.params.official_total) continue;
    SCOPED_TRACE(e.id);
    auto p = count_parameters(*e.arch);
    ASSERT_TRUE(p.ok());
    const double rel = relative(p->total, *e.params.official_total);
    ++checked;
    if (kNominalExceptions.count(e.id)) {
      EXPECT_GT(std::fabs(rel), kNominalTolerance) << "remove it from kNominalExceptions";
      EXPECT_FALSE(e.params.exception.empty());
      continue;
    }
    EXPECT_LE(std::fabs(rel), kNominalTolerance)
        << "computed " << p->total << " vs the label " << e.params.text;
  }
  EXPECT_GE(checked, 80u);
}

TEST(ParameterCounts, OfficialActiveCountsFollowTheirConvention) {
  std::size_t checked = 0;
  for (const auto& e : cats().models.entries()) {
    if (!e.arch || e.params.status != "official" || !e.params.official_active) continue;
    SCOPED_TRACE(e.id);
    auto p = count_parameters(*e.arch);
    ASSERT_TRUE(p.ok());
    // Our `active` counts both embedding matrices; some vendors leave the input one out.
    const std::uint64_t both = p->active, one = p->active - p->embedding;
    std::uint64_t active = e.params.convention == kExcludesOne ? one : both;
    if (e.params.convention == kUnknownConvention) {
      const double rb = std::fabs(relative(both, *e.params.official_active));
      const double ro = std::fabs(relative(one, *e.params.official_active));
      EXPECT_LE(std::max(rb, ro), kActiveTolerance) << "both conventions should match";
      active = rb < ro ? both : one;
    }
    const double rel = relative(active, *e.params.official_active);
    ++checked;
    EXPECT_LE(std::fabs(rel), kActiveTolerance)
        << "computed active " << active << " (" << e.params.convention << ") vs "
        << *e.params.official_active;
  }
  EXPECT_GE(checked, 10u);
}

// The checkpoint's own bytes (model.safetensors.index.json metadata.total_size) against the
// weights computed from the entry: checkpoint_layout_bytes counts every parameter in the
// checkpoint's own dtype (16 bit when torch_dtype is not stated) and its own quantization
// (scales included), unsharded and without buffers, so a 16-bit checkpoint should match to the
// byte and a quantized one to within its scale layout. This checks the architecture values and
// the weight counting together.
TEST(CheckpointSizes, ComputedWeightBytesMatchTheCheckpointTotalSize) {
  std::size_t checked = 0;
  std::set<std::string> exceptions_used;
  for (const auto& e : cats().models.entries()) {
    if (!e.checkpoint) continue;
    SCOPED_TRACE(e.id);
    EXPECT_GE(e.checkpoint->source.size(), 10u) << "checkpoint.source names where it was read";
    if (!e.arch) continue;  // unsupported or incomplete: nothing computed to compare
    auto computed = checkpoint_layout_bytes(*e.arch, 16);
    ASSERT_TRUE(computed.ok()) << computed.err().message;
    const double rel = relative(*computed, e.checkpoint->total_size_bytes);
    ++checked;
    const auto ex = kCheckpointExceptions.find(e.id);
    if (std::fabs(rel) <= kCheckpointTolerance) {
      EXPECT_EQ(ex, kCheckpointExceptions.end())
          << "within " << kCheckpointTolerance * 100 << "% now (" << rel * 100
          << "%): remove it from kCheckpointExceptions";
      continue;
    }
    exceptions_used.insert(e.id);
    EXPECT_NE(ex, kCheckpointExceptions.end())
        << "computed " << *computed << " bytes vs total_size " << e.checkpoint->total_size_bytes
        << " (" << rel * 100 << "%): fix the data or explain an exception";
  }
  EXPECT_EQ(exceptions_used.size(), kCheckpointExceptions.size());
  EXPECT_GE(checked, 1u);
}

}  // namespace
}  // namespace vllm_mem::testing
