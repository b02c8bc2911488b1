// plan/search.cpp — the shared search: setups, their estimate, fit, texts and price.
#include "vllm_mem/plan/search.hpp"

#include <charconv>
#include <cmath>
#include <set>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem::plan_detail {

namespace {

// Two decimals, rounded down, so that "holds 31.99" never prints as "32.00".
std::string floor2(double v) { return fmt(2, std::floor(v * 100.0) / 100.0); }

int nvidia_cc(const gpu_entry& g) {
  // "8.6" -> 86; 0 when not an NVIDIA compute capability.
  const std::string& cc = g.compute_capability;
  const auto dot = cc.find('.');
  if (g.vendor != "NVIDIA" || dot == std::string::npos || dot == 0) return 0;
  int major = 0, minor = 0;
  for (std::size_t i = 0; i < dot; ++i) {
    if (cc[i] < '0' || cc[i] > '9') return 0;
    major = major * 10 + (cc[i] - '0');
  }
  if (dot + 1 >= cc.size() || cc[dot + 1] < '0' || cc[dot + 1] > '9') return 0;
  minor = cc[dot + 1] - '0';
  return major * 10 + minor;
}

std::string shell_word(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '@' ||
                    c == '+' || c == '=';
    plain = plain && ok;
  }
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::optional<gpu_price> price_of(const gpu_entry* g, const gpu_prices& overrides) {
  if (!g) return std::nullopt;
  gpu_price p;
  if (auto it = overrides.find(g->id); it != overrides.end()) {
    p.usd_per_gpu_hour = it->second;
    p.source = "request";
    return p;
  }
  const cloud_instance* c = g->cheapest_instance();
  if (!c) return std::nullopt;
  p.usd_per_gpu_hour = *c->price_usd_per_hour / static_cast<double>(c->gpus);
  p.source = "catalog";
  p.instance = *c;
  return p;
}

// The cheapest catalog instance (total price) with at least n whole GPUs.
std::optional<cloud_instance> rent_for(const gpu_entry* g, std::uint64_t n) {
  if (!g) return std::nullopt;
  const cloud_instance* best = nullptr;
  for (const auto& c : g->cloud_instances) {
    if (!c.price_usd_per_hour || c.gpus < n || c.gpus == 0) continue;
    if (!best || *c.price_usd_per_hour < *best->price_usd_per_hour) best = &c;
  }
  if (!best) return std::nullopt;
  return *best;
}

// Runs the estimate of a setup into `o` and reads whether it fits the workload: the option
// without its texts (describe, dress). In place: an option is large to move.
status assess(plan_option& o, const estimate_request& req, const resolved_model& model,
              std::optional<std::uint64_t> batch, const gpu_catalog& gpus) {
  if (auto est = estimate(req, model, gpus, o.est); !est) {
    error e = est.err();
    // The planner's context field is max_model_len (max_seq_len follows it in the request).
    if (e.code == error_code::out_of_range && e.field == "max_seq_len") {
      e.field = "max_model_len";
      for (auto p = e.message.find("max_seq_len"); p != std::string::npos;
           p = e.message.find("max_seq_len", p))
        e.message.replace(p, 11, "max_model_len");
    }
    return e;
  }
  const startup_result& s = o.est.startup;
  const deployment& d = o.est.deploy;
  o.tp = d.tp;
  o.pp = d.pp;
  o.num_gpus = o.est.num_gpus;
  o.gpu = o.est.gpu_id;
  o.starts = s.fits;
  o.fits = s.fits && (!batch || s.max_concurrency >= static_cast<double>(*batch));
  return ok_status();
}

// What limits an assessed option, and why it fits or not.
void describe(plan_option& o, std::optional<std::uint64_t> batch) {
  const startup_result& s = o.est.startup;
  const deployment& d = o.est.deploy;
  const std::string len = std::to_string(d.max_model_len);
  const std::string tokens = std::to_string(s.kv_cache_tokens);
  if (!s.fits) {
    o.limiting_factor = limiting_factor_name(s.limit);
    o.reason = s.error.empty() ? "vLLM does not start (" + o.limiting_factor + ")" : s.error;
  } else if (!o.fits) {
    o.limiting_factor = limiting_factor_name(limiting_factor::kv_cache);
    o.reason = "starts, but the KV cache (" + tokens + " tokens) holds only " +
               floor2(s.max_concurrency) + " sequences of " + len +
               " tokens at once, fewer than the " + std::to_string(*batch) + " asked for";
  } else {
    o.limiting_factor = limiting_factor_name(s.limit);
    o.reason = "starts; the KV cache (" + tokens + " tokens) holds " + fmt(2, s.max_concurrency) +
               " sequences of " + len + " tokens at once" +
               (batch ? " (" + std::to_string(*batch) + " asked for)" : std::string()) +
               (s.limit == limiting_factor::kv_cache
                    ? ", fewer than --max-num-seqs " + std::to_string(d.max_num_seqs)
                    : std::string());
  }
}

}  // namespace

