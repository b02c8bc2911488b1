// ingest/model_db.cpp — loading and name resolution of the model database.
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/ingest/arch_json.hpp"

#include <algorithm>
#include <array>

#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

const char* match_kind_name(match_kind k) {
  switch (k) {
    case match_kind::exact:
      return "exact";
    case match_kind::suffix_variant:
      return "suffix_variant";
    case match_kind::reupload:
      return "reupload";
    case match_kind::quantized:
      return "quantized_checkpoint";
    case match_kind::finetune:
      return "finetune_of_base";
    case match_kind::close_name:
      return "close_name";
  }
  return "exact";
}

namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

std::string_view strip_org(std::string_view name) {
  const auto slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

quant_spec make_quant(quant_method m, std::uint32_t bits, std::uint32_t group) {
  quant_spec q;
  q.method = m;
  q.bits = bits;
  q.group_size = group;
  return q;
}

struct suffix_rule {
  std::string_view suffix;
  quant_method method;
  std::uint32_t bits;
  std::uint32_t group;
};

// Longest first, so "-GPTQ-Int4" wins over "-Int4". Layouts: vllm-memory-model.md §9.3.
constexpr std::array<suffix_rule, 33> kQuantSuffixes{{
    {"-unsloth-bnb-4bit", quant_method::bitsandbytes, 4, 64},
    // Google's quantization-aware-trained compressed-tensors checkpoints (Gemma 4 "-qat-w4a16-ct":
    // W4A16 in groups of 32, as their model cards' third-party copies describe them).
    {"-qat-w4a16-ct", quant_method::w4a16, 4, 32},
    {"-autoround-gptq-4bit", quant_method::gptq, 4, 128},
    {"-quantized.w4a16", quant_method::w4a16, 4, 128},
    {"-quantized.w8a16", quant_method::int8, 8, 0},
    {"-quantized.w8a8", quant_method::int8, 8, 0},
    {"-quantized.w4a4", quant_method::nvfp4, 4, 16},
    {"-fp8-dynamic", quant_method::fp8, 8, 0},
    {"-fp8_dynamic", quant_method::fp8, 8, 0},
    {"-fp8-static", quant_method::fp8, 8, 0},
    {"-awq-int4", quant_method::awq, 4, 128},  // hugging-quants/...-AWQ-INT4
    {"-gptq-int4", quant_method::gptq, 4, 128},
    {"-gptq-int8", quant_method::gptq, 8, 128},
    {"-gptq-4bit", quant_method::gptq, 4, 128},
    {"-gptq-8bit", quant_method::gptq, 8, 128},
    {"-awq-4bit", quant_method::awq, 4, 128},
    {"-bnb-4bit", quant_method::bitsandbytes, 4, 64},
    {"-bnb-8bit", quant_method::bitsandbytes, 8, 0},
    {"-autoround", quant_method::gptq, 4, 128},
    {"-fp8-block", quant_method::fp8_block, 8, 0},
    {"-w4a16", quant_method::w4a16, 4, 128},
    {"-w8a16", quant_method::int8, 8, 0},
    {"-w8a8", quant_method::int8, 8, 0},
    {"-mxfp4", quant_method::mxfp4, 4, 32},
    {"-nvfp4", quant_method::nvfp4, 4, 16},
    {"-gptq", quant_method::gptq, 4, 128},
    {"-int4", quant_method::w4a16, 4, 128},
    {"-int8", quant_method::int8, 8, 0},
    {"-awq", quant_method::awq, 4, 128},
    {"-fp8", quant_method::fp8, 8, 0},
    {"-fp4", quant_method::nvfp4, 4, 16},
    {"-nf4", quant_method::bitsandbytes, 4, 64},
    // A bare "-4bit" (Unsloth's older uploads: bitsandbytes NF4) after every "-<method>-4bit".
    {"-4bit", quant_method::bitsandbytes, 4, 64},
}};

// Fine-tune tokens: whole words naming a fine-tune of the same architecture (Qwen2.5-Math-7B
// and Qwen2.5-Coder-1.5B are Qwen2.5-7B and -1.5B layouts). Tried only when the name itself and
// its quantized form match nothing, so a fine-tune with an entry of its own (Qwen2.5-Coder-7B,
// DeepSeek-Coder-V2-Lite) always wins. "-Distill-" is not one: the student follows the token
// (DeepSeek-R1-Distill-Qwen-7B is Qwen2.5-Math-7B, not "Qwen-7B"), so those need entries.
constexpr std::array<std::string_view, 2> kFinetuneTokens{"math", "coder"};

// The name with fine-tune tokens removed from its basename (organisation kept; never the first
// word), and the first token removed in `removed`; empty when it has none.
std::string strip_finetune_tokens(std::string_view name, std::string& removed) {
  const auto slash = name.rfind('/');
  const std::size_t start = slash == std::string_view::npos ? 0 : slash + 1;
  std::string out(name.substr(0, start));
  const std::string_view base = name.substr(start);
  bool any = false, first = true;
  std::size_t pos = 0;
  while (pos <= base.size()) {
    const auto dash = base.find('-', pos);
    const std::string_view tok =
        base.substr(pos, dash == std::string_view::npos ? base.size() - pos : dash - pos);
    // A release tag (YYMM: "-2507" of Qwen3-4B-Instruct-2507) names a re-trained checkpoint of the
    // same architecture; its context fields may differ (the warning says so).
    const bool date =
        tok.size() == 4 && tok[0] == '2' &&
        std::all_of(tok.begin(), tok.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    const bool ft =
        pos > 0 && (date || std::any_of(kFinetuneTokens.begin(), kFinetuneTokens.end(),
                                        [&](std::string_view t) { return iequals(tok, t); }));
    if (ft) {
      if (!any) removed = std::string(tok);
      any = true;
    } else {
      if (!first) out.push_back('-');
      out += tok;
      first = false;
    }
    if (dash == std::string_view::npos) break;
    pos = dash + 1;
  }
  return any ? out : std::string();
}

// Variant tokens: whole hyphen-separated words that name a tuning stage or format of the same
// architecture. Matched as tokens, so "-it" never strips the end of "...-split" and "-pt" never
// the end of "...-gpt".
constexpr std::array<std::string_view, 9> kVariantTokens{"hf", "instruct", "chat", "it", "base",
                                                         "pt", "inst",     "sft",  "dpo"};

bool is_variant_token(std::string_view t) {
  return std::any_of(kVariantTokens.begin(), kVariantTokens.end(),
                     [&](std::string_view v) { return iequals(t, v); });
}

std::string str_or_empty(const json& o, const char* key) {
  return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
}

result<std::uint64_t> opt_count(const json& p, const char* key) {
  if (!p.contains(key) || p[key].is_null()) return std::uint64_t{0};
  if (!p[key].is_number_unsigned() && !p[key].is_number_integer()) {
    return make_error(error_code::invalid_argument,
                      std::string("params.") + key + " must be an integer");
  }
  return p[key].get<std::uint64_t>();
}

result<fill_from_spec> parse_fill_from(const json& f, const std::string& where) {
  auto bad = [&](const std::string& msg) {
    return make_error(error_code::invalid_argument, where + ": fill_from " + msg);
  };
  if (!f.is_object()) return bad("must be an object {\"id\", \"fields\", \"reason\"}");
  for (auto it = f.begin(); it != f.end(); ++it) {
    if (it.key() != "id" && it.key() != "fields" && it.key() != "reason")
      return bad("has an unknown key '" + it.key() + "'");
  }
  fill_from_spec out;
  if (!f.contains("id") || !f["id"].is_string() || f["id"].get<std::string>().empty())
    return bad("'id' must be a non-empty string");
  out.id = f["id"].get<std::string>();
  if (!f.contains("reason") || !f["reason"].is_string() || f["reason"].get<std::string>().empty())
    return bad("'reason' must say why the sources show the two models share these fields");
  out.reason = f["reason"].get<std::string>();
  if (!f.contains("fields") || !f["fields"].is_array() || f["fields"].empty())
    return bad("'fields' must be a non-empty array of architecture keys");
  const auto& keys = arch_keys();
  for (const auto& k : f["fields"]) {
    if (!k.is_string()) return bad("'fields' must hold strings");
    const std::string key = k.get<std::string>();
    if (key == "extra" || std::find(keys.begin(), keys.end(), key) == keys.end())
      return bad("field '" + key + "' is not an architecture key");
    if (std::find(out.fields.begin(), out.fields.end(), key) != out.fields.end())
      return bad("lists '" + key + "' twice");
    out.fields.push_back(key);
  }
  return out;
}

// Parses an entry; the architecture of an entry with `fill_from` is resolved later, once the
// entry it fills from is loaded.
result<model_entry> parse_entry(const json& e, const std::string& file, std::size_t index) {
  const std::string where = file + " entry " + std::to_string(index);
  auto data_error = [&](const std::string& msg) {
    return make_error(error_code::invalid_argument, where + ": " + msg);
  };
  if (!e.is_object()) return data_error("not an object");
  static const std::vector<std::string> keys = {
      "id",           "aliases",     "display_name", "family",       "closed",
      "architecture", "params",      "source",       "verification", "notes",
      "fill_from",    "unsupported", "checkpoint"};
  for (auto it = e.begin(); it != e.end(); ++it) {
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) {
      return data_error("unknown key '" + it.key() + "'");
    }
  }
  model_entry m;
  m.file = file;
  m.raw = e;
  if (!e.contains("id") || !e["id"].is_string() || e["id"].get<std::string>().empty()) {
    return data_error("'id' must be a non-empty string");
  }
  m.id = e["id"].get<std::string>();
  const std::string w2 = file + " '" + m.id + "'";
  auto str = [&](const char* k, std::string& out) -> status {
    if (!e.contains(k)) return ok_status();
    if (!e[k].is_string())
      return make_error(error_code::invalid_argument, w2 + ": '" + k + "' must be a string");
    out = e[k].get<std::string>();
    return ok_status();
  };
  for (auto [k, out] : {std::pair{"display_name", &m.display_name}, std::pair{"family", &m.family},
                        std::pair{"verification", &m.verification}, std::pair{"notes", &m.notes},
                        std::pair{"unsupported", &m.unsupported}}) {
    if (auto s = str(k, *out); !s) return s.err();
  }
  if (e.contains("unsupported") && m.unsupported.empty())
    return make_error(error_code::invalid_argument, w2 + ": 'unsupported' must give the reason");
  if (m.display_name.empty()) m.display_name = std::string(strip_org(m.id));
  if (e.contains("aliases")) {
    if (!e["aliases"].is_array()) return data_error("'aliases' must be an array");
    for (const auto& a : e["aliases"]) {
      if (!a.is_string() || a.get<std::string>().empty())
        return data_error("aliases must be non-empty strings");
      m.aliases.push_back(a.get<std::string>());
    }
  }
  if (e.contains("source")) {
    if (!e["source"].is_array()) return data_error("'source' must be an array");
    for (const auto& s : e["source"]) {
      if (!s.is_string()) return data_error("sources must be strings");
      m.source.push_back(s.get<std::string>());
    }
  }
  if (e.contains("closed") && !e["closed"].is_boolean())
    return data_error("'closed' must be true or false");
  m.closed = e.contains("closed") && e["closed"].get<bool>();
  if (e.contains("params")) {
    const json& p = e["params"];
    if (!p.is_object()) return data_error("'params' must be an object");
    auto t = opt_count(p, "official_total");
    auto a = opt_count(p, "official_active");
    if (!t) return data_error(t.err().message);
    if (!a) return data_error(a.err().message);
    if (*t > 0) m.params.official_total = *t;
    if (*a > 0) m.params.official_active = *a;
    m.params.text = str_or_empty(p, "text");
    m.params.status = str_or_empty(p, "status");
    m.params.source = str_or_empty(p, "source");
    m.params.convention = str_or_empty(p, "convention");
    m.params.exception = str_or_empty(p, "exception");
  }
  if (e.contains("checkpoint")) {
    // {"total_size_bytes": <int>, "source": "<where metadata.total_size was read>"}
    const json& c = e["checkpoint"];
    if (!c.is_object() || c.size() != 2 || !c.contains("total_size_bytes") || !c.contains("source"))
      return data_error("'checkpoint' must be {\"total_size_bytes\": <int>, \"source\": \"...\"}");
    if (!c["total_size_bytes"].is_number_unsigned() ||
        c["total_size_bytes"].get<std::uint64_t>() == 0)
      return data_error("checkpoint.total_size_bytes must be a positive integer");
    if (!c["source"].is_string() || c["source"].get<std::string>().empty())
      return data_error("checkpoint.source must name where metadata.total_size was read");
    m.checkpoint = checkpoint_record{c["total_size_bytes"].get<std::uint64_t>(),
                                     c["source"].get<std::string>()};
  }
  if (e.contains("fill_from")) {
    if (m.closed) return data_error("a closed model has no architecture to fill");
    auto f = parse_fill_from(e["fill_from"], w2);
    if (!f) return f.err();
    m.fill_from = std::move(*f);
  }
  if (m.closed) {
    if (e.contains("architecture"))
      return data_error("closed model '" + m.id + "' must not state an architecture");
    return m;
  }
  if (!e.contains("architecture"))
    return data_error("open model '" + m.id + "' has no architecture");
  auto spec = parse_arch_spec(e["architecture"], "architecture.");
  if (!spec) return data_error(spec.err().message);
  m.spec = *spec;
  if (!m.fill_from && m.unsupported.empty()) {
    auto arch = resolve_arch(*spec, "architecture.");
    if (arch) m.arch = *arch;  // an incomplete architecture stays unresolved (reported on use)
  }
  return m;
}

// Copies the `fill_from` fields into the entry's architecture and resolves it.
status apply_fill_from(model_entry& m, const model_entry& from) {
  const fill_from_spec& f = *m.fill_from;
  const std::string where = m.file + " '" + m.id + "': fill_from";
  auto bad = [&](const std::string& msg) {
    return make_error(error_code::invalid_argument, where + " " + msg);
  };
  if (from.closed || !from.raw.contains("architecture")) return bad("names a closed model");
  if (from.fill_from) return bad("names '" + from.id + "', which is itself filled (no chains)");
  json arch = m.raw["architecture"];
  const json& src = from.raw["architecture"];
  for (const auto& k : f.fields) {
    if (arch.contains(k)) return bad("lists '" + k + "', which the entry already states");
    if (!src.contains(k) || src[k].is_null())
      return bad("lists '" + k + "', which '" + from.id + "' does not state");
    arch[k] = src[k];
  }
  auto spec = parse_arch_spec(arch, "architecture.");
  if (!spec) return bad(spec.err().message);
  m.spec = *spec;
  if (m.unsupported.empty()) {
    auto resolved = resolve_arch(*spec, "architecture.");
    if (resolved) m.arch = *resolved;
  }
  return ok_status();
}

// A candidate for a shared index key: lower rank wins, then the smaller id.
struct candidate {
  int rank = 0;
  std::size_t entry = 0;
};

void offer(std::unordered_map<std::string, candidate>& best, const std::vector<model_entry>& all,
           const std::string& key, candidate c) {
  auto [it, inserted] = best.emplace(key, c);
  if (inserted) return;
  const candidate& cur = it->second;
  if (c.rank < cur.rank || (c.rank == cur.rank && all[c.entry].id < all[cur.entry].id)) {
    it->second = c;
  }
}

}  // namespace

