// model_db.cpp — loading and name resolution of the model database.
#include "vllm_mem/model_db.hpp"

#include <algorithm>
#include <array>

#include "vllm_mem/text.hpp"

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
constexpr std::array<suffix_rule, 30> kQuantSuffixes{{
    {"-unsloth-bnb-4bit", quant_method::bitsandbytes, 4, 64},
    {"-autoround-gptq-4bit", quant_method::gptq, 4, 128},
    {"-quantized.w4a16", quant_method::w4a16, 4, 128},
    {"-quantized.w8a16", quant_method::int8, 8, 0},
    {"-quantized.w8a8", quant_method::int8, 8, 0},
    {"-quantized.w4a4", quant_method::nvfp4, 4, 16},
    {"-fp8-dynamic", quant_method::fp8, 8, 0},
    {"-fp8_dynamic", quant_method::fp8, 8, 0},
    {"-fp8-static", quant_method::fp8, 8, 0},
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
}};

constexpr std::array<std::string_view, 9> kVariantSuffixes{
    "-hf", "-instruct", "-chat", "-it", "-base", "-pt", "-inst", "-sft", "-dpo"};

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

result<model_entry> parse_entry(const json& e, const std::string& file, std::size_t index) {
  const std::string where = file + " entry " + std::to_string(index);
  auto data_error = [&](const std::string& msg) {
    return make_error(error_code::invalid_argument, where + ": " + msg);
  };
  if (!e.is_object()) return data_error("not an object");
  static const std::vector<std::string> keys = {
      "id",           "aliases", "display_name", "family",       "closed",
      "architecture", "params",  "source",       "verification", "notes"};
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
                        std::pair{"verification", &m.verification}, std::pair{"notes", &m.notes}}) {
    if (auto s = str(k, *out); !s) return s.err();
  }
  if (m.display_name.empty()) m.display_name = std::string(strip_org(m.id));
  if (e.contains("aliases")) {
    if (!e["aliases"].is_array()) return data_error("'aliases' must be an array");
    for (const auto& a : e["aliases"]) {
      if (!a.is_string()) return data_error("aliases must be strings");
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
  m.closed = e.contains("closed") && e["closed"].is_boolean() && e["closed"].get<bool>();
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
  if (!m.closed) {
    if (!e.contains("architecture"))
      return data_error("open model '" + m.id + "' has no architecture");
    auto spec = parse_arch_spec(e["architecture"], "architecture.");
    if (!spec) return data_error(spec.err().message);
    m.spec = *spec;
    auto arch = resolve_arch(*spec, "architecture.");
    if (arch) m.arch = *arch;  // an incomplete architecture stays unresolved (reported on use)
  }
  return m;
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

std::string normalize_model_name(std::string_view name) {
  std::string s = to_lower(strip_org(name));
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto suf : kVariantSuffixes) {
      if (s.size() > suf.size() && ends_with_ci(s, suf)) {
        s.resize(s.size() - suf.size());
        changed = true;
      }
    }
  }
  if (s.rfind("meta-", 0) == 0 && s.size() > 5) s = s.substr(5);
  return s;
}

result<model_db> model_db::load(const std::vector<source_file>& files) {
  model_db db;
  db.entries_ = std::make_shared<std::vector<model_entry>>();
  db.exact_ = std::make_shared<std::unordered_map<std::string, std::size_t>>();
  db.normalized_ = std::make_shared<std::unordered_map<std::string, std::size_t>>();
  db.basename_ = std::make_shared<std::unordered_map<std::string, std::size_t>>();
  for (const auto& f : files) {
    json doc = json::parse(f.text, nullptr, false);
    if (doc.is_discarded()) {
      return make_error(error_code::invalid_argument, f.name + ": not valid JSON");
    }
    if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array()) {
      return make_error(error_code::invalid_argument,
                        f.name + ": expected {\"schema_version\": 1, \"models\": [...]}");
    }
    if (doc.value("schema_version", 0) != 1) {
      return make_error(error_code::invalid_argument, f.name + ": unsupported schema_version");
    }
    std::size_t i = 0;
    for (const auto& e : doc["models"]) {
      auto m = parse_entry(e, f.name, i++);
      if (!m) return m.err();
      db.entries_->push_back(std::move(*m));
    }
  }
  for (std::size_t i = 0; i < db.entries_->size(); ++i) {
    const model_entry& m = (*db.entries_)[i];
    std::vector<std::string> names{m.id};
    names.insert(names.end(), m.aliases.begin(), m.aliases.end());
    for (const auto& n : names) {
      const std::string key = to_lower(n);
      auto [it, inserted] = db.exact_->emplace(key, i);
      if (!inserted && it->second != i) {
        return make_error(error_code::invalid_argument,
                          m.file + ": name '" + n + "' is used by both '" +
                              (*db.entries_)[it->second].id + "' and '" + m.id + "'");
      }
      db.normalized_->emplace(normalize_model_name(n), i);
      db.basename_->emplace(to_lower(strip_org(n)), i);
    }
  }
  return db;
}

const model_entry* model_db::find_exact(std::string_view name) const {
  auto it = exact_->find(to_lower(name));
  return it == exact_->end() ? nullptr : &(*entries_)[it->second];
}

std::optional<model_match> model_db::resolve(std::string_view name) const {
  if (const model_entry* e = find_exact(name)) return model_match{e, match_kind::exact, {}, {}};
  const std::string base = to_lower(strip_org(name));
  if (auto it = basename_->find(base); it != basename_->end()) {
    return model_match{&(*entries_)[it->second], match_kind::reupload, {}, {}};
  }
  if (auto it = normalized_->find(normalize_model_name(name)); it != normalized_->end()) {
    const model_entry& e = (*entries_)[it->second];
    const bool same_org =
        name.find('/') == std::string_view::npos ||
        iequals(name.substr(0, name.rfind('/')), std::string_view(e.id).substr(0, e.id.rfind('/')));
    return model_match{&e, same_org ? match_kind::suffix_variant : match_kind::reupload, {}, {}};
  }
  if (auto q = strip_quant_suffix(name)) {
    if (auto m = resolve(q->base_name)) {
      if (m->kind == match_kind::quantized) return m;  // the base itself named a quantization
      m->kind = match_kind::quantized;
      m->quant_from_name = q->quant;
      m->quant_suffix = q->suffix;
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace vllm_mem
