// reference_configs_test.cpp — every database entry against its record in the reference configs
// (../shared/reference/model-configs*.json): every value the reference read must be the entry's,
// under the key mapping of data/schema.md ("Reference records"). Skipped, with a message, when
// ../shared is not next to the checkout; CI has it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "test_support.hpp"
#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kReferenceDir = fs::path(VLLM_MEM_SOURCE_DIR) / ".." / "shared" / "reference";

struct reference {
  std::vector<json> records;  // both files; each record gets "_file"
  std::string error;
};

const reference& load_reference() {
  static const reference r = [] {
    reference out;
    for (const char* name : {"model-configs.json", "model-configs-extra.json"}) {
      const fs::path p = kReferenceDir / name;
      if (!fs::exists(p)) {
        out.error = p.string() + " not found";
        return out;
      }
      std::ifstream in(p, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      auto doc = parse_json_strict(ss.str(), json_limits{64, 1 << 20, 10000000});
      if (!doc || !doc->is_array()) {
        out.error = p.string() + ": " + (doc ? "not an array" : doc.err().message);
        return out;
      }
      for (auto rec : *doc) {
        rec["_file"] = name;
        out.records.push_back(std::move(rec));
      }
    }
    return out;
  }();
  return r;
}

#define SKIP_WITHOUT_REFERENCE()                                             \
  const reference& ref = load_reference();                                   \
  if (!ref.error.empty()) {                                                  \
    GTEST_SKIP() << "the reference configs are not available (" << ref.error \
                 << "); CI checks out ../shared next to the repository";     \
  }

// A record replaced by a later one ("supersedes_record": "<hf_id> (why)") is not compared: the
// later record is. Only records of model-configs.json are superseded.
std::set<std::string> superseded_ids(const reference& ref) {
  std::set<std::string> out;
  for (const auto& r : ref.records) {
    if (!r.contains("supersedes_record") || !r["supersedes_record"].is_string()) continue;
    const std::string s = r["supersedes_record"].get<std::string>();
    out.insert(s.substr(0, s.find(' ')));
  }
  return out;
}

bool is_superseded(const json& r, const std::set<std::string>& superseded) {
  return r["_file"] == "model-configs.json" && r["hf_id"].is_string() &&
         superseded.count(r["hf_id"].get<std::string>()) > 0;
}

// The entry's architecture as written, with the fields it fills from another entry.
json written_architecture(const model_entry& e) {
  json a = e.raw.value("architecture", json::object());
  if (e.fill_from) {
    const model_entry* from = cats().models.find_exact(e.fill_from->id);
    if (from) {
      for (const auto& f : e.fill_from->fields) a[f] = from->raw["architecture"][f];
    }
  }
  return a;
}

bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

struct checker {
  const std::string& id;
  const json& arch;
  std::vector<std::string> mismatches;

  void expect(const std::string& key, const json& want, const std::string& rule = "") {
    const json got = arch.contains(key) ? arch[key] : json();
    if (!same_value(got, want)) {
      mismatches.push_back(key + ": reference " + want.dump() + ", database " + got.dump() +
                           (rule.empty() ? "" : " (" + rule + ")"));
    }
  }
  void expect_absent_or(const std::string& key, const json& want) {
    if (arch.contains(key)) expect(key, want);
  }
};

// Reference keys that are the canonical keys of data/schema.md under another name.
const std::pair<const char*, const char*> kRenamed[] = {
    {"num_hidden_layers", "num_layers"},
    {"hidden_size", "hidden_size"},
    {"num_attention_heads", "num_heads"},
    {"head_dim", "head_dim"},
    {"vocab_size", "vocab_size"},
    {"tie_word_embeddings", "tie_word_embeddings"},
    {"max_position_embeddings", "max_position_embeddings"},
    {"num_experts", "num_experts"},
    {"num_experts_per_tok", "num_experts_per_tok"},
    {"moe_intermediate_size", "moe_intermediate_size"},
    {"n_shared_experts", "num_shared_experts"},
    {"shared_expert_intermediate_size", "shared_expert_intermediate_size"},
    {"first_k_dense_replace", "first_k_dense_replace"},
    {"kv_lora_rank", "kv_lora_rank"},
    {"qk_rope_head_dim", "qk_rope_head_dim"},
    {"qk_nope_head_dim", "qk_nope_head_dim"},
    {"v_head_dim", "v_head_dim"},
    {"rope_theta", "rope_theta"},
    {"partial_rotary_factor", "partial_rotary_factor"},
    {"attention_bias", "attention_bias"},
    {"qkv_bias", "qkv_bias"},
    {"final_logit_softcapping", "logit_softcapping"},
    {"new_decoder_architecture", "new_decoder_architecture"},
    {"parallel_attn", "parallel_attn"},
};

// "gemma3 (text_config: gemma3_text)" -> outer gemma3, text gemma3_text; "falcon (originally
// RefinedWebModel)" -> falcon.
std::pair<std::string, std::string> model_types(const std::string& s) {
  const std::string outer = s.substr(0, s.find(' '));
  static const std::regex text_re(R"(\((?:text_config|text): ([a-z0-9_\-]+)\))");
  std::smatch m;
  if (std::regex_search(s, m, text_re)) return {outer, m[1].str()};
  return {outer, ""};
}

// Families whose config keeps the per-expert FFN width in intermediate_size (Mixtral-style;
// model-configs-extra.md "Per-expert width stored in intermediate_size"): the entry writes it in
// moe_intermediate_size too.
bool expert_width_in_intermediate(const std::string& type) {
  for (const char* t : {"mixtral", "gpt_oss", "granitemoe", "phimoe", "olmoe", "dbrx"}) {
    if (type == t) return true;
  }
  return false;
}

bool sliding_inactive(const json& r) {
  if (r["sliding_window"].is_string()) return true;  // "32768 in config but ... (inactive)"
  const std::string pattern = r.value("layer_pattern", json()).is_string()
                                  ? r["layer_pattern"].get<std::string>()
                                  : std::string();
  if (pattern.find("use_sliding_window false") != std::string::npos) return true;
  const json extra = r.value("extra_config_fields", json());
  if (extra.is_object() && extra.value("use_sliding_window", true) == false) return true;
  // The reference summary: "Qwen configs carry sliding_window values but use_sliding_window:
  // false, so they are inactive" (model-configs.md).
  const std::string type = r["model_type"].is_string() ? r["model_type"].get<std::string>() : "";
  return type.rfind("qwen", 0) == 0;
}

std::string expected_quant_method(const json& q) {
  const std::string m = q.value("quant_method", json("")).is_string()
                            ? q.value("quant_method", std::string())
                            : std::string();
  if (m == "fp8")
    return q.contains("weight_block_size") && q["weight_block_size"].is_array() ? "fp8_block"
                                                                                : "fp8";
  if (m == "compressed-tensors") {
    const std::string w = q.value("weights", json("")).is_string() ? q.value("weights", "") : "";
    if (w.rfind("FP8", 0) == 0) return "fp8";
    if (w.rfind("INT8", 0) == 0) return "int8";
    if (w.rfind("INT4", 0) == 0) return "w4a16";
    return "";
  }
  if (q.value("quant_algo", json("")) == "FP8") return "fp8";  // ModelOpt hf_quant_config.json
  return m;
}

void compare_record(const json& r, const model_entry& e, checker& c) {
  const json& a = c.arch;
  for (const auto& [rk, ek] : kRenamed) {
    const json& v = r[rk];
    if (v.is_null()) continue;
    if (v.is_number() || v.is_boolean()) c.expect(ek, v);
  }
  // KV heads: Falcon-7B's multi_query without the new decoder architecture means one KV head,
  // whatever a re-saved num_kv_heads says (data/schema.md).
  if (r["multi_query"] == true && r["new_decoder_architecture"] != true) {
    c.expect("num_kv_heads", 1, "multi_query");
  } else if (r["num_key_value_heads"].is_number()) {
    c.expect("num_kv_heads", r["num_key_value_heads"]);
  }
  // The dense FFN width. Llama 4 keeps the expert width in intermediate_size and the dense one in
  // intermediate_size_mlp; Mixtral-style configs keep the expert width in intermediate_size.
  const std::string type = r["model_type"].is_string() ? r["model_type"].get<std::string>() : "";
  const json extra = r.value("extra_config_fields", json());
  const bool moe = r["num_experts"].is_number() && r["num_experts"].get<int>() > 1;
  if (r["intermediate_size"].is_number()) {
    if (type.rfind("llama4", 0) == 0) {
      c.expect("moe_intermediate_size", r["intermediate_size"], "llama4 expert width");
      if (extra.is_object() && extra.contains("intermediate_size_mlp")) {
        c.expect("intermediate_size", extra["intermediate_size_mlp"], "llama4 dense width");
      }
    } else {
      c.expect("intermediate_size", r["intermediate_size"]);
      if (moe && expert_width_in_intermediate(type) && e.unsupported.empty()) {
        c.expect("moe_intermediate_size", r["intermediate_size"], "expert width in intermediate");
      }
    }
  } else if (r["expansion_ratio"].is_number() && r["hidden_size"].is_number()) {
    c.expect("intermediate_size",
             r["expansion_ratio"].get<std::uint64_t>() * r["hidden_size"].get<std::uint64_t>(),
             "expansion_ratio x hidden");
  }
  if (r["q_lora_rank"].is_number()) {
    if (r["q_lora_rank"] == 0) {
      c.expect_absent_or("q_lora_rank", 0);
    } else {
      c.expect("q_lora_rank", r["q_lora_rank"]);
    }
  }
  if (r["sliding_window"].is_number()) {
    if (sliding_inactive(r)) {
      c.expect_absent_or("sliding_window", r["sliding_window"]);
    } else {
      c.expect("sliding_window", r["sliding_window"]);
    }
  }
  if (r["layer_pattern"].is_string()) {
    static const std::regex pat_re(R"(sliding_window_pattern (\d+))");
    const std::string lp = r["layer_pattern"].get<std::string>();
    std::smatch m;
    if (std::regex_search(lp, m, pat_re)) {
      c.expect("sliding_window_pattern", std::stoi(m[1].str()), "layer_pattern");
    } else if (lp.rfind("alternating", 0) == 0 && r["sliding_window"].is_number()) {
      c.expect("sliding_window_pattern", 2, "alternating layers");
    }
  }
  if (extra.is_object()) {
    for (const char* k : {"interleave_moe_layer_step", "decoder_sparse_step"}) {
      if (!extra.contains(k) || !extra[k].is_number()) continue;
      if (extra[k] == 1) {
        c.expect_absent_or("moe_layer_freq", 1);
      } else {
        c.expect("moe_layer_freq", extra[k], k);
      }
    }
    if (extra.contains("attention_chunk_size") && extra["attention_chunk_size"].is_number()) {
      c.expect("attention_chunk_size", extra["attention_chunk_size"]);
    }
  }
  if (r["torch_dtype"].is_string()) c.expect("torch_dtype", r["torch_dtype"]);
  if (r["model_type"].is_string()) {
    const auto [outer, text] = model_types(r["model_type"].get<std::string>());
    if (text.empty()) {
      c.expect("model_type", outer);
    } else {
      c.expect("model_type", text, "text_config");
      c.expect("multimodal_model_type", outer, "outer model_type");
    }
  }
  if (r["rope_scaling"].is_object()) {
    const json& rs = r["rope_scaling"];
    const json got = a.value("rope_scaling", json::object());
    for (const char* k : {"rope_type", "type", "factor", "original_max_position_embeddings"}) {
      if (!rs.contains(k) || !(rs[k].is_number() || rs[k].is_string())) continue;
      const json g = got.contains(k) ? got[k] : json();
      if (!same_value(g, rs[k])) {
        c.mismatches.push_back(std::string("rope_scaling.") + k + ": reference " + rs[k].dump() +
                               ", database " + g.dump());
      }
    }
  }
  // The checkpoint's own quantization.
  const json q = r.value("quantization_config", json());
  if (q.is_object()) {
    const json got = a.value("quantization", json::object());
    const std::string method = expected_quant_method(q);
    if (!method.empty() && got.value("method", std::string()) != method) {
      c.mismatches.push_back("quantization.method: reference " + method + ", database " +
                             got.value("method", std::string("none")));
    }
    for (const char* k : {"bits", "group_size", "weight_block_size", "sym", "desc_act"}) {
      if (!q.contains(k) || q[k].is_null() || (q[k].is_string())) continue;
      const json g = got.contains(k) ? got[k] : json();
      if (!same_value(g, q[k])) {
        c.mismatches.push_back(std::string("quantization.") + k + ": reference " + q[k].dump() +
                               ", database " + g.dump());
      }
    }
  }
  // The vision tower of a multimodal repository.
  const json v = r.value("vision_tower", json());
  if (v.is_object()) {
    const json got = a.value("vision", json::object());
    const std::pair<const char*, std::vector<const char*>> keys[] = {
        {"num_layers", {"num_hidden_layers", "depth"}},
        {"hidden_size", {"hidden_size"}},
        {"intermediate_size", {"intermediate_size"}},
        {"num_heads", {"num_heads", "num_attention_heads", "attention_heads"}},
        {"patch_size", {"patch_size"}},
        {"image_size", {"image_size"}},
    };
    for (const auto& [k, names] : keys) {
      for (const char* n : names) {
        if (!v.contains(n) || !v[n].is_number()) continue;
        const json g = got.contains(k) ? got[k] : json();
        if (!same_value(g, v[n])) {
          c.mismatches.push_back(std::string("vision.") + k + ": reference " + v[n].dump() +
                                 ", database " + g.dump());
        }
      }
    }
  }
}

TEST(ReferenceConfigs, EveryReferenceModelIsInTheDatabase) {
  SKIP_WITHOUT_REFERENCE();
  std::size_t open = 0, closed = 0;
  for (const auto& r : ref.records) {
    if (r["closed_model"] == true) {
      ++closed;
      // The closed rows: matched by display name, with the published figure as the reference has
      // it and the status it gives.
      const std::string name = r["display_name"].get<std::string>();
      const model_entry* hit = nullptr;
      for (const auto& e : cats().models.entries()) {
        if (e.closed && name.rfind(e.display_name, 0) == 0) hit = &e;
      }
      ASSERT_NE(hit, nullptr) << "closed model " << name << " is not in the database";
      if (r["official_params"].is_string()) {
        EXPECT_EQ(hit->params.text, r["official_params"].get<std::string>()) << name;
      } else {
        EXPECT_FALSE(hit->params.official_total.has_value()) << name;
      }
      const bool official = r["params_status"].get<std::string>().rfind("official", 0) == 0;
      EXPECT_EQ(hit->params.status, official ? "official" : "unofficial") << name;
      continue;
    }
    ++open;
    const std::string id = r["hf_id"].get<std::string>();
    const model_entry* e = cats().models.find_exact(id);
    ASSERT_NE(e, nullptr) << id << " (" << r["_file"] << ") is not in the database";
    EXPECT_FALSE(e->closed) << id;
  }
  EXPECT_EQ(closed, 10u);
  EXPECT_EQ(open, 168u);
}

TEST(ReferenceConfigs, EveryArchitectureValueEqualsTheReferenceRecord) {
  SKIP_WITHOUT_REFERENCE();
  const std::set<std::string> superseded = superseded_ids(ref);
  EXPECT_EQ(superseded.size(), 2u);  // gemma-3-27b-pt, Qwen3-14B (model-configs-extra.json)
  std::size_t compared = 0;
  for (const auto& r : ref.records) {
    if (r["closed_model"] == true || is_superseded(r, superseded)) continue;
    const std::string id = r["hf_id"].get<std::string>();
    const model_entry* e = cats().models.find_exact(id);
    if (e == nullptr) continue;  // reported by EveryReferenceModelIsInTheDatabase
    const json arch = written_architecture(*e);
    checker c{e->id, arch, {}};
    compare_record(r, *e, c);
    ++compared;
    for (const auto& m : c.mismatches) {
      ADD_FAILURE() << id << " (entry " << e->id << ", " << r["_file"].get<std::string>()
                    << "): " << m;
    }
  }
  EXPECT_EQ(compared, 166u);
}

TEST(ReferenceConfigs, ParameterCountsAgreeWithTheReferenceComputation) {
  // The reference computed each model's total from its config with its own formulas
  // (derived_check); ours must agree, which checks count_parameters and the data together.
  SKIP_WITHOUT_REFERENCE();
  const std::set<std::string> superseded = superseded_ids(ref);
  std::size_t compared = 0;
  for (const auto& r : ref.records) {
    if (r["closed_model"] == true || is_superseded(r, superseded)) continue;
    const json& d = r["derived_check"];
    if (!d.is_object() || !d["computed_total_params"].is_number()) continue;
    const model_entry* e = cats().models.find_exact(r["hf_id"].get<std::string>());
    if (e == nullptr || !e->arch) continue;
    auto p = count_parameters(*e->arch);
    ASSERT_TRUE(p.ok());
    double theirs = d["computed_total_params"].get<double>();
    double ours = static_cast<double>(p->total);
    // A record without a vision computation counted the text model only.
    if (!d.contains("computed_vision_params")) ours -= static_cast<double>(p->vision);
    // Some records compute the text model only and give the vision tower separately.
    if (d.contains("computed_vision_params") && d["computed_vision_params"].is_number() &&
        p->vision > 0) {
      const double with_vision = theirs + d["computed_vision_params"].get<double>();
      if (std::fabs(with_vision - ours) < std::fabs(theirs - ours)) theirs = with_vision;
    }
    const double rel = (ours - theirs) / theirs;
    ++compared;
    EXPECT_LT(std::fabs(rel), 0.01)
        << e->id << ": computed " << ours << ", reference " << static_cast<std::uint64_t>(theirs);
  }
  EXPECT_GE(compared, 140u);
}

}  // namespace
}  // namespace vllm_mem::testing