error bad(const std::string& field, const std::string& message) {
  return make_error(error_code::invalid_argument, message, field);
}

std::string fmt(int decimals, double v) {
  char buf[400];  // any finite double in fixed notation
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (r.ec != std::errc()) return "?";
  return std::string(buf, r.ptr);
}

std::string usd(double v) {
  std::string s = "$";  // not "$" + fmt(...): GCC 12 -O3 warns falsely (-Wrestrict) on that
  s += fmt(2, v);
  return s;
}

std::string setup_text(const plan_option& o) {
  std::string s = std::to_string(o.num_gpus) + "x " + (o.gpu.empty() ? o.gpu_name : o.gpu);
  if (o.tp > 1 || o.pp > 1) {
    s += " (tensor parallel " + std::to_string(o.tp);
    if (o.pp > 1) s += ", pipeline parallel " + std::to_string(o.pp);
    s += ")";
  }
  return s;
}

std::string cost_text(const plan_option& o) {
  if (!o.hourly_cost_usd) return "no price known";
  return usd(*o.hourly_cost_usd) + "/hour (" + usd(*o.monthly_cost_usd) + "/month)";
}

std::string serve_command(const std::string& model, const std::string& vllm_args, bool four_bit,
                          const std::string& env) {
  std::string args = vllm_args;
  std::string prefix = env;
  const std::string v0 = "VLLM_USE_V1=0 ";
  if (args.rfind(v0, 0) == 0) {
    prefix += v0;
    args = args.substr(v0.size());
  }
  const std::string name =
      four_bit ? "'<AWQ or GPTQ 4-bit checkpoint of " + model + ">'" : shell_word(model);
  return prefix + "vllm serve " + name + " " + args;
}

status finish_context(plan_request& r, const model_arch& a) {
  if (!r.context_from_model) return ok_status();
  const std::uint64_t len = a.derived_max_model_len();
  if (len == 0) {
    return bad("max_model_len",
               "'max_model_len' is required: the model's maximum context is not known");
  }
  r.base.max_seq_len = len;
  return ok_status();
}

status within_decoder_bounds(const estimate_request& q) {
  const auto check = [](const char* field, std::uint64_t v, std::uint64_t max) -> status {
    if (v <= max) return ok_status();
    return bad(field, std::string("'") + field + "' must be at most " + std::to_string(max) +
                          ", got " + std::to_string(v));
  };
  if (auto s = check("max_seq_len", q.max_seq_len, kMaxContextTokens); !s) return s;
  if (auto s = check("max_batch_size", q.max_batch_size.value_or(1), kMaxBatchSequences); !s)
    return s;
  return check("max_model_len", q.max_model_len.value_or(1), kMaxContextTokens);
}

