// api/plan_json.cpp — decoding of the planner's requests and writing of its answers.
//
// The decoders split a body into the estimate's fields (decoded by parse_estimate_request and
// kept as sent, for the answers' estimate_request bodies) and the planner's own. The writers
// print the typed answers; an option's estimate_request is its setup_request written over the
// client's fields (to_json(const setup_request&)).
#include "vllm_mem/api/plan_json.hpp"

#include "vllm_mem/api/vllm_command.hpp"

#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/ingest/arch_json.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr std::uint64_t kMaxGpus = 1024;

error bad(const std::string& field, const std::string& message) {
  return make_error(error_code::invalid_argument, message, field);
}

bool present(const json& body, const char* k) { return body.contains(k) && !body[k].is_null(); }

double round2(double v) { return std::round(v * 100.0) / 100.0; }

const gpu_entry* find_gpu(const gpu_catalog& gpus, const std::string& name) {
  return gpus.find(name);
}

// A catalog GPU usable for estimates (known, with a CUDA memory reading), or the estimate's error.
result<const gpu_entry*> usable_gpu(const gpu_catalog& gpus, const std::string& name,
                                    const std::string& field) {
  const gpu_entry* g = find_gpu(gpus, name);
  if (!g) {
    std::string msg = "unknown gpu '" + name + "' in '" + field + "'";
    const std::string hint = closest_name(name, gpus.ids());
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    return bad(field, msg);
  }
  if (g->cuda_total_gib <= 0) {
    return make_error(error_code::unsupported,
                      "the catalog has no CUDA memory reading for " + g->id +
                          ", so no startup can be estimated on it ('" + field + "')",
                      field);
  }
  return g;
}

}  // namespace