std::optional<quant_suffix_match> strip_quant_suffix(std::string_view name) {
  for (const auto& r : kQuantSuffixes) {
    if (ends_with_ci(name, r.suffix) && name.size() > r.suffix.size()) {
      quant_suffix_match m;
      m.base_name = std::string(name.substr(0, name.size() - r.suffix.size()));
      m.suffix = std::string(name.substr(name.size() - r.suffix.size() + 1));
      m.quant = make_quant(r.method, r.bits, r.group);
      return m;
    }
  }
  return std::nullopt;
}

bool has_variant_token(std::string_view name) {
  const std::string_view base = strip_org(name);
  std::size_t pos = 0;
  while (pos <= base.size()) {
    const auto dash = base.find('-', pos);
    const auto tok =
        base.substr(pos, dash == std::string_view::npos ? base.size() - pos : dash - pos);
    if (is_variant_token(tok)) return true;
    if (dash == std::string_view::npos) break;
    pos = dash + 1;
  }
  return false;
}

std::string normalize_model_name(std::string_view name) {
  const std::string base = to_lower(strip_org(name));
  std::string out;
  std::size_t pos = 0;
  while (pos <= base.size()) {
    const auto dash = base.find('-', pos);
    const std::string tok =
        base.substr(pos, dash == std::string::npos ? std::string::npos : dash - pos);
    if (!is_variant_token(tok)) {
      if (!out.empty()) out.push_back('-');
      out += tok;
    }
    if (dash == std::string::npos) break;
    pos = dash + 1;
  }
  if (out.rfind("meta-", 0) == 0 && out.size() > 5) out = out.substr(5);
  return out.empty() ? base : out;
}

