// estimate/resolve.cpp — which architecture a request means: config, size, database, request
// fields or a name estimate.
#include <charconv>
#include <cmath>

#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/name_estimate.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

// ---------------------------------------------------------------------------------------------
// Model resolution

namespace {

bool has_required(const arch_spec& s) {
  return s.num_layers && s.hidden_size && s.num_heads && s.vocab_size;
}

// A GGUF repository ("...-GGUF", "..._gguf"): vLLM loads GGUF files through its own loader
// (model_loader/gguf_loader.py: one file, llama.cpp's block-quantized tensors dequantized per
// kernel, the tokenizer from the base), a weight layout this calculator does not model.
bool names_gguf(std::string_view name) {
  const std::string lower = to_lower(name);
  const auto at = lower.find("gguf");
  if (at == std::string::npos) return false;
  const bool start = at == 0 || lower[at - 1] == '-' || lower[at - 1] == '_' ||
                     lower[at - 1] == '/' || lower[at - 1] == '.';
  const std::size_t end = at + 4;
  return start && (end == lower.size() || lower[end] == '-' || lower[end] == '_');
}

// The database id closest to `name` by edit distance (with or without the organisation), when
// it is close: at most 2 edits, or a tenth of the name.
// The numbers of a name, in order ("Llama-3.1-8B" -> 3, 1, 8): a name that differs in one of them
// names another model (Qwen3-8B is not Qwen3-4B), however close its spelling.
std::vector<std::string> numbers_in(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (const char c : s) {
    if (c >= '0' && c <= '9') {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// The database name (an id or an alias) closest to `name` in edit distance, case-insensitive,
// with or without the organisation, when within max(2, a tenth of its length) edits.
// `unambiguous`: one entry is closest and the numbers are the same, so the name is that entry
// misspelt (Llama-3.1-8B-Instruc) rather than another model.
struct close_name {
  std::string id;    // the entry's id
  std::string name;  // the id or alias that was close
  bool unambiguous = false;
};

close_name close_database_name(std::string_view name, const model_db& db) {
  const std::string lower = to_lower(name);
  const auto slash = lower.rfind('/');
  const std::string_view base = slash == std::string::npos
                                    ? std::string_view(lower)
                                    : std::string_view(lower).substr(slash + 1);
  close_name best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  bool tie = false;
  for (const auto& e : db.entries()) {
    if (e.closed) continue;
    std::size_t entry_d = static_cast<std::size_t>(-1);
    std::string entry_name;
    auto consider = [&](const std::string& candidate) {
      const std::string id = to_lower(candidate);
      const auto es = id.rfind('/');
      const std::string_view ebase =
          es == std::string::npos ? std::string_view(id) : std::string_view(id).substr(es + 1);
      const std::size_t d = std::min(edit_distance(lower, id), edit_distance(base, ebase));
      if (d < entry_d) {
        entry_d = d;
        entry_name = candidate;
      }
    };
    consider(e.id);
    for (const auto& a : e.aliases) consider(a);
    // Between names as close, the one whose numbers are nearest is meant (Qwen3-7B: Qwen3-8B,
    // not Qwen2-7B or Qwen3-4B; Llama-3.1-7B: 8B, not 70B), then the one sharing the longer
    // start; the hint is still ambiguous.
    auto number_gap = [&](const std::string& candidate) {
      const auto q = numbers_in(base);
      const auto c = numbers_in(to_lower(candidate));
      if (q.size() != c.size()) return 1e9;
      double gap = 0.0;
      for (std::size_t i = 0; i < q.size(); ++i) {
        const double x = std::stod(q[i].substr(0, 12)), y = std::stod(c[i].substr(0, 12));
        if (x != y) gap += std::abs(x - y) / std::max(x, y);
      }
      return gap;
    };
    auto shared_start = [&](const std::string& candidate) {
      const std::string c = to_lower(candidate);
      const auto cs = c.rfind('/');
      const std::string_view cb =
          cs == std::string::npos ? std::string_view(c) : std::string_view(c).substr(cs + 1);
      std::size_t n = 0;
      while (n < cb.size() && n < base.size() && cb[n] == base[n]) ++n;
      return n;
    };
    auto nearer = [&](const std::string& a, const std::string& b) {
      const double ga = number_gap(a), gb = number_gap(b);
      if (ga != gb) return ga < gb;
      return shared_start(a) > shared_start(b);
    };
    if (entry_d < best_d) {
      best_d = entry_d;
      best = close_name{e.id, entry_name, false};
      tie = false;
    } else if (entry_d == best_d && e.id != best.id) {
      tie = true;
      if (nearer(entry_name, best.name)) best = close_name{e.id, entry_name, false};
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, base.size() / 10);
  if (best_d == 0 || best_d > limit) return {};
  best.unambiguous = !tie && numbers_in(base) == numbers_in(to_lower(best.name));
  return best;
}

// The family stem of a repository name: its words before the first size word ("7b", "1.5b",
// "e4b", "a3b", "350m"), lower case; empty without a size word.
std::string family_stem(std::string_view name) {
  const std::string lower = to_lower(name);
  const auto slash = lower.rfind('/');
  const std::string base = slash == std::string::npos ? lower : lower.substr(slash + 1);
  auto is_size_word = [](std::string_view w) {
    std::size_t i = 0;
    if (i < w.size() && (w[i] == 'e' || w[i] == 'a')) ++i;  // Gemma's E4B, MoE's A3B
    const std::size_t digits = i;
    while (i < w.size() && ((w[i] >= '0' && w[i] <= '9') || w[i] == '.')) ++i;
    return i > digits && i + 1 == w.size() && (w[i] == 'b' || w[i] == 'm');
  };
  std::size_t pos = 0;
  while (pos < base.size()) {
    const std::size_t dash = base.find_first_of("-_", pos);
    const std::size_t end = dash == std::string::npos ? base.size() : dash;
    if (is_size_word(std::string_view(base).substr(pos, end - pos))) {
      return pos > 1 ? base.substr(0, pos - 1) : std::string();
    }
    if (dash == std::string::npos) break;
    pos = dash + 1;
  }
  return {};
}

// What the name said about the checkpoint: a fine-tune's base, a quantized repository's scheme.
void warn_name_quantization(const model_match& match, const std::string& model_name,
                            resolved_model& out) {
  const std::string scheme =
      match.quant_from_name
          ? " (" + match.quant_suffix + " -> " +
                std::string(quant_method_name(match.quant_from_name->method)) + ")"
          : std::string();
  if (match.kind == match_kind::finetune) {
    std::string w = "'" + model_name + "' is not in the database; resolved as " + match.entry->id +
                    ", the base its name states (its '" + match.finetune_token +
                    "' token names a fine-tune or re-release with the base's architecture)";
    if (match.quant_from_name) w += ", with the quantization its name states" + scheme;
    out.warnings.push_back(w + "; give 'architecture' if its config differs");
  } else if (match.kind == match_kind::quantized) {
    out.warnings.push_back("'" + model_name + "' is not in the database; resolved as " +
                           match.entry->id + " with the quantization its name states" + scheme);
  } else if (match.quant_from_name) {
    out.warnings.push_back("the database entry " + match.entry->id +
                           " states no quantization layout (its quantization config was not "
                           "read); the scheme its name states is applied" +
                           scheme);
  }
}

// An entry of the name's family when every open entry of that family is one the calculator does
// not model (Gemma 4, DeepSeek-V4, Nemotron-H): a size-estimated Llama would be silently wrong.
const model_entry* unsupported_family_entry(std::string_view name, const model_db& db) {
  const std::string stem = family_stem(name);
  if (stem.size() < 3) return nullptr;
  const model_entry* found = nullptr;
  for (const auto& e : db.entries()) {
    if (e.closed || family_stem(e.id) != stem) continue;
    if (e.unsupported.empty()) return nullptr;
    if (found == nullptr) found = &e;
  }
  return found;
}

// The database entry a request's name resolves to. A misspelt database name (one entry closest,
// the same numbers) is that entry, matched as close_name, with the name it was read as in `as`;
// not when the request describes the model itself.
std::optional<model_match> resolve_name(const estimate_request& r, const model_db& db,
                                        std::string& as) {
  std::optional<model_match> match = db.resolve(r.model_name);
  if (match || r.hf_config || r.params_billions ||
      (r.architecture && has_required(*r.architecture)))
    return match;
  const close_name c = close_database_name(r.model_name, db);
  if (!c.unambiguous) return match;
  match = db.resolve(c.name);
  if (match) {
    match->kind = match_kind::close_name;
    as = c.name;
  }
  return match;
}

}  // namespace

// resolve_model, writing into the estimate's own result (no copy of the resolved model).
status resolve_model_into(const estimate_request& r, const model_db& db, resolved_model& out) {
  arch_spec base;
  const model_arch* entry_arch = nullptr;
  std::string misspelt_as;
  std::optional<model_match> match = resolve_name(r, db, misspelt_as);
  if (!r.hf_config && !r.params_billions && !(r.architecture && has_required(*r.architecture)) &&
      (!match || match->kind != match_kind::exact) && names_gguf(r.model_name)) {
    return make_error(error_code::invalid_argument,
                      "'" + r.model_name +
                          "' is a GGUF checkpoint: vLLM loads GGUF files through a separate "
                          "loader (llama.cpp's block-quantized tensors, dequantized per kernel) "
                          "whose memory this calculator does not model. Give the base model's "
                          "name with 'quantization', or 'params_billions'.",
                      "model_name");
  }
  std::optional<quant_spec> name_quant;
  if (r.hf_config) {
    base = *r.hf_config;
    out.source = "hf_config";
  } else if (r.params_billions) {
    const double p = *r.params_billions * 1e9;
    base = arch_from_params(p);
    out.source = "params_billions";
    std::string w = "architecture estimated from params_billions (" + billions(p) +
                    "): layers, hidden size and heads are typical values for that size, not the "
                    "model's own";
    if (match && match->entry->arch)
      w += "; the database's architecture of " + match->entry->id + " was not used";
    out.warnings.push_back(w);
  } else if (match && match->entry->closed) {
    const model_entry& e = *match->entry;
    out.resolved_id = e.id;
    out.entry = &e;
    out.match = match_kind_name(match->kind);
    const std::uint64_t p = e.params.official_total.value_or(0);
    if (r.architecture && has_required(*r.architecture)) {
      base = *r.architecture;
      out.source = "request_architecture";
    } else if (p > 0) {
      base = arch_from_params(static_cast<double>(p));
      out.source = "closed_model_estimate";
    } else {
      return make_error(
          error_code::invalid_argument,
          e.display_name +
              " is a closed model and no parameter count has been published "
              "(not even an estimate we could source); give 'params_billions' to estimate it",
          "params_billions");
    }
    std::string size_note;
    if (out.source == "request_architecture") {
      size_note = "The architecture used is the one in the request.";
    } else if (e.params.status == "official") {
      size_note = "Its size (" + e.params.text + ", source: " + e.params.source +
                  ") is the only published figure; no architecture has been published, so the "
                  "one used here is estimated from that count (unofficial).";
    } else {
      size_note = "Its size (" + e.params.text + ", " + e.params.status +
                  ", source: " + e.params.source +
                  ") is a published estimate, not an official figure, and its architecture here "
                  "is estimated from that count.";
    }
    out.warnings.push_back(e.display_name +
                           " is a closed model: its weights are not public and vLLM cannot serve "
                           "it. " +
                           size_note);
  } else if (match && !match->entry->unsupported.empty()) {
    const model_entry& e = *match->entry;
    return make_error(error_code::unsupported,
                      e.id +
                          " is in the database, but this calculator does not model its "
                          "architecture: " +
                          e.unsupported +
                          ". Give 'params_billions' for a rough dense-transformer estimate.",
                      "model_name");
  } else if (match) {
    const model_entry& e = *match->entry;
    if (r.architecture || !e.arch) {
      base = *e.spec;
    } else {
      entry_arch = &*e.arch;  // resolved at load; nothing in the request changes it
    }
    out.entry = &e;
    out.resolved_id = e.id;
    out.match = match_kind_name(match->kind);
    out.source = "database";
    if (match->quant_from_name) name_quant = match->quant_from_name;
    if (match->kind == match_kind::close_name) {
      out.warnings.push_back("'" + r.model_name + "' is not in the database; it was read as '" +
                             misspelt_as +
                             "', the one database name that close (same numbers, a few letters "
                             "apart). Give the exact name if you meant another model.");
    }
    warn_name_quantization(*match, r.model_name, out);
    if (match->variant) {
      out.warnings.push_back(
          "'" + r.model_name + "' is not in the database by that name; it was resolved as " + e.id +
          ", a variant of the same architecture (-Instruct/-chat/-it/-base/-hf). A variant's own "
          "config can differ in context fields (max_position_embeddings, rope_scaling); give "
          "'architecture' or 'max_model_len' if yours does.");
    }
    if (e.fill_from) {
      std::string fields;
      for (const auto& f : e.fill_from->fields) fields += (fields.empty() ? "" : ", ") + f;
      out.warnings.push_back("the database entry for " + e.id + " takes " + fields + " from " +
                             e.fill_from->id + ", because no source we hold states them for " +
                             e.id + " itself: " + e.fill_from->reason);
    }
  } else if (r.architecture && has_required(*r.architecture)) {
    out.source = "request_architecture";
  } else {
    // (params_billions was handled above: with it the user asks for the rough estimate.)
    if (const model_entry* fam = unsupported_family_entry(r.model_name, db)) {
      return make_error(
          error_code::unsupported,
          "'" + r.model_name + "' is not in the database, but its family is (" + fam->id +
              "), and this calculator does not model that architecture: " + fam->unsupported +
              ". Give 'params_billions' for a rough dense-transformer estimate.",
          "model_name");
    }
    auto named = params_from_name(r.model_name);
    double p = 7e9;
    std::uint64_t experts = 0;
    if (named) {
      p = named->experts > 1 ? named->expert_params : named->total_params;
      experts = named->experts;
      out.source = "name_estimate";
      out.warnings.push_back(
          "'" + r.model_name + "' is not in the database; its size was read from the name (" +
          named->text +
          ") and its architecture estimated from that count (Llama-style, grouped-query "
          "attention with 8 KV heads, 32000-token vocabulary). Give 'architecture' or "
          "'params_billions' for a better answer.");
    } else {
      out.source = "default_estimate";
      out.warnings.push_back(
          "'" + r.model_name +
          "' is not in the database and its name has no size; a 7B "
          "Llama-style architecture was assumed. Give 'params_billions' or 'architecture'.");
    }
    if (const close_name hint = close_database_name(r.model_name, db); !hint.id.empty()) {
      out.warnings.back() += " Did you mean '" + hint.name + "'?";
    }
    base = arch_from_params(p, experts);
    // The quantization a name states holds for an estimated architecture too ("-AWQ", "-INT4").
    if (auto q = strip_quant_suffix(r.model_name)) {
      name_quant = q->quant;
      out.warnings.back() += " Its weights follow the quantization its name states (" + q->suffix +
                             " -> " + std::string(quant_method_name(q->quant.method)) + ").";
    }
  }

  if (entry_arch) {
    out.arch = *entry_arch;
  } else {
    if (r.architecture && out.source != "request_architecture") {
      base.overlay(*r.architecture);
      if (!r.architecture->empty()) out.source += "+request_architecture";
    } else if (out.source == "request_architecture") {
      base = *r.architecture;
    }
    auto arch = resolve_arch(base, "architecture.");
    if (!arch) {
      error e = arch.err();
      if (out.entry) {
        e.message = "the database entry for " + out.entry->id + " is incomplete (" + e.message +
                    "; this value was not found in any source we hold). Give it in the request's "
                    "'architecture'.";
      }
      return e;
    }
    out.arch = std::move(*arch);
  }
  // The name's suffix describes the checkpoint asked for (its outermost quantization), so it
  // wins over the base entry's own; a quantization stated in the request's architecture wins.
  if (name_quant && !(r.architecture && r.architecture->quantization)) {
    out.arch.quantization = *name_quant;
    apply_unstated_layout(out.arch.is_mla(), out.arch.quantization);
  }
  if (r.safetensors) out.source = "safetensors";
  return ok_status();
}

result<resolved_model> resolve_model(const estimate_request& r, const model_db& db) {
  resolved_model out;
  if (auto s = resolve_model_into(r, db, out); !s) return s.err();
  return out;
}

}  // namespace vllm_mem
