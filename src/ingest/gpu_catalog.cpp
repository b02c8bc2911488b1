// ingest/gpu_catalog.cpp — loading and lookup of data/gpus.json.
#include "vllm_mem/ingest/gpu_catalog.hpp"

#include <nlohmann/json.hpp>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

std::string gpu_key(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == ' ' || c == '-' || c == '_') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back(c);
  }
  return out;
}

namespace {

bool contains_a100(std::string_view s) {  // case-insensitive, without a lower-cased copy
  for (std::size_t i = 0; i + 4 <= s.size(); ++i) {
    if ((s[i] | 0x20) == 'a' && s[i + 1] == '1' && s[i + 2] == '0' && s[i + 3] == '0') return true;
  }
  return false;
}

}  // namespace

bool gpu_entry::big_for_vllm_defaults() const {
  return cuda_total_gib >= 70.0 && !contains_a100(name) && !contains_a100(id);
}

const cloud_instance* gpu_entry::cheapest_instance() const {
  const cloud_instance* best = nullptr;
  double best_per = 0;
  for (const auto& c : cloud_instances) {
    if (!c.price_usd_per_hour || c.gpus == 0) continue;
    const double per = *c.price_usd_per_hour / static_cast<double>(c.gpus);
    if (!best || per < best_per) {
      best = &c;
      best_per = per;
    }
  }
  return best;
}

std::optional<double> gpu_entry::cheapest_price_per_gpu_hour() const {
  const cloud_instance* c = cheapest_instance();
  if (!c) return std::nullopt;
  return *c->price_usd_per_hour / static_cast<double>(c->gpus);
}

result<gpu_catalog> gpu_catalog::load(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  auto bad = [](const std::string& m) {
    return make_error(error_code::invalid_argument, "data/gpus.json: " + m);
  };
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("gpus") || !doc["gpus"].is_array()) {
    return bad("expected {\"schema_version\": 1, \"gpus\": [...]}");
  }
  gpu_catalog cat;
  cat.entries_ = std::make_shared<std::vector<gpu_entry>>();
  cat.index_ = std::make_shared<std::unordered_map<std::string, std::size_t>>();
  for (const auto& g : doc["gpus"]) {
    if (!g.is_object() || !g.contains("id") || !g["id"].is_string())
      return bad("a GPU without an id");
    gpu_entry e;
    e.id = g["id"].get<std::string>();
    auto s = [&](const char* k) {
      return g.contains(k) && g[k].is_string() ? g[k].get<std::string>() : std::string();
    };
    auto n = [&](const char* k) {
      return g.contains(k) && g[k].is_number() ? g[k].get<double>() : 0.0;
    };
    e.name = s("name");
    e.vendor = s("vendor");
    e.architecture = s("architecture");
    e.compute_capability = s("compute_capability");
    e.interconnect = s("interconnect");
    e.memory_nominal_gb = n("memory_nominal_gb");
    e.cuda_total_gib = n("cuda_total_gib");
    e.cuda_total_source = s("cuda_total_source");
    e.memory_bandwidth_gbps = n("memory_bandwidth_gbps");
    e.fp8_support =
        g.contains("fp8_support") && g["fp8_support"].is_boolean() && g["fp8_support"].get<bool>();
    if (g.contains("aliases") && g["aliases"].is_array()) {
      for (const auto& a : g["aliases"]) {
        if (a.is_string()) e.aliases.push_back(a.get<std::string>());
      }
    }
    if (g.contains("cloud_instances") && g["cloud_instances"].is_array()) {
      for (const auto& c : g["cloud_instances"]) {
        if (!c.is_object()) return bad(e.id + ": cloud instance is not an object");
        cloud_instance ci;
        ci.provider =
            (c.contains("provider") && c["provider"].is_string() ? c["provider"].get<std::string>()
                                                                 : std::string());
        ci.instance =
            (c.contains("instance") && c["instance"].is_string() ? c["instance"].get<std::string>()
                                                                 : std::string());
        // A fractional count (AWS g6f: 1/8 or 1/2 of an L40) is a slice with a slice of the
        // memory, not whole GPUs: gpus = 0 keeps it out of per-GPU prices.
        ci.gpus = !c.contains("gpus")              ? 1
                  : c["gpus"].is_number_unsigned() ? c["gpus"].get<std::uint64_t>()
                  : c["gpus"].is_number()          ? 0
                                                   : 1;
        if (c.contains("price_usd_per_hour") && c["price_usd_per_hour"].is_number()) {
          ci.price_usd_per_hour = c["price_usd_per_hour"].get<double>();
        }
        ci.price_type = (c.contains("price_type") && c["price_type"].is_string()
                             ? c["price_type"].get<std::string>()
                             : std::string());
        ci.region =
            (c.contains("region") && c["region"].is_string() ? c["region"].get<std::string>()
                                                             : std::string());
        ci.source =
            (c.contains("source") && c["source"].is_string() ? c["source"].get<std::string>()
                                                             : std::string());
        ci.date = (c.contains("date") && c["date"].is_string() ? c["date"].get<std::string>()
                                                               : std::string());
        e.cloud_instances.push_back(std::move(ci));
      }
    }
    const std::size_t idx = cat.entries_->size();
    std::vector<std::string> names{e.id};
    names.insert(names.end(), e.aliases.begin(), e.aliases.end());
    for (const auto& name : names) {
      auto [it, inserted] = cat.index_->emplace(gpu_key(name), idx);
      if (!inserted && it->second != idx) {
        return bad("GPU name '" + name + "' is used by both '" + (*cat.entries_)[it->second].id +
                   "' and '" + e.id + "'");
      }
    }
    cat.entries_->push_back(std::move(e));
  }
  return cat;
}

const gpu_entry* gpu_catalog::find(std::string_view name) const {
  auto it = index_->find(gpu_key(name));
  return it == index_->end() ? nullptr : &(*entries_)[it->second];
}

std::vector<std::string> gpu_catalog::ids() const {
  std::vector<std::string> out;
  for (const auto& e : *entries_) out.push_back(e.id);
  return out;
}

}  // namespace vllm_mem