result<model_db> model_db::load(const std::vector<source_file>& files) {
  model_db db;
  db.entries_ = std::make_shared<std::vector<model_entry>>();
  db.exact_ = std::make_shared<index>();
  db.normalized_ = std::make_shared<index>();
  db.basename_ = std::make_shared<index>();
  auto& all = *db.entries_;
  for (const auto& f : files) {
    // Strict: duplicate keys (which nlohmann would silently collapse) are errors too.
    auto parsed = parse_json_strict(f.text, json_limits{32, 65536, 1000000});
    if (!parsed)
      return make_error(error_code::invalid_argument, f.name + ": " + parsed.err().message);
    const json& doc = *parsed;
    if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array()) {
      return make_error(error_code::invalid_argument,
                        f.name + ": expected {\"schema_version\": 1, \"models\": [...]}");
    }
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it.key() != "schema_version" && it.key() != "models")
        return make_error(error_code::invalid_argument,
                          f.name + ": unknown top-level key '" + it.key() + "'");
    }
    if (!doc.contains("schema_version") || !doc["schema_version"].is_number_integer() ||
        doc["schema_version"].get<std::int64_t>() != 1) {
      return make_error(error_code::invalid_argument, f.name + ": unsupported schema_version");
    }
    std::size_t i = 0;
    for (const auto& e : doc["models"]) {
      auto m = parse_entry(e, f.name, i++);
      if (!m) return m.err();
      all.push_back(std::move(*m));
    }
  }
  // Exact names: a clash is a data error.
  for (std::size_t i = 0; i < all.size(); ++i) {
    const model_entry& m = all[i];
    std::vector<std::string> names{m.id};
    names.insert(names.end(), m.aliases.begin(), m.aliases.end());
    for (const auto& n : names) {
      auto [it, inserted] = db.exact_->emplace(to_lower(n), i);
      if (!inserted) {
        return make_error(error_code::invalid_argument,
                          m.file + ": name '" + n + "' is used by both '" + all[it->second].id +
                              "' and '" + m.id + "'");
      }
    }
  }
  for (auto& m : all) {
    if (!m.fill_from) continue;
    auto it = db.exact_->find(to_lower(m.fill_from->id));
    if (it == db.exact_->end() || all[it->second].id != m.fill_from->id) {
      return make_error(error_code::invalid_argument, m.file + " '" + m.id + "': fill_from id '" +
                                                          m.fill_from->id +
                                                          "' is not the id of an entry");
    }
    if (&all[it->second] == &m)
      return make_error(error_code::invalid_argument, m.file + " '" + m.id + "': fill_from itself");
    if (auto s = apply_fill_from(m, all[it->second]); !s) return s.err();
  }
  for (auto& m : all) {
    if (!m.closed && m.spec && !m.spec->quantization) m.quant_from_id = strip_quant_suffix(m.id);
  }
  // Fuzzy keys (open models only; a closed model matches only by its own names). A key several
  // entries share is given to one entry here, never decided per request: for the basename, the
  // entry whose id (not an alias) has it; for the normalised name, the entry whose name carries no
  // variant token (the exact base), ids before aliases; then the smallest id.
  std::unordered_map<std::string, candidate> basename, normalized;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const model_entry& m = all[i];
    if (m.closed) continue;
    std::vector<std::string> names{m.id};
    names.insert(names.end(), m.aliases.begin(), m.aliases.end());
    for (std::size_t k = 0; k < names.size(); ++k) {
      const int own = k == 0 ? 0 : 1;
      offer(basename, all, to_lower(strip_org(names[k])), {own, i});
      const int base = has_variant_token(names[k]) ? 2 : 0;
      offer(normalized, all, normalize_model_name(names[k]), {base + own, i});
    }
  }
  for (const auto& [k, c] : basename) db.basename_->emplace(k, c.entry);
  for (const auto& [k, c] : normalized) db.normalized_->emplace(k, c.entry);
  return db;
}