result<gpu_prices> parse_gpu_prices(const json& v, const gpu_catalog& gpus,
                                    const std::string& field) {
  if (!v.is_object()) {
    return bad(field, "'" + field +
                          "' must be an object of GPU name -> USD per GPU-hour, e.g. "
                          "{\"H100-80GB\": 2.5}");
  }
  gpu_prices out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string f = field + "." + it.key();
    const gpu_entry* g = find_gpu(gpus, it.key());
    if (!g) {
      std::string msg = "unknown gpu '" + it.key() + "' in '" + field + "'";
      const std::string hint = closest_name(it.key(), gpus.ids());
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      return bad(f, msg);
    }
    if (!it.value().is_number()) return bad(f, "'" + f + "' must be a number (USD per GPU-hour)");
    const double p = it.value().get<double>();
    if (!(std::isfinite(p) && p >= 0.0 && p <= 1e6)) {
      return bad(f, "'" + f + "' must be between 0 and 1000000 USD per GPU-hour");
    }
    if (out.count(g->id)) return bad(f, "'" + field + "' names " + g->id + " twice");
    out[g->id] = p;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

namespace {

const std::vector<std::string>& plan_only_fields() {
  // The search's bounds and what it may trade, price and return (the rest are the estimate's).
  static const std::vector<std::string> f = {"num_gpus",
                                             "gpus",
                                             "max_gpus",
                                             "gpus_per_node",
                                             "budget_usd_per_hour",
                                             "prices",
                                             "precision_trades",
                                             "max_options"};
  return f;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Splits a body into the estimate's fields (decoded by parse_estimate_request) and the fields
// in `extras` (decoded here). `defaults_max_gpus`: max_gpus when the body has none.
result<plan_request> decode_setup(const json& sent, const gpu_catalog& gpus,
                                  const std::vector<std::string>& extras,
                                  std::uint64_t default_max_gpus) {
  if (!sent.is_object()) return bad("body", "the request body must be a JSON object");
  // A vllm_command's flags as fields, the body's own over them.
  std::optional<merged_command> command;
  if (present(sent, "vllm_command")) {
    auto m = merge_vllm_command(sent);
    if (!m) return m.err();
    command = std::move(*m);
  }
  const json& body = command ? command->body : sent;
  const auto& est_fields = estimate_request_fields();
  std::vector<std::string> all = est_fields;
  all.insert(all.end(), extras.begin(), extras.end());
  plan_request r;
  json eb = json::object();
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (contains(est_fields, it.key())) {
      eb[it.key()] = it.value();
      continue;
    }
    if (contains(extras, it.key())) continue;
    std::string msg = "unknown field '" + it.key() + "'";
    const std::string hint = closest_name(it.key(), all);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    return bad(it.key(), msg);
  }
  // The workload's context: max_model_len (max_seq_len follows it), else the model's maximum,
  // filled in once the model is resolved (finish_context). Filled in for the decoder only: the
  // body keeps what the client sent, and a setup's body writes the request's max_seq_len.
  const bool fill = !present(body, "max_seq_len");
  if (present(body, "max_model_len")) {
    auto x = decode_positive_int(body["max_model_len"], "max_model_len", kMaxContextTokens);
    if (!x) return x.err();
    if (fill) eb["max_seq_len"] = *x;
  } else if (fill) {
    r.context_from_model = true;
    eb["max_seq_len"] = 2048;  // placeholder, replaced by the model's maximum
  }
  auto base = parse_estimate_request(eb);
  if (!base) return base.err();
  if (fill) eb.erase("max_seq_len");
  r.base = std::move(*base);
  r.client = std::make_shared<const estimate_body>(estimate_body{std::move(eb)});
  r.batch = r.base.max_batch_size;
  r.parallel_fixed =
      present(body, "tensor_parallel_size") || present(body, "pipeline_parallel_size");
  if (r.base.gpu) {
    auto g = usable_gpu(gpus, *r.base.gpu, "gpu");
    if (!g) return g.err();
  }

  if (command) {
    r.from_vllm_command = true;
    r.ignored_flags = std::move(command->ignored_flags);
  }
  r.max_gpus = default_max_gpus;
  if (present(body, "max_gpus")) {
    auto x = decode_positive_int(body["max_gpus"], "max_gpus", kMaxGpus);
    if (!x) return x.err();
    r.max_gpus = *x;
  }
  if (present(body, "gpus_per_node")) {
    auto x = decode_positive_int(body["gpus_per_node"], "gpus_per_node", 64);
    if (!x) return x.err();
    r.gpus_per_node = *x;
  }
  const std::uint64_t fixed_count = r.base.tensor_parallel_size * r.base.pipeline_parallel_size;
  if (present(body, "num_gpus")) {
    auto x = decode_positive_int(body["num_gpus"], "num_gpus", kMaxGpus);
    if (!x) return x.err();
    if (r.parallel_fixed && *x != fixed_count) {
      return bad("num_gpus", "'num_gpus' (" + std::to_string(*x) +
                                 ") must equal tensor_parallel_size x pipeline_parallel_size (" +
                                 std::to_string(fixed_count) + ")");
    }
    r.num_gpus = *x;
  } else if (r.parallel_fixed) {
    r.num_gpus = fixed_count;
  }
  if (r.num_gpus && *r.num_gpus > r.max_gpus) {
    if (present(body, "max_gpus")) {
      return bad("max_gpus", "'num_gpus' (" + std::to_string(*r.num_gpus) +
                                 ") is more than 'max_gpus' (" + std::to_string(r.max_gpus) + ")");
    }
    r.max_gpus = *r.num_gpus;
  }
  if (present(body, "gpus")) {
    if (r.base.gpu || r.base.gpu_memory_gib) {
      return bad("gpus",
                 "give either 'gpu' or 'gpu_memory_gib' (one GPU) or 'gpus' (the allowed GPU "
                 "types), not both");
    }
    const json& v = body["gpus"];
    if (!v.is_array() || v.empty() || v.size() > 64) {
      return bad("gpus",
                 "'gpus' must be a list of 1 to 64 GPU names, e.g. [\"H100-80GB\", \"L4\"]");
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string f = "gpus[" + std::to_string(i) + "]";
      if (!v[i].is_string()) return bad(f, "'" + f + "' must be a GPU name (a string)");
      auto g = usable_gpu(gpus, v[i].get<std::string>(), f);
      if (!g) return g.err();
      if (!contains(r.gpus, (*g)->id)) r.gpus.push_back((*g)->id);
    }
  }
  if (present(body, "budget_usd_per_hour")) {
    const json& v = body["budget_usd_per_hour"];
    if (!v.is_number() || !(v.get<double>() > 0.0 && v.get<double>() <= 1e9)) {
      return bad("budget_usd_per_hour",
                 "'budget_usd_per_hour' must be a number above 0 (USD per hour for all GPUs)");
    }
    r.budget_usd_per_hour = v.get<double>();
  }
  if (present(body, "prices")) {
    auto p = parse_gpu_prices(body["prices"], gpus);
    if (!p) return p.err();
    r.prices = std::move(*p);
  }
  if (present(body, "precision_trades")) {
    if (!body["precision_trades"].is_boolean())
      return bad("precision_trades", "'precision_trades' must be true or false");
    r.precision_trades = body["precision_trades"].get<bool>();
  }
  if (present(body, "max_options")) {
    auto x = decode_positive_int(body["max_options"], "max_options", 10000);
    if (!x) return x.err();
    r.max_options = *x;
  }
  return r;
}

result<std::vector<std::uint64_t>> positive_list(const json& body, const char* field,
                                                 std::uint64_t max) {
  const json& v = body[field];
  if (!v.is_array() || v.empty() || v.size() > 64) {
    return bad(field, std::string("'") + field + "' must be a list of 1 to 64 positive integers");
  }
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto x = decode_positive_int(v[i], std::string(field) + "[" + std::to_string(i) + "]", max);
    if (!x) return x.err();
    out.push_back(*x);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

const std::vector<std::string>& plan_request_fields() { return plan_only_fields(); }

result<plan_request> parse_plan_request(const json& body, const gpu_catalog& gpus) {
  return decode_setup(body, gpus, plan_only_fields(), 8);
}

// ---------------------------------------------------------------------------------------------
// Solve

result<solve_request> parse_solve_request(const json& body, const gpu_catalog& gpus) {
  static const std::vector<std::string> extras = {"solve", "num_gpus", "max_gpus", "gpus_per_node",
                                                  "prices"};
  auto setup = decode_setup(body, gpus, extras, kMoreGpusLimit);
  if (!setup) return setup.err();
  if (!setup->base.gpu && !setup->base.gpu_memory_gib) {
    return bad("gpu", "'gpu' (or 'gpu_memory_gib') is required: the solves are for one GPU setup");
  }
  solve_request r;
  r.setup = std::move(*setup);
  if (present(body, "solve")) {
    const json& v = body["solve"];
    std::vector<std::string> names;
    if (v.is_string()) {
      names.push_back(v.get<std::string>());
    } else if (v.is_array() && !v.empty() && v.size() <= 4) {
      for (const auto& x : v) {
        if (!x.is_string()) return bad("solve", "'solve' must be a name or a list of names");
        names.push_back(x.get<std::string>());
      }
    } else {
      return bad("solve", "'solve' must be a name or a list of 1 to 4 names");
    }
    static const solve_kind kinds[] = {solve_kind::max_model_len, solve_kind::max_concurrency,
                                       solve_kind::min_gpu_memory_utilization,
                                       solve_kind::min_gpus};
    std::vector<std::string> known;
    for (auto k : kinds) known.push_back(solve_kind_name(k));
    for (const auto& n : names) {
      auto it = std::find(known.begin(), known.end(), n);
      if (it == known.end()) {
        std::string msg = "unknown solve '" + n +
                          "'; use max_model_len, max_concurrency, "
                          "min_gpu_memory_utilization or min_gpus";
        const std::string hint = closest_name(n, known);
        if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
        return bad("solve", msg);
      }
      const solve_kind k = kinds[it - known.begin()];
      if (std::find(r.solves.begin(), r.solves.end(), k) == r.solves.end()) r.solves.push_back(k);
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Placement

result<placement_request> parse_placement_request(const json& body, const gpu_catalog& gpus) {
  if (!body.is_object()) return bad("body", "the request body must be a JSON object");
  static const std::vector<std::string> fields = {"models", "gpu", "num_gpus", "pool"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (contains(fields, it.key())) continue;
    std::string msg = "unknown field '" + it.key() + "'";
    const std::string hint = closest_name(it.key(), fields);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    msg += " (placement takes models, and gpu with num_gpus or pool)";
    return bad(it.key(), msg);
  }
  placement_request r;
  if (!present(body, "models") || !body["models"].is_array() || body["models"].empty() ||
      body["models"].size() > 16) {
    return bad("models",
               "'models' must be a list of 1 to 16 estimate requests, e.g. [{\"model_name\": "
               "\"meta-llama/Llama-3.1-8B-Instruct\", \"max_model_len\": 8192}]");
  }
  const json& models = body["models"];
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string prefix = "models[" + std::to_string(i) + "]";
    if (models[i].is_object()) {
      for (const char* k : {"gpu", "gpu_memory_gib", "gpu_memory_utilization",
                            "pipeline_parallel_size", "reserved_memory_gib"}) {
        if (present(models[i], k)) {
          return bad(prefix + "." + k, "'" + prefix + "." + k +
                                           "' is set by the placement (the pool gives the GPUs "
                                           "and each instance's utilization is solved)");
        }
      }
    }
    auto m = decode_setup(models[i], gpus, {}, 8);
    if (!m) return in_placement_model(i, m.err());
    r.models.push_back(std::move(*m));
  }
  if (present(body, "pool")) {
    if (present(body, "gpu") || present(body, "num_gpus")) {
      return bad("pool", "give either 'pool' or 'gpu' with 'num_gpus', not both");
    }
    const json& p = body["pool"];
    if (!p.is_array() || p.empty() || p.size() > 16) {
      return bad("pool",
                 "'pool' must be a list of {\"gpu\": name, \"count\": n}, e.g. [{\"gpu\": "
                 "\"H100-80GB\", \"count\": 2}]");
    }
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::string f = "pool[" + std::to_string(i) + "]";
      if (!p[i].is_object() || !present(p[i], "gpu") || !p[i]["gpu"].is_string()) {
        return bad(f + ".gpu", "'" + f + ".gpu' must be a GPU name");
      }
      for (auto it = p[i].begin(); it != p[i].end(); ++it) {
        if (it.key() != "gpu" && it.key() != "count" && it.key() != "reserved_memory_gib")
          return bad(f + "." + it.key(), "unknown field '" + it.key() + "' in '" + f +
                                             "' (use gpu, count and reserved_memory_gib)");
      }
      auto g = usable_gpu(gpus, p[i]["gpu"].get<std::string>(), f + ".gpu");
      if (!g) return g.err();
      std::uint64_t n = 1;
      if (present(p[i], "count")) {
        auto x = decode_positive_int(p[i]["count"], f + ".count", 64);
        if (!x) return x.err();
        n = *x;
      }
      std::uint64_t reserved = 0;
      if (present(p[i], "reserved_memory_gib")) {
        const json& v = p[i]["reserved_memory_gib"];
        const double total_gib = (*g)->cuda_total_gib;
        if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() < total_gib)) {
          return bad(f + ".reserved_memory_gib",
                     "'" + f +
                         ".reserved_memory_gib' must be the GiB other processes hold on each of "
                         "these GPUs, a number from 0 to less than the GPU's " +
                         format_g4(total_gib) + " GiB");
        }
        reserved = static_cast<std::uint64_t>(std::llround(v.get<double>() * kGiB));
      }
      r.pool.push_back({(*g)->id, n, reserved});
    }
  } else {
    if (!present(body, "gpu") || !body["gpu"].is_string()) {
      return bad("gpu", "'gpu' (a GPU name, with 'num_gpus') or 'pool' is required");
    }
    auto g = usable_gpu(gpus, body["gpu"].get<std::string>(), "gpu");
    if (!g) return g.err();
    std::uint64_t n = 1;
    if (present(body, "num_gpus")) {
      auto x = decode_positive_int(body["num_gpus"], "num_gpus", 64);
      if (!x) return x.err();
      n = *x;
    }
    r.pool.push_back({(*g)->id, n});
  }
  std::uint64_t total = 0;
  for (const auto& e : r.pool) total += e.count;
  if (total > 64) return bad("pool", "the pool may hold at most 64 GPUs");
  return r;
}

// ---------------------------------------------------------------------------------------------
// Sweeps

result<sweep_request> parse_sweep_request(const json& body, const gpu_catalog& gpus) {
  static const std::vector<std::string> extras = {"context_lengths", "batch_sizes", "num_gpus",
                                                  "gpus_per_node"};
  auto setup = decode_setup(body, gpus, extras, 8);
  if (!setup) return setup.err();
  sweep_request r;
  r.setup = std::move(*setup);
  if (present(body, "context_lengths")) {
    auto v = positive_list(body, "context_lengths", kMaxContextTokens);
    if (!v) return v.err();
    r.context_lengths = std::move(*v);
  }
  if (present(body, "batch_sizes")) {
    auto v = positive_list(body, "batch_sizes", kMaxBatchSequences);
    if (!v) return v.err();
    r.batch_sizes = std::move(*v);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Answers

json to_json(const setup_request& s) {
  const estimate_request& q = s.request;
  json b = s.client ? s.client->fields : json::object();
  if (!present(b, "max_seq_len")) b["max_seq_len"] = q.max_seq_len;
  if (q.gpu) {
    b.erase("gpu_memory_gib");
    b["gpu"] = *q.gpu;
  }
  for (auto [k, n] : {std::pair{"tensor_parallel_size", q.tensor_parallel_size},
                      std::pair{"pipeline_parallel_size", q.pipeline_parallel_size}}) {
    if (n > 1) {
      b[k] = n;
    } else {
      b.erase(k);
    }
  }
  if (s.sets_kv_cache_dtype && q.kv_cache_dtype)
    b["kv_cache_dtype"] = std::string(dtype_name(q.kv_cache_dtype->value));
  if (s.sets_quantization) b["quantization"] = q.quantization_text;
  if (s.sets_context) {
    b["max_model_len"] = q.max_model_len.value_or(q.max_seq_len);
    b["max_seq_len"] = q.max_seq_len;
  }
  if (s.sets_batch && q.max_batch_size) {
    b.erase("max_num_seqs");
    b["max_batch_size"] = *q.max_batch_size;
  }
  if (s.sets_utilization) b["gpu_memory_utilization"] = q.gpu_memory_utilization;
  return b;
}

namespace {

json details_json(const suggestion_details& d) {
  json j = {{"gpu", d.gpu}, {"num_gpus", d.num_gpus}};
  for (auto [k, v] : {std::pair{"tensor_parallel_size", d.tensor_parallel_size},
                      std::pair{"pipeline_parallel_size", d.pipeline_parallel_size},
                      std::pair{"max_model_len", d.max_model_len},
                      std::pair{"max_batch_size", d.max_batch_size}}) {
    if (v) j[k] = *v;
  }
  if (d.trades_precision) j["trades_precision"] = *d.trades_precision;
  return j;
}

json instance_json(const cloud_instance& i) {
  return {{"provider", i.provider},
          {"instance", i.instance},
          {"gpus", i.gpus},
          {"price_usd_per_hour", i.price_usd_per_hour ? json(*i.price_usd_per_hour) : json()},
          {"price_type", i.price_type},
          {"region", i.region},
          {"date", i.date},
          {"source", i.source}};
}

json option_json(const plan_option& o) {
  const json full = to_json(o.est);
  const deployment& d = o.est.deploy;
  json j;
  j["gpu"] = o.gpu.empty() ? json(nullptr) : json(o.gpu);
  j["gpu_name"] = o.gpu_name;
  j["num_gpus"] = o.num_gpus;
  j["nodes"] = o.nodes;
  j["tensor_parallel_size"] = o.tp;
  j["pipeline_parallel_size"] = o.pp;
  j["fits"] = o.fits;
  j["starts"] = o.starts;
  j["limiting_factor"] = o.limiting_factor;
  j["reason"] = o.reason;
  j["trades_precision"] = o.trades_precision.empty() ? json(nullptr) : json(o.trades_precision);
  j["precision"] = {
      {"weights", d.quant.is_none() ? std::to_string(d.act_bits) + "-bit"
                                    : std::string(quant_method_name(d.quant.method))},
      {"kv_cache", d.kv_bits == 8 ? std::string("fp8") : std::to_string(d.kv_bits) + "-bit"}};
  j["max_model_len"] = d.max_model_len;
  j["max_num_seqs"] = d.max_num_seqs;
  j["max_model_len_fit"] = o.est.startup.max_model_len_fit;
  j["max_concurrency"] = round2(o.est.startup.max_concurrency);
  j["kv_cache_tokens"] = o.est.startup.kv_cache_tokens;
  j["vllm_startup"] = full.contains("vllm_startup") ? full["vllm_startup"] : json(nullptr);
  j["vllm_command"] = o.vllm_command;
  if (o.price) {
    j["price"] = {{"usd_per_gpu_hour", o.price->usd_per_gpu_hour}, {"source", o.price->source}};
    if (o.price->instance) j["price"]["instance"] = instance_json(*o.price->instance);
  } else {
    j["price"] = nullptr;
  }
  j["hourly_cost_usd"] = o.hourly_cost_usd ? json(round2(*o.hourly_cost_usd)) : json(nullptr);
  j["monthly_cost_usd"] = o.monthly_cost_usd ? json(round2(*o.monthly_cost_usd)) : json(nullptr);
  j["within_budget"] = o.within_budget ? json(*o.within_budget) : json(nullptr);
  j["cloud_instance"] = o.rent ? instance_json(*o.rent) : json(nullptr);
  j["notes"] = o.notes;
  j["estimate_request"] = to_json(o.request);
  return j;
}

}  // namespace

json to_json(const plan_result& p) {
  json j;
  j["model_name"] = p.model_name;
  j["resolved_model_id"] = p.resolved_model_id.empty() ? json(nullptr) : json(p.resolved_model_id);
  j["model_source"] = p.model_source;
  j["workload"] = {{"max_model_len", p.max_model_len},
                   {"max_batch_size", p.batch ? json(*p.batch) : json(nullptr)},
                   {"max_model_len_from_model", p.context_from_model}};
  j["summary"] = p.summary;
  json opts = json::array();
  for (const auto& o : p.options) opts.push_back(option_json(o));
  j["options"] = std::move(opts);
  json sug = json::array();
  for (const auto& s : p.suggestions)
    sug.push_back({{"kind", s.kind}, {"text", s.text}, {"details", details_json(s.details)}});
  j["suggestions"] = std::move(sug);
  json skipped = json::array();
  for (const auto& [id, why] : p.skipped_gpus) skipped.push_back({{"gpu", id}, {"reason", why}});
  j["skipped_gpus"] = std::move(skipped);
  j["warnings"] = p.warnings;
  j["notes"] = {
      "fits: vLLM starts and its KV cache holds max_batch_size sequences of max_model_len tokens "
      "at once (without max_batch_size: vLLM starts)",
      "hourly_cost_usd = GPUs x the cheapest on-demand price per GPU-hour in the catalog (or the "
      "request's 'prices'); cloud_instance is the cheapest catalog instance with that many GPUs; "
      "a month is 730 hours",
      "vllm_startup is the /estimate-gpu-memory figure for the option's estimate_request, per GPU"};
  return j;
}

namespace {

json compact_option(const plan_option& o) {
  return {{"fits", o.fits},
          {"starts", o.starts},
          {"limiting_factor", o.limiting_factor},
          {"num_gpus", o.num_gpus},
          {"tensor_parallel_size", o.tp},
          {"pipeline_parallel_size", o.pp},
          {"max_model_len", o.est.deploy.max_model_len},
          {"max_num_seqs", o.est.deploy.max_num_seqs},
          {"gpu_memory_utilization", o.est.gpu_memory_utilization},
          {"kv_cache_tokens", o.est.startup.kv_cache_tokens},
          {"max_concurrency", round2(o.est.startup.max_concurrency)},
          {"max_model_len_fit", o.est.startup.max_model_len_fit},
          {"hourly_cost_usd", o.hourly_cost_usd ? json(round2(*o.hourly_cost_usd)) : json()},
          {"vllm_command", o.vllm_command},
          {"estimate_request", to_json(o.request)}};
}

}  // namespace

json to_json(const solve_result& s) {
  json j;
  j["setup"] = option_json(s.setup);
  json solves = json::object();
  for (const auto& x : s.solves) {
    json v;
    const bool integral = x.kind != solve_kind::min_gpu_memory_utilization;
    auto num = [&](double d) {
      return integral ? json(static_cast<std::uint64_t>(d)) : json(std::round(d * 1000) / 1000);
    };
    v["found"] = x.found;
    v["value"] = x.found ? num(x.value) : json(nullptr);
    v["reason"] = x.reason;
    if (x.found && x.next > 0) {
      v["check"] = {{"next", num(x.next)},
                    {"next_fits", x.next_fits},
                    {"next_limiting_factor", x.next_limiting_factor}};
    }
    if (x.starts_value) v["max_model_len_starts"] = *x.starts_value;
    v["at_value"] = x.at_value ? compact_option(*x.at_value) : json(nullptr);
    solves[solve_kind_name(x.kind)] = std::move(v);
  }
  j["solves"] = std::move(solves);
  return j;
}

json to_json(const placement_result& p) {
  json j;
  j["fits"] = p.fits;
  j["reason"] = p.reason.empty() ? json(nullptr) : json(p.reason);
  j["budget_mode"] = p.budget_mode.empty() ? json(nullptr) : json(p.budget_mode);
  json gs = json::array();
  for (std::size_t i = 0; i < p.gpus.size(); ++i) {
    const pool_gpu& g = p.gpus[i];
    gs.push_back({{"index", i},
                  {"gpu", g.gpu},
                  {"total_gib", round2(static_cast<double>(g.total_bytes) / kGiB)},
                  {"reserved_gib", round2(static_cast<double>(g.reserved_bytes) / kGiB)},
                  {"used_gib", round2(static_cast<double>(g.used_bytes) / kGiB)},
                  {"free_gib", round2(static_cast<double>(g.total_bytes -
                                                          std::min(g.total_bytes, g.used_bytes)) /
                                      kGiB)},
                  {"instances", g.instances}});
  }
  j["gpus"] = std::move(gs);
  json is = json::array();
  for (const auto& pi : p.instances) {
    const json full = to_json(pi.option.est);
    is.push_back({{"model_index", pi.model_index},
                  {"model_name", pi.model_name},
                  {"gpu", pi.gpu},
                  {"gpu_indices", pi.gpu_indices},
                  {"tensor_parallel_size", pi.tp},
                  {"start_order", pi.start_order},
                  {"gpu_memory_utilization", pi.gpu_memory_utilization},
                  {"min_gpu_memory_utilization", pi.min_gpu_memory_utilization},
                  {"footprint_gib", round2(static_cast<double>(pi.footprint_bytes) / kGiB)},
                  {"fits", pi.option.fits},
                  {"reason", pi.option.reason},
                  {"kv_cache_tokens", pi.option.est.startup.kv_cache_tokens},
                  {"max_concurrency", round2(pi.option.est.startup.max_concurrency)},
                  {"vllm_command", pi.option.vllm_command},
                  {"vllm_startup", full.contains("vllm_startup") ? full["vllm_startup"] : json()},
                  {"estimate_request", to_json(pi.option.request)}});
  }
  j["instances"] = std::move(is);
  j["notes"] = p.notes;
  return j;
}

namespace {

json point_json(const char* axis, const sweep_point& p, std::optional<std::uint64_t> batch,
                bool has_gpu) {
  const estimate_result& e = p.est;
  json j;
  j[axis] = p.x;
  if (!p.error.empty()) {
    if (has_gpu) {
      j["starts"] = false;
      j["fits"] = false;
    }
    j["error"] = p.error;
    return j;
  }
  j["total_max_memory_gb"] = bytes_to_gb(e.bytes.total_max);
  j["max_kv_cache_memory_gb"] = bytes_to_gb(e.bytes.max_kv_cache);
  j["model_params_memory_gb"] = bytes_to_gb(e.bytes.model_params);
  j["activation_memory_gb"] = bytes_to_gb(e.bytes.activation);
  j["recommended_memory_gb"] = bytes_to_gb(e.bytes.recommended);
  if (e.has_gpu) {
    const startup_result& s = e.startup;
    j["starts"] = s.fits;
    j["fits"] = s.fits && (!batch || s.max_concurrency >= static_cast<double>(*batch));
    j["limiting_factor"] = limiting_factor_name(s.limit);
    j["kv_cache_tokens"] = s.kv_cache_tokens;
    j["max_concurrency"] = round2(s.max_concurrency);
    j["kv_cache_gib"] = bytes_to_gib(static_cast<double>(s.kv_cache_bytes));
    j["weights_gib"] = bytes_to_gib(static_cast<double>(s.weights.total()));
    j["activation_peak_gib"] = bytes_to_gib(static_cast<double>(s.activation_peak_bytes));
    j["kv_needed_gib"] =
        bytes_to_gib(static_cast<double>(e.bytes.max_kv_cache));  // all sequences full
    j["max_model_len_fit"] = s.max_model_len_fit;
  }
  return j;
}

}  // namespace

json to_json(const sweep_result& s) {
  json j;
  j["setup"] = option_json(s.setup);
  j["max_model_len_fit"] = s.max_model_len_fit ? json(*s.max_model_len_fit) : json(nullptr);
  j["max_concurrency_fit"] = s.max_concurrency_fit ? json(*s.max_concurrency_fit) : json(nullptr);
  json ctx = json::array();
  for (const auto& p : s.context)
    ctx.push_back(point_json("max_model_len", p, s.workload_batch, s.has_gpu));
  j["context"] = std::move(ctx);
  json bs = json::array();
  for (const auto& p : s.batch) bs.push_back(point_json("max_batch_size", p, p.x, s.has_gpu));
  j["batch"] = std::move(bs);
  j["notes"] = {
      "context: the setup at each max_model_len (batch fixed); batch: at each max_batch_size "
      "(context fixed). fits: starts and holds the batch at once (a context point of a request "
      "without max_batch_size: starts). _gb: decimal GB (the seed's "
      "figures, the whole batch at full length); _gib: GiB (vLLM's startup figures, per GPU)"};
  return j;
}

json with_ignored_flags(const plan_request& r, json answer) {
  if (r.from_vllm_command) answer["ignored_flags"] = r.ignored_flags;
  return answer;
}

}  // namespace vllm_mem