bool variant_supported(const gpu_entry* g, const precision_variant& v,
                       std::vector<std::string>& notes) {
  if (!g) {
    notes.push_back("check that your GPU supports " + std::string(v.label) + " in vLLM");
    return true;
  }
  const bool fp8 = v.fp8_kv || (v.quantization && std::string(v.quantization) == "fp8");
  const int cc = nvidia_cc(*g);
  if (g->vendor == "NVIDIA") {
    if (fp8 && cc < 80) return false;
    if (v.four_bit && cc < 75) return false;  // AWQ kernels need Turing or newer
    if (v.quantization && std::string(v.quantization) == "fp8" && !g->fp8_support) {
      notes.push_back(g->id +
                      " has no fp8 tensor cores: vLLM runs fp8 weights as weight-only FP8 "
                      "(Marlin kernel), with the memory of fp8 and 16-bit compute");
    }
    if (v.fp8_kv && !g->fp8_support) {
      notes.push_back(g->id +
                      " has no native fp8: the fp8 KV cache is converted in the attention "
                      "kernel; check that your vLLM version's attention backend supports it "
                      "on this GPU");
    }
    return true;
  }
  if (g->vendor == "AMD") {
    if (fp8 && !g->fp8_support) return false;
    return true;
  }
  return false;
}

setup_request setup_of(const plan_request& r, const gpu_entry* g, std::uint64_t tp,
                       std::uint64_t pp, const precision_variant* v) {
  setup_request s{r.base, r.client};
  estimate_request& q = s.request;
  if (g) {
    q.gpu_memory_gib.reset();
    q.gpu = g->id;
  }
  q.tensor_parallel_size = tp;
  q.pipeline_parallel_size = pp;
  if (v && v->fp8_kv) {
    q.kv_cache_dtype = parse_kv_cache_dtype("fp8");
    s.sets_kv_cache_dtype = true;
  }
  if (v && v->quantization) {
    q.quantization = parse_quantization(v->quantization);
    q.quantization_text = v->quantization;
    s.sets_quantization = true;
  }
  return s;
}

setup_request with_context(setup_request s, std::uint64_t len) {
  s.request.max_model_len = len;
  s.request.max_seq_len = len;
  s.sets_context = true;
  return s;
}

setup_request with_batch(setup_request s, std::uint64_t n) {
  s.request.max_batch_size = n;
  s.sets_batch = true;
  return s;
}

setup_request with_utilization(setup_request s, double u) {
  s.request.gpu_memory_utilization = u;
  s.request.gpu_memory_utilization_given = true;
  s.sets_utilization = true;
  return s;
}

status evaluate(plan_option& o, setup_request q, std::optional<std::uint64_t> batch,
                const resolved_model& model, const gpu_catalog& gpus) {
  o.request = std::move(q);
  if (auto s = within_decoder_bounds(o.request.request); !s) return s;
  if (auto s = assess(o, o.request.request, model, batch, gpus); !s) return s;
  describe(o, batch);
  return ok_status();
}