const model_entry* model_db::find_exact(std::string_view name) const {
  auto it = exact_->find(to_lower(name));
  return it == exact_->end() ? nullptr : &(*entries_)[it->second];
}

std::optional<model_match> model_db::resolve_unquantized(std::string_view name) const {
  const auto slash = name.rfind('/');
  const bool has_org = slash != std::string_view::npos;
  const std::string lower = to_lower(name);  // one copy for the exact and the basename lookups
  if (auto it = exact_->find(lower); it != exact_->end()) {
    return model_match{&(*entries_)[it->second], match_kind::exact, {}, {}};
  }
  if (auto it = basename_->find(strip_org(lower)); it != basename_->end()) {
    // The same name under another organisation is a re-upload; without an organisation it is the
    // entry's own name.
    return model_match{
        &(*entries_)[it->second], has_org ? match_kind::reupload : match_kind::exact, {}, {}};
  }
  if (auto it = normalized_->find(normalize_model_name(name)); it != normalized_->end()) {
    const model_entry& e = (*entries_)[it->second];
    const std::string_view org = has_org ? name.substr(0, slash) : std::string_view{};
    const auto eslash = e.id.rfind('/');
    const std::string_view eorg =
        eslash == std::string::npos ? std::string_view{} : std::string_view(e.id).substr(0, eslash);
    const bool same_org = !has_org || iequals(org, eorg);
    model_match m{&e, same_org ? match_kind::suffix_variant : match_kind::reupload, {}, {}};
    m.variant = true;
    return m;
  }
  return std::nullopt;
}

std::optional<model_match> model_db::resolve(std::string_view name) const {
  if (auto m = resolve_unquantized(name)) {
    // An entry of a quantized repository whose quantization_config was not read (it states none):
    // the scheme its name states, as for a repository the database does not hold.
    if (const auto& q = m->entry->quant_from_id) {
      m->quant_from_name = q->quant;
      m->quant_suffix = q->suffix;
    }
    return m;
  }
  // A quantized checkpoint the database does not know: its base model plus the quantization its
  // name states. Only the outermost suffix counts ("X-AWQ" and "X-GPTQ-Int4", not "X-FP8-AWQ").
  const auto q = strip_quant_suffix(name);
  if (q) {
    if (auto m = resolve_unquantized(q->base_name); m && !m->entry->closed) {
      m->kind = match_kind::quantized;
      m->quant_from_name = q->quant;
      m->quant_suffix = q->suffix;
      return m;
    }
  }
  // A fine-tune (-Math-, -Coder-) of a base in the database, possibly quantized.
  std::string token;
  const std::string stripped =
      strip_finetune_tokens(q ? std::string_view(q->base_name) : name, token);
  if (!stripped.empty()) {
    if (auto m = resolve_unquantized(stripped); m && !m->entry->closed) {
      m->kind = match_kind::finetune;
      m->finetune_token = token;
      if (q) {
        m->quant_from_name = q->quant;
        m->quant_suffix = q->suffix;
      }
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace vllm_mem