void dress(plan_option& o, const planner_ctx& c, const gpu_entry* g, const precision_variant* v,
           std::vector<std::string> variant_notes) {
  o.gpu_name = g ? g->name
               : c.r.base.gpu_memory_gib
                   ? "GPU with " + fmt(2, *c.r.base.gpu_memory_gib) + " GiB (gpu_memory_gib)"
                   : std::string();
  o.nodes = (o.num_gpus + c.r.gpus_per_node - 1) / c.r.gpus_per_node;
  const bool four_bit = v && v->four_bit;
  o.vllm_command = serve_command(c.r.base.model_name, o.est.vllm_args, four_bit);
  if (v) o.trades_precision = v->label;
  o.notes = std::move(variant_notes);
  if (four_bit) {
    o.notes.push_back(
        "serve an AWQ (or GPTQ) 4-bit checkpoint of the model: vLLM does not quantize weights "
        "to 4 bits while loading (bitsandbytes aside)");
  }
  if (o.nodes > 1) {
    o.notes.push_back("spans " + std::to_string(o.nodes) + " nodes of " +
                      std::to_string(c.r.gpus_per_node) +
                      " GPUs: pipeline parallel across nodes needs a Ray cluster and a fast "
                      "network between the nodes");
  }
  if (g && o.tp > 1) {
    const std::string ic = to_lower(g->interconnect);
    if (ic.find("nvlink") == std::string::npos && ic.find("infinity fabric") == std::string::npos) {
      o.notes.push_back(g->id + " has no NVLink (" + g->interconnect +
                        "): tensor parallel all-reduce goes over PCIe, which is slower");
    }
  }
  if (g && g->vendor == "AMD") {
    o.notes.push_back(
        "AMD GPU: needs vLLM's ROCm build; the startup model is calibrated on NVIDIA GPUs");
  }
  o.price = price_of(g, c.r.prices);
  o.rent = rent_for(g, o.num_gpus);
  if (o.price) {
    o.hourly_cost_usd = o.price->usd_per_gpu_hour * static_cast<double>(o.num_gpus);
    o.monthly_cost_usd = *o.hourly_cost_usd * kHoursPerMonth;
  }
  if (c.r.budget_usd_per_hour && o.hourly_cost_usd) {
    o.within_budget = *o.hourly_cost_usd <= *c.r.budget_usd_per_hour + 1e-9;
  }
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> split_gpus(const model_arch& a,
                                                                  std::uint64_t n,
                                                                  std::uint64_t per_node) {
  for (std::uint64_t tp = std::min(n, per_node); tp >= 1; --tp) {
    if (n % tp != 0) continue;
    if (check_parallel_sizes(a, tp, n / tp)) return std::make_pair(tp, n / tp);
  }
  return std::nullopt;
}

std::vector<std::uint64_t> candidate_counts(std::uint64_t max_gpus, std::uint64_t per_node) {
  std::set<std::uint64_t> c;
  for (std::uint64_t n = 1; n <= std::min(max_gpus, per_node); n *= 2) c.insert(n);
  if (per_node <= max_gpus) c.insert(per_node);
  for (std::uint64_t k = 2; k * per_node <= max_gpus; k = k < 8 ? k + 1 : k * 2) {
    c.insert(k * per_node);
  }
  return {c.begin(), c.end()};
}

status assess_setup(plan_option& o, const planner_ctx& c, const setup_key& k,
                    const precision_variant* v) {
  if (v) {
    std::vector<std::string> notes;
    if (!variant_supported(k.gpu, *v, notes)) {
      return make_error(error_code::unsupported, "not supported on this GPU");
    }
  }
  o.request = setup_of(c.r, k.gpu, k.tp, k.pp, v);
  return assess(o, o.request.request, c.model, c.r.batch, c.gpus);
}

void finish_option(plan_option& o, const planner_ctx& c, const setup_key& k,
                   const precision_variant* v) {
  std::vector<std::string> notes;
  if (v) variant_supported(k.gpu, *v, notes);  // supported (assess_setup): its notes
  describe(o, c.r.batch);
  dress(o, c, k.gpu, v, std::move(notes));
}

result<plan_option> make_option(const planner_ctx& c, const setup_key& k,
                                const precision_variant* v) {
  plan_option o;
  if (auto s = assess_setup(o, c, k, v); !s) return s.err();
  finish_option(o, c, k, v);
  return o;
}

namespace {

// The one setup of a solve or sweep request: its GPU and its tensor x pipeline split.
result<setup_key> fixed_key(const planner_ctx& c, const gpu_entry* g) {
  if (c.r.parallel_fixed || !c.r.num_gpus) {
    return setup_key{g, c.r.base.tensor_parallel_size, c.r.base.pipeline_parallel_size};
  }
  auto s = split_gpus(c.arch, *c.r.num_gpus, c.r.gpus_per_node);
  if (!s) {
    return bad("num_gpus", "no tensor/pipeline parallel split of " + std::to_string(*c.r.num_gpus) +
                               " GPUs suits this model");
  }
  return setup_key{g, s->first, s->second};
}

}  // namespace

status prepare_fixed_setup(fixed_setup& st, plan_option& setup, const plan_request& request,
                           const model_db& db, const gpu_catalog& gpus) {
  st.r = request;
  auto model = resolve_model(st.r.base, db);
  if (!model) return model.err();
  if (auto s = finish_context(st.r, model->arch); !s) return s.err();
  st.model = std::move(*model);
  const planner_ctx c = st.ctx(db, gpus);
  st.g = st.r.base.gpu ? gpus.find(*st.r.base.gpu) : nullptr;
  auto key = fixed_key(c, st.g);
  if (!key) return key.err();
  if (auto s = assess_setup(setup, c, *key, nullptr); !s) return s;
  finish_option(setup, c, *key, nullptr);
  return ok_status();
}

}  // namespace vllm_mem::plan_detail
