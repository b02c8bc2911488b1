// plan/planner.cpp — plan, reverse solves, placement and sweeps, all on top of estimate().
//
// Every candidate setup is an ordinary /estimate-gpu-memory request (a setup_request: the
// request's estimate fields with gpu, parallel sizes and precision set) run through estimate():
// the planner's per-GPU numbers are the estimate's by construction. For speed (a search tries
// hundreds of setups), the search varies the typed request, estimates with the model resolved
// once, and writes an option's texts only for the setups it returns; api/plan_json.hpp writes
// their bodies.
#include "vllm_mem/plan/planner.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <set>

#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr int kUtilSteps = 1000;  // gpu_memory_utilization resolution: 0.001
// Share of each pooled GPU left unassigned when the free memory is shared out as KV cache, as a
// margin for what the startup model does not see (other processes, allocator fragmentation).
constexpr double kPlacementReserve = 0.02;

error bad(const std::string& field, const std::string& message) {
  return make_error(error_code::invalid_argument, message, field);
}

// printf's "%.*f", by std::to_chars with a precision (specified to give printf's digits).
std::string fmt(int decimals, double v) {
  char buf[400];  // any finite double in fixed notation
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (r.ec != std::errc()) return "?";
  return std::string(buf, r.ptr);
}
// The estimate's flag format (estimate.cpp flag_number).
std::string flag_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}
std::string usd(double v) {
  std::string s = "$";  // not "$" + fmt(...): GCC 12 -O3 warns falsely (-Wrestrict) on that
  s += fmt(2, v);
  return s;
}
// Two decimals, rounded down, so that "holds 31.99" never prints as "32.00".
std::string floor2(double v) { return fmt(2, std::floor(v * 100.0) / 100.0); }
// Ends a text with exactly one period.
std::string sentence(std::string s) {
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  return s + ".";
}
std::string gib(double bytes) { return fmt(2, bytes / kGiB) + " GiB"; }

// Replaces the placeholder context by the model's maximum (vLLM's default max_model_len).
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

// A value the estimate decoder would refuse (parse_estimate_request's bounds), for the values a
// search sets (context, batch): the decoder's error, as /estimate-gpu-memory would answer the
// setup's body.
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

// ---------------------------------------------------------------------------------------------
// Evaluating one setup

struct precision_variant {
  const char* label;  // trades_precision
  bool fp8_kv;
  const char* quantization;  // nullptr: the requested weights
  bool four_bit;
};

// In order of increasing precision loss.
constexpr precision_variant kVariants[] = {
    {"fp8 KV cache", true, nullptr, false},
    {"fp8 weights", false, "fp8", false},
    {"fp8 weights and fp8 KV cache", true, "fp8", false},
    {"4-bit weights (AWQ)", false, "awq", true},
    {"4-bit weights (AWQ) and fp8 KV cache", true, "awq", true},
};

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

// Whether vLLM runs the variant on the GPU, with what to know about it. `g` null: a GPU given
// by memory only (not checked).
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

bool variant_applies(const precision_variant& v, const estimate_request& base,
                     const model_arch& a) {
  if (v.fp8_kv) {
    const bool kv_narrow = base.kv_cache_dtype && !base.kv_cache_dtype->is_auto &&
                           dtype_bits(base.kv_cache_dtype->value) <= 8;
    if (kv_narrow) return false;
  }
  if (v.quantization) {
    if (!a.quantization.is_none() || base.quantization) return false;
    if (!base.dtype.is_auto && dtype_bits(base.dtype.value) <= 8) return false;
  }
  return true;
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

// `vllm serve` with the estimate's flags; environment assignments stay in front.
std::string serve_command(const std::string& model, const std::string& vllm_args, bool four_bit,
                          const std::string& env = "") {
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

struct planner_ctx {
  const plan_request& r;
  const resolved_model& model;  // r.base's model: the same for every setup (estimate.hpp)
  const model_arch& arch;
  const model_db& db;
  const gpu_catalog& gpus;
};

// The request of a setup: the client's, on GPU `g` (null: as the request gives it), with the
// parallel sizes and the precision trade `v` (null: the requested precision).
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

// The setup at another workload value.
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
  s.sets_utilization = true;
  return s;
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
// without its texts (describe, dress) and body. In place: an option is large to move.
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

// The option of a setup given as its request (a probe of the solver, an instance of a
// placement), with its reason, into `o` (a default-constructed option; on an error, only its
// request is set); `model` resolved from the request's model fields. A value the decoder would
// refuse is that error, as when the body was posted.
status evaluate(plan_option& o, setup_request q, std::optional<std::uint64_t> batch,
                const resolved_model& model, const gpu_catalog& gpus) {
  o.request = std::move(q);
  if (auto s = within_decoder_bounds(o.request.request); !s) return s;
  if (auto s = assess(o, o.request.request, model, batch, gpus); !s) return s;
  describe(o, batch);
  return ok_status();
}

// Adds the GPU, command, price and notes to an evaluated option.
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

// Tensor x pipeline split of n GPUs: the largest tensor parallel size vLLM accepts that fits in a
// node, the rest as pipeline stages.
std::optional<std::pair<std::uint64_t, std::uint64_t>> split_gpus(const model_arch& a,
                                                                  std::uint64_t n,
                                                                  std::uint64_t per_node) {
  for (std::uint64_t tp = std::min(n, per_node); tp >= 1; --tp) {
    if (n % tp != 0) continue;
    if (check_parallel_sizes(a, tp, n / tp)) return std::make_pair(tp, n / tp);
  }
  return std::nullopt;
}

// GPU counts to try: powers of two within a node, the full node, then whole nodes (2 to 8
// nodes, then doubling, so that the list stays short for any max_gpus).
std::vector<std::uint64_t> candidate_counts(std::uint64_t max_gpus, std::uint64_t per_node) {
  std::set<std::uint64_t> c;
  for (std::uint64_t n = 1; n <= std::min(max_gpus, per_node); n *= 2) c.insert(n);
  if (per_node <= max_gpus) c.insert(per_node);
  for (std::uint64_t k = 2; k * per_node <= max_gpus; k = k < 8 ? k + 1 : k * 2) {
    c.insert(k * per_node);
  }
  return {c.begin(), c.end()};
}

struct setup_key {
  const gpu_entry* gpu;
  std::uint64_t tp, pp;
};

// The setups (tp, pp) to try on one GPU type.
std::vector<setup_key> setups_for(const planner_ctx& c, const gpu_entry* g,
                                  std::uint64_t max_gpus) {
  std::vector<setup_key> out;
  if (c.r.parallel_fixed) {
    out.push_back({g, c.r.base.tensor_parallel_size, c.r.base.pipeline_parallel_size});
    return out;
  }
  std::vector<std::uint64_t> counts = c.r.num_gpus ? std::vector<std::uint64_t>{*c.r.num_gpus}
                                                   : candidate_counts(max_gpus, c.r.gpus_per_node);
  for (std::uint64_t n : counts) {
    if (auto s = split_gpus(c.arch, n, c.r.gpus_per_node)) out.push_back({g, s->first, s->second});
  }
  return out;
}

// The setup assessed (assess) into `o`: its estimate and fit, not yet its texts.
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

// Completes an assessed setup into an option: its reason, command, price and notes.
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

// Options of one GPU type at one precision: the setups in order until the first that fits,
// assessed only (finish_option completes the ones that become options).
struct type_scan {
  std::vector<plan_option> tried;
  std::vector<setup_key> keys;  // of `tried`
  std::optional<std::size_t> fit;
};

result<type_scan> scan_type(const planner_ctx& c, const std::vector<setup_key>& setups,
                            const precision_variant* v, std::uint64_t below_gpus) {
  type_scan s;
  s.tried.reserve(setups.size());
  s.keys.reserve(setups.size());
  for (const auto& k : setups) {
    if (k.tp * k.pp >= below_gpus) break;
    if (auto ok = assess_setup(s.tried.emplace_back(), c, k, v); !ok) {
      s.tried.pop_back();
      if (v) return s;  // a trade vLLM does not run here: not an option
      return ok.err();
    }
    s.keys.push_back(k);
    if (s.tried.back().fits) {
      s.fit = s.tried.size() - 1;
      break;
    }
  }
  return s;
}

bool option_ok(const plan_option& o, bool has_budget) {
  return o.fits && (!has_budget || o.within_budget.value_or(false));
}

// Best first: fits (and within budget), the requested precision, priced by cost, unpriced by
// GPU count and memory, then more concurrency.
bool better(const plan_option& a, const plan_option& b, bool has_budget) {
  const bool ao = option_ok(a, has_budget), bo = option_ok(b, has_budget);
  if (ao != bo) return ao;
  const bool at = a.trades_precision.empty(), bt = b.trades_precision.empty();
  if (at != bt) return at;
  if (a.hourly_cost_usd.has_value() != b.hourly_cost_usd.has_value())
    return a.hourly_cost_usd.has_value();
  if (a.hourly_cost_usd && *a.hourly_cost_usd != *b.hourly_cost_usd)
    return *a.hourly_cost_usd < *b.hourly_cost_usd;
  if (a.num_gpus != b.num_gpus) return a.num_gpus < b.num_gpus;
  const auto mem = [](const plan_option& o) { return o.est.startup.total_bytes * o.num_gpus; };
  if (mem(a) != mem(b)) return mem(a) < mem(b);
  if (a.est.startup.max_concurrency != b.est.startup.max_concurrency)
    return a.est.startup.max_concurrency > b.est.startup.max_concurrency;
  return a.gpu < b.gpu;
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

// A suggestion of the option's setup (its GPU and count; the caller adds what it changes).
plan_suggestion suggestion(std::string kind, std::string text, const plan_option& o) {
  plan_suggestion s{std::move(kind), std::move(text), {}};
  s.details.gpu = o.gpu;
  s.details.num_gpus = o.num_gpus;
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reverse solves

namespace {

setup_request with_util(setup_request s, int k) {
  return with_utilization(std::move(s), static_cast<double>(k) / kUtilSteps);
}

struct solver {
  const planner_ctx& c;
  const gpu_entry* gpu;
  setup_request body;  // the setup at the workload

  // The setup at a probed value. The setup itself was evaluated before any probe, so a rule
  // the probe breaks (V0: max_num_batched_tokens below max_model_len) or a probe whose bytes
  // pass 2^60 (checked_math.hpp) means "does not fit".
  result<plan_option> at(setup_request q, std::optional<std::uint64_t> batch) const {
    plan_option o;
    if (auto s = evaluate(o, std::move(q), batch, c.model, c.gpus); !s) {
      if (s.err().code != error_code::invalid_argument && s.err().code != error_code::out_of_range)
        return s.err();
      plan_option none;
      none.request = std::move(o.request);
      none.limiting_factor = s.err().field;
      none.reason = s.err().message;
      return none;
    }
    dress(o, c, gpu, nullptr, {});
    return o;
  }

  // Largest context that fits (with `batch`) by bisection over the forward model.
  result<solved> max_model_len(std::optional<std::uint64_t> batch) const {
    solved out;
    out.kind = solve_kind::max_model_len;
    const std::uint64_t derived = c.arch.derived_max_model_len();
    const std::uint64_t upper = derived > 0 ? derived : kMaxContextTokens;
    auto first = at(with_context(body, 1), batch);
    if (!first) return first.err();
    if (!first->fits) {
      out.reason = "not even a 1-token context fits: " + first->reason;
      return out;
    }
    std::uint64_t lo = 1, hi = upper;  // fits(lo) holds
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo + 1) / 2;
      auto o = at(with_context(body, mid), batch);
      if (!o) return o.err();
      if (o->fits) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    auto v = at(with_context(body, lo), batch);
    if (!v) return v.err();
    out.found = v->fits;
    out.value = static_cast<double>(lo);
    const std::uint64_t next = lo + v->est.deploy.block_size;
    auto n = at(with_context(body, next), batch);
    if (!n) return n.err();
    out.next = static_cast<double>(next);
    out.next_fits = n->fits;
    out.next_limiting_factor = n->limiting_factor;
    out.reason = lo == derived ? "the model's maximum context (max_position_embeddings)"
                               : "one block more (" + std::to_string(next) +
                                     " tokens) does not fit: " + n->reason;
    out.at_value = std::move(*v);
    return out;
  }

  // Largest --max-num-seqs whose sequences all fit at the context.
  result<solved> max_concurrency() const {
    solved out;
    out.kind = solve_kind::max_concurrency;
    auto ok = [&](std::uint64_t s) -> result<std::pair<bool, plan_option>> {
      auto o = at(with_batch(body, s), s);
      if (!o) return o.err();
      // V1 caps max_num_seqs at max_num_batched_tokens: a larger value is not what runs.
      const bool good = o->fits && o->est.deploy.max_num_seqs == s;
      return std::make_pair(good, std::move(*o));
    };
    auto first = ok(1);
    if (!first) return first.err();
    if (!first->first) {
      out.reason = "not even one sequence fits: " + first->second.reason;
      return out;
    }
    std::uint64_t lo = 1, hi = kMaxBatchSequences;
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo + 1) / 2;
      auto r = ok(mid);
      if (!r) return r.err();
      if (r->first) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    auto v = ok(lo);
    auto n = ok(lo + 1);
    if (!v) return v.err();
    if (!n) return n.err();
    out.found = v->first;
    out.value = static_cast<double>(lo);
    out.next = static_cast<double>(lo + 1);
    out.next_fits = n->first;
    const bool probed = !n->second.vllm_command.empty();  // else a rule stopped the probe
    if (probed && n->second.est.deploy.max_num_seqs != lo + 1) {
      out.next_limiting_factor = "max_num_batched_tokens";
      out.reason = "vLLM caps --max-num-seqs at --max-num-batched-tokens (" +
                   std::to_string(n->second.est.deploy.max_num_batched_tokens) +
                   "); raise it for more sequences";
    } else {
      out.next_limiting_factor = n->second.limiting_factor;
      out.reason = std::to_string(lo + 1) + " sequences do not fit: " + n->second.reason;
    }
    out.at_value = std::move(v->second);
    return out;
  }

  // Smallest gpu_memory_utilization (step 0.001) that fits.
  result<solved> min_utilization(std::optional<std::uint64_t> batch) const {
    solved out;
    out.kind = solve_kind::min_gpu_memory_utilization;
    // Large enough: fits, or fails only because the utilization is too high (startup free
    // memory, CUDA graph headroom). Monotone in u.
    auto big_enough = [&](int k) -> result<std::pair<bool, plan_option>> {
      auto o = at(with_util(body, k), batch);
      if (!o) return o.err();
      const limiting_factor f = o->est.startup.limit;
      const bool too_high = !o->starts && (f == limiting_factor::gpu_memory_utilization ||
                                           f == limiting_factor::cuda_graphs);
      return std::make_pair(o->fits || too_high, std::move(*o));
    };
    auto top = big_enough(kUtilSteps);
    if (!top) return top.err();
    if (!top->first) {
      out.reason = "does not fit even at gpu_memory_utilization 1.0: " + top->second.reason;
      return out;
    }
    int lo = 1, hi = kUtilSteps;  // smallest k with big_enough(k)
    while (lo < hi) {
      const int mid = lo + (hi - lo) / 2;
      auto r = big_enough(mid);
      if (!r) return r.err();
      if (r->first) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    auto v = big_enough(lo);
    if (!v) return v.err();
    out.value = static_cast<double>(lo) / kUtilSteps;
    out.next = static_cast<double>(lo - 1) / kUtilSteps;
    if (lo > 1) {
      auto n = big_enough(lo - 1);
      if (!n) return n.err();
      out.next_fits = n->second.fits;
      out.next_limiting_factor = n->second.limiting_factor;
      out.reason = n->second.reason;
    }
    out.found = v->second.fits;
    if (!out.found) {
      out.reason =
          "no gpu_memory_utilization works: below " + fmt(3, out.value) +
          " the memory is too small (" +
          (out.next_limiting_factor.empty() ? std::string("-") : out.next_limiting_factor) +
          "), from it up vLLM refuses to start: " + v->second.reason;
    } else if (lo > 1) {
      out.reason = fmt(3, out.next) + " does not fit: " + out.reason;
    }
    out.at_value = std::move(v->second);
    return out;
  }
};

// Fewest GPUs of one type (candidate counts up to max_gpus) that fit.
result<solved> solve_min_gpus(const planner_ctx& c, const gpu_entry* g, std::uint64_t max_gpus) {
  solved out;
  out.kind = solve_kind::min_gpus;
  std::vector<plan_option> tried;
  for (std::uint64_t n : candidate_counts(max_gpus, c.r.gpus_per_node)) {
    auto s = split_gpus(c.arch, n, c.r.gpus_per_node);
    if (!s) continue;
    auto o = make_option(c, {g, s->first, s->second}, nullptr);
    if (!o) return o.err();
    const bool fits = o->fits;
    tried.push_back(std::move(*o));
    if (fits) break;
  }
  if (tried.empty()) {
    out.reason = "no GPU count up to " + std::to_string(max_gpus) +
                 " has a tensor/pipeline split this model accepts";
    return out;
  }
  if (!tried.back().fits) {
    out.reason = "even " + setup_text(tried.back()) + " does not fit: " + tried.back().reason;
    out.at_value = tried.back();
    return out;
  }
  out.found = true;
  out.value = static_cast<double>(tried.back().num_gpus);
  if (tried.size() > 1) {
    const plan_option& prev = tried[tried.size() - 2];
    out.next = static_cast<double>(prev.num_gpus);
    out.next_fits = prev.fits;
    out.next_limiting_factor = prev.limiting_factor;
    out.reason = setup_text(prev) + " does not fit: " + prev.reason;
  }
  out.at_value = tried.back();
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Plan

result<plan_result> plan(const plan_request& r0, const model_db& db, const gpu_catalog& gpus) {
  plan_request r = r0;
  auto model = resolve_model(r.base, db);
  if (!model) return model.err();
  if (auto s = finish_context(r, model->arch); !s) return s.err();
  const planner_ctx c{r, *model, model->arch, db, gpus};

  plan_result out;
  out.model_name = r.base.model_name;
  out.resolved_model_id = model->resolved_id;
  out.model_source = model->source;
  out.max_model_len = r.base.max_model_len.value_or(r.base.max_seq_len);
  out.batch = r.batch;
  out.context_from_model = r.context_from_model;
  out.warnings = model->warnings;

  std::vector<const gpu_entry*> types;
  if (r.base.gpu) {
    types.push_back(gpus.find(*r.base.gpu));
  } else if (r.base.gpu_memory_gib) {
    types.push_back(nullptr);
  } else if (!r.gpus.empty()) {
    for (const auto& id : r.gpus) types.push_back(gpus.find(id));
  } else {
    for (const auto& g : gpus.entries()) {
      if (g.cuda_total_gib > 0) {
        types.push_back(&g);
      } else {
        out.skipped_gpus.emplace_back(g.id, "no CUDA memory reading in the catalog");
      }
    }
  }
  if (!r.parallel_fixed && r.num_gpus && !split_gpus(c.arch, *r.num_gpus, r.gpus_per_node)) {
    return bad("num_gpus", "no tensor/pipeline parallel split of " + std::to_string(*r.num_gpus) +
                               " GPUs suits this model (its " + std::to_string(c.arch.num_heads) +
                               " attention heads and " + std::to_string(c.arch.num_kv_heads) +
                               " KV heads must divide by the tensor parallel size)");
  }

  const bool has_budget = r.budget_usd_per_hour.has_value();
  constexpr std::uint64_t kNone = ~0ULL;
  // At most every setup of every type, and one option per precision trade: no option moves
  // while the list grows.
  out.options.reserve(types.size() *
                      (setups_for(c, nullptr, r.max_gpus).size() + std::size(kVariants)));
  for (const gpu_entry* g : types) {
    const auto setups = setups_for(c, g, r.max_gpus);
    auto base = scan_type(c, setups, nullptr, kNone);
    if (!base) return base.err();
    const std::uint64_t exact_fit = base->fit ? base->tried[*base->fit].num_gpus : kNone;
    const std::uint64_t tried_most = base->tried.empty() ? 0 : base->tried.back().num_gpus;
    if (base->fit) {
      for (std::size_t i = 0; i < base->tried.size(); ++i) {
        finish_option(base->tried[i], c, base->keys[i], nullptr);
        out.options.push_back(std::move(base->tried[i]));
      }
    } else if (!base->tried.empty()) {
      finish_option(base->tried.back(), c, base->keys.back(), nullptr);
      out.options.push_back(std::move(base->tried.back()));  // the closest it gets
    }
    if (!r.precision_trades) continue;
    // Precision trades, only where they change the answer: fewer GPUs than the requested
    // precision needs (or any fit where it fits nowhere).
    std::uint64_t best = exact_fit;
    for (const auto& v : kVariants) {
      if (!variant_applies(v, r.base, c.arch)) continue;
      auto s = scan_type(c, setups, &v, best);
      if (!s) return s.err();
      if (!s->fit) continue;
      plan_option& o = s->tried[*s->fit];
      finish_option(o, c, s->keys[*s->fit], &v);
      o.notes.insert(o.notes.begin(),
                     std::string(v.label) + " instead of the requested precision, which needs " +
                         (exact_fit == kNone ? "more than " + std::to_string(tried_most)
                                             : std::to_string(exact_fit)) +
                         " GPU(s) of this type");
      best = o.num_gpus;
      out.options.push_back(std::move(o));
    }
  }
  {
    // Sorted by index, then moved once: an option (with its estimate) is large to move around.
    std::vector<std::size_t> order(out.options.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return better(out.options[a], out.options[b], has_budget);
    });
    std::vector<plan_option> sorted;
    sorted.reserve(order.size());
    for (std::size_t i : order) sorted.push_back(std::move(out.options[i]));
    out.options = std::move(sorted);
  }

  // The answer in one paragraph, and what would fit when nothing does.
  const plan_option* best_exact = nullptr;
  const plan_option* best_trade = nullptr;
  const plan_option* cheapest_fit = nullptr;
  for (const auto& o : out.options) {
    if (o.fits && !cheapest_fit && o.trades_precision.empty()) cheapest_fit = &o;
    if (!option_ok(o, has_budget)) continue;
    if (o.trades_precision.empty() && !best_exact) best_exact = &o;
    if (!o.trades_precision.empty() && !best_trade) best_trade = &o;
  }
  const std::string workload = std::to_string(out.max_model_len) + "-token context" +
                               (r.batch ? " x " + std::to_string(*r.batch) + " sequences" : "");
  if (best_exact) {
    out.summary = "Best for " + workload + ": " + setup_text(*best_exact) + ", " +
                  cost_text(*best_exact) + "; " + best_exact->reason +
                  ". Run: " + best_exact->vllm_command;
    if (best_trade && (!best_trade->hourly_cost_usd || !best_exact->hourly_cost_usd ||
                       *best_trade->hourly_cost_usd < *best_exact->hourly_cost_usd)) {
      out.summary += ". Trading precision (" + best_trade->trades_precision +
                     "): " + setup_text(*best_trade) + ", " + cost_text(*best_trade) + ".";
    }
  } else {
    if (cheapest_fit && has_budget) {
      out.summary = "Nothing that fits " + workload + " is within the budget of " +
                    usd(*r.budget_usd_per_hour) + "/hour; the cheapest that fits is " +
                    setup_text(*cheapest_fit) + ", " + cost_text(*cheapest_fit) + ".";
      out.suggestions.push_back(suggestion(
          "budget",
          "raise the budget to " + cost_text(*cheapest_fit) + " for " + setup_text(*cheapest_fit),
          *cheapest_fit));
    } else {
      const std::string where =
          r.num_gpus && types.size() == 1 && !out.options.empty()
              ? "on " + setup_text(out.options.front())
              : "on the GPUs allowed (up to " + std::to_string(r.max_gpus) + " per setup)";
      out.summary = "Nothing fits " + workload + " " + where + " at the requested precision.";
    }
    if (best_trade) {
      out.summary += " Trading precision (" + best_trade->trades_precision + ") it fits on " +
                     setup_text(*best_trade) + ", " + cost_text(*best_trade) + ".";
      out.suggestions.push_back(suggestion("precision",
                                           best_trade->trades_precision + " fits on " +
                                               setup_text(*best_trade) + ": " +
                                               best_trade->vllm_command,
                                           *best_trade));
      out.suggestions.back().details.trades_precision = best_trade->trades_precision;
    }
  }
  if (!best_exact && !cheapest_fit) {
    // The closest exact-precision setup: the one holding the most sequences, else the most memory.
    const plan_option* closest = nullptr;
    for (const auto& o : out.options) {
      if (!o.trades_precision.empty()) continue;
      if (!closest) {
        closest = &o;
        continue;
      }
      if (o.starts != closest->starts) {
        if (o.starts) closest = &o;
        continue;
      }
      const auto key = [](const plan_option& x) {
        return x.starts ? x.est.startup.max_concurrency
                        : static_cast<double>(x.est.startup.total_bytes * x.num_gpus);
      };
      if (key(o) > key(*closest)) closest = &o;
    }
    if (closest) {
      out.summary += " Closest: " + setup_text(*closest) + ": " + sentence(closest->reason);
      // More GPUs of the types allowed.
      if (r.max_gpus < kMoreGpusLimit) {
        std::vector<plan_option> more;
        for (const gpu_entry* g : types) {
          auto s = solve_min_gpus(c, g, kMoreGpusLimit);
          if (!s) return s.err();
          if (s->found && s->at_value) more.push_back(std::move(*s->at_value));
        }
        std::stable_sort(more.begin(), more.end(), [&](const plan_option& a, const plan_option& b) {
          return better(a, b, false);
        });
        for (std::size_t i = 0; i < more.size() && i < 3; ++i) {
          out.suggestions.push_back(suggestion("more_gpus",
                                               "fits on " + setup_text(more[i]) + ", " +
                                                   cost_text(more[i]) + ": " + more[i].vllm_command,
                                               more[i]));
          out.suggestions.back().details.tensor_parallel_size = more[i].tp;
          out.suggestions.back().details.pipeline_parallel_size = more[i].pp;
        }
      }
      // A shorter context, or fewer sequences, on the closest setup.
      const gpu_entry* g = closest->gpu.empty() ? nullptr : gpus.find(closest->gpu);
      solver sv{c, g, closest->request};
      auto len = sv.max_model_len(r.batch);
      if (!len) return len.err();
      if (len->found && len->value < static_cast<double>(out.max_model_len)) {
        const auto v = static_cast<std::uint64_t>(len->value);
        out.suggestions.push_back(suggestion(
            "shorter_context",
            setup_text(*closest) + " fits up to max_model_len " + std::to_string(v) +
                (r.batch ? " for " + std::to_string(*r.batch) + " sequences" : std::string()),
            *closest));
        out.suggestions.back().details.max_model_len = v;
      }
      if (r.batch && closest->starts) {
        auto conc = sv.max_concurrency();
        if (!conc) return conc.err();
        if (conc->found) {
          const auto v = static_cast<std::uint64_t>(conc->value);
          out.suggestions.push_back(
              suggestion("fewer_sequences",
                         setup_text(*closest) + " serves " + std::to_string(v) + " sequences of " +
                             std::to_string(out.max_model_len) + " tokens at once",
                         *closest));
          out.suggestions.back().details.max_batch_size = v;
        }
      }
    }
    for (const auto& s : out.suggestions) out.summary += " Would fit: " + sentence(s.text);
  }
  if (r.max_options > 0 && out.options.size() > r.max_options) out.options.resize(r.max_options);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Solve

const char* solve_kind_name(solve_kind k) {
  switch (k) {
    case solve_kind::max_model_len:
      return "max_model_len";
    case solve_kind::max_concurrency:
      return "max_concurrency";
    case solve_kind::min_gpu_memory_utilization:
      return "min_gpu_memory_utilization";
    case solve_kind::min_gpus:
      return "min_gpus";
  }
  return "max_model_len";
}

namespace {

// The one setup of a solve or sweep request: its GPU and its tensor x pipeline split.
result<setup_key> fixed_setup(const planner_ctx& c, const gpu_entry* g) {
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

namespace {

// The one setup a solve or a sweep is about: the request with its context finished, the model,
// the GPU and the estimate of that setup.
struct fixed_setup_state {
  plan_request r;
  resolved_model model;
  const gpu_entry* g = nullptr;
  plan_option setup;
};

result<fixed_setup_state> prepare_fixed_setup(const plan_request& request, const model_db& db,
                                              const gpu_catalog& gpus) {
  fixed_setup_state st;
  st.r = request;
  auto model = resolve_model(st.r.base, db);
  if (!model) return model.err();
  if (auto s = finish_context(st.r, model->arch); !s) return s.err();
  st.model = std::move(*model);
  const planner_ctx c{st.r, st.model, st.model.arch, db, gpus};
  st.g = st.r.base.gpu ? gpus.find(*st.r.base.gpu) : nullptr;
  auto key = fixed_setup(c, st.g);
  if (!key) return key.err();
  auto setup = make_option(c, *key, nullptr);
  if (!setup) return setup.err();
  st.setup = std::move(*setup);
  return st;
}

}  // namespace

result<solve_result> solve(const solve_request& r0, const model_db& db, const gpu_catalog& gpus) {
  auto st = prepare_fixed_setup(r0.setup, db, gpus);
  if (!st) return st.err();
  const plan_request& r = st->r;
  const planner_ctx c{r, st->model, st->model.arch, db, gpus};
  const gpu_entry* g = st->g;
  solve_result out;
  out.setup = std::move(st->setup);
  solver sv{c, g, out.setup.request};
  std::vector<solve_kind> kinds = r0.solves;
  if (kinds.empty()) {
    kinds = {solve_kind::max_model_len, solve_kind::max_concurrency,
             solve_kind::min_gpu_memory_utilization, solve_kind::min_gpus};
  }
  for (solve_kind k : kinds) {
    result<solved> s = solved{};
    switch (k) {
      case solve_kind::max_model_len: {
        s = sv.max_model_len(r.batch);
        if (s && r.batch) {
          auto starts = sv.max_model_len(std::nullopt);
          if (!starts) return starts.err();
          if (starts->found) s->starts_value = static_cast<std::uint64_t>(starts->value);
        }
        break;
      }
      case solve_kind::max_concurrency:
        s = sv.max_concurrency();
        break;
      case solve_kind::min_gpu_memory_utilization:
        s = sv.min_utilization(r.batch);
        break;
      case solve_kind::min_gpus:
        s = solve_min_gpus(c, g, r.max_gpus);
        break;
    }
    if (!s) return s.err();
    out.solves.push_back(std::move(*s));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Placement

error in_placement_model(std::size_t i, error e) {
  const std::string prefix = "models[" + std::to_string(i) + "]";
  e.field = prefix + (e.field.empty() || e.field == "body" ? "" : "." + e.field);
  e.message = prefix + ": " + e.message;
  return e;
}

namespace {

// Memory a started instance holds on each of its GPUs: the budget T*u, plus the CUDA context
// outside it (inside it where other memory counts against the budget, §3), plus CUDA graphs
// captured outside the budget (§2.4, §5).
std::uint64_t footprint_bytes(const estimate_result& e) {
  const startup_result& s = e.startup;
  std::uint64_t f = s.requested_bytes;
  if (e.deploy.profile.budget != budget_mode::global) f += s.cuda_context_bytes;
  if (!s.cuda_graph_in_budget && !e.deploy.enforce_eager) f += s.cuda_graph_bytes;
  return f;
}

struct requirement {
  std::string gpu;
  std::uint64_t tp = 1;
  int util_steps = 0;  // smallest utilization x 1000
  std::uint64_t footprint = 0;
  plan_option option;
};

}  // namespace

result<placement_result> place(const placement_request& r, const model_db& db,
                               const gpu_catalog& gpus) {
  placement_result out;
  // The pool's GPUs, in order.
  std::vector<const gpu_entry*> types;
  for (const auto& e : r.pool) {
    const gpu_entry* g = gpus.find(e.gpu);
    if (std::find(types.begin(), types.end(), g) == types.end()) types.push_back(g);
    for (std::uint64_t i = 0; i < e.count; ++i) {
      pool_gpu pg;
      pg.gpu = g->id;
      pg.total_bytes = static_cast<std::uint64_t>(std::llround(g->cuda_total_gib * kGiB));
      out.gpus.push_back(pg);
    }
  }
  auto count_of = [&](const std::string& id) {
    std::uint64_t n = 0;
    for (const auto& pg : out.gpus) n += pg.gpu == id ? 1 : 0;
    return n;
  };

  // What each model needs on each GPU type: the smallest utilization that fits, per tp.
  std::vector<std::vector<requirement>> needs(r.models.size());
  std::vector<std::string> no_fit(r.models.size());
  std::vector<double> no_fit_mem(r.models.size(), 0.0);
  std::vector<resolved_model> resolved(r.models.size());
  bool any_global = false, any_instance = false;
  for (std::size_t i = 0; i < r.models.size(); ++i) {
    plan_request pr = r.models[i];
    auto model = resolve_model(pr.base, db);
    if (!model) return in_placement_model(i, model.err());
    resolved[i] = std::move(*model);
    const resolved_model* const m = &resolved[i];
    if (auto s = finish_context(pr, m->arch); !s) return in_placement_model(i, s.err());
    const planner_ctx c{pr, *m, m->arch, db, gpus};
    const bool tp_fixed = pr.base.tensor_parallel_size > 1;
    for (const gpu_entry* g : types) {
      for (std::uint64_t tp : {1ULL, 2ULL, 4ULL, 8ULL}) {
        if (tp_fixed && tp != pr.base.tensor_parallel_size) continue;
        if (!check_parallel_sizes(m->arch, tp, 1)) continue;
        if (tp > count_of(g->id)) {
          if (no_fit[i].empty()) {
            no_fit[i] = "tensor parallel size " + std::to_string(tp) + " needs " +
                        std::to_string(tp) + " GPUs of one type and the pool has " +
                        std::to_string(count_of(g->id)) + " " + g->id;
          }
          continue;
        }
        solver sv{c, g, setup_of(pr, g, tp, 1, nullptr)};
        auto s = sv.min_utilization(pr.batch);
        if (!s) return in_placement_model(i, s.err());
        if (!s->found) {
          // Report the largest setup tried (most memory), the closest to fitting.
          const double mem = g->cuda_total_gib * static_cast<double>(tp);
          if (mem >= no_fit_mem[i]) {
            no_fit_mem[i] = mem;
            no_fit[i] = std::to_string(tp) + "x " + g->id + ": " + s->reason;
          }
          continue;
        }
        requirement q;
        q.gpu = g->id;
        q.tp = tp;
        q.util_steps = static_cast<int>(std::lround(s->value * kUtilSteps));
        q.option = std::move(*s->at_value);
        q.footprint = footprint_bytes(q.option.est);
        (q.option.est.deploy.profile.budget == budget_mode::global ? any_global : any_instance) =
            true;
        needs[i].push_back(std::move(q));
        break;  // the smallest tp that fits this type
      }
    }
    if (needs[i].empty()) {
      out.reason = "models[" + std::to_string(i) + "] (" + pr.base.model_name +
                   ") does not fit on any GPU of the pool even alone: " + no_fit[i];
      return out;
    }
  }
  out.budget_mode = any_global && any_instance ? "mixed" : any_global ? "global" : "per_instance";

  // First-fit decreasing by the memory each instance needs (on its first GPU type).
  std::vector<std::size_t> order(r.models.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return needs[a].front().footprint * needs[a].front().tp >
           needs[b].front().footprint * needs[b].front().tp;
  });
  for (std::size_t i : order) {
    bool placed = false;
    std::string closest;
    for (const auto& q : needs[i]) {
      std::vector<std::uint64_t> chosen;
      for (std::uint64_t gi = 0; gi < out.gpus.size() && chosen.size() < q.tp; ++gi) {
        const pool_gpu& pg = out.gpus[gi];
        if (pg.gpu == q.gpu && pg.total_bytes >= pg.used_bytes + q.footprint) chosen.push_back(gi);
      }
      if (chosen.size() < q.tp) {
        std::uint64_t most_free = 0;
        for (const auto& pg : out.gpus) {
          if (pg.gpu == q.gpu) most_free = std::max(most_free, pg.total_bytes - pg.used_bytes);
        }
        if (closest.empty()) {
          closest =
              "it needs " + gib(static_cast<double>(q.footprint)) + " on " + std::to_string(q.tp) +
              " " + q.gpu + " (gpu_memory_utilization >= " + fmt(3, q.util_steps / 1000.0) +
              ") and the most free on one " + q.gpu + " is " + gib(static_cast<double>(most_free));
        }
        continue;
      }
      placed_instance pi;
      pi.model_index = i;
      pi.model_name = r.models[i].base.model_name;
      pi.gpu = q.gpu;
      pi.gpu_indices = chosen;
      pi.tp = q.tp;
      pi.min_gpu_memory_utilization = q.util_steps / 1000.0;
      pi.gpu_memory_utilization = pi.min_gpu_memory_utilization;
      pi.footprint_bytes = q.footprint;
      pi.start_order = out.instances.size();
      pi.option = q.option;
      for (auto gi : chosen) {
        out.gpus[gi].used_bytes += q.footprint;
        out.gpus[gi].instances.push_back(out.instances.size());
      }
      out.instances.push_back(std::move(pi));
      placed = true;
      break;
    }
    if (!placed) {
      out.fits = false;
      out.reason = "models[" + std::to_string(i) + "] (" + r.models[i].base.model_name +
                   ") does not fit next to the instances placed before it: " + closest;
      return out;
    }
  }
  out.fits = true;

  // Utilization flags. Per-instance accounting (V0 >= 0.6.5, V1 >= 0.9.2): each instance gets
  // its minimum plus an equal share of what its GPUs leave free, as more KV cache. Global
  // accounting (V0 0.6.4, V1 0.7-0.9.1): an instance's budget must also cover the memory of the
  // instances started before it on its GPUs, so utilizations are cumulative in start order.
  for (auto& pi : out.instances) {
    const bool global = pi.option.est.deploy.profile.budget == budget_mode::global;
    double u = pi.min_gpu_memory_utilization;
    if (global) {
      std::uint64_t before = 0;
      for (auto gi : pi.gpu_indices) {
        std::uint64_t used = 0;
        for (auto other : out.gpus[gi].instances) {
          if (out.instances[other].start_order < pi.start_order)
            used += out.instances[other].footprint_bytes;
        }
        before = std::max(before, used);
      }
      const double t = static_cast<double>(out.gpus[pi.gpu_indices.front()].total_bytes);
      u = std::min(
          1.0, std::ceil((u + static_cast<double>(before) / t) * kUtilSteps - 1e-9) / kUtilSteps);
    } else {
      double share = 1.0;
      for (auto gi : pi.gpu_indices) {
        const pool_gpu& pg = out.gpus[gi];
        const double free_frac = static_cast<double>(pg.total_bytes - pg.used_bytes) /
                                     static_cast<double>(pg.total_bytes) -
                                 kPlacementReserve;
        share =
            std::min(share, std::max(0.0, free_frac) / static_cast<double>(pg.instances.size()));
      }
      u = std::min(1.0,
                   pi.min_gpu_memory_utilization + std::floor(share * kUtilSteps) / kUtilSteps);
    }
    pi.gpu_memory_utilization = std::round(u * kUtilSteps) / kUtilSteps;
  }
  // Re-run every per-instance-accounted instance at its flag (keeping the minimum where the
  // share would not fit). A globally accounted instance keeps the figures of its minimum: with
  // the earlier instances' memory on the GPU, the cumulative flag leaves it that much KV cache.
  for (auto& g : out.gpus) g.used_bytes = 0;
  for (auto& pi : out.instances) {
    const bool global = pi.option.est.deploy.profile.budget == budget_mode::global;
    std::string args = pi.option.est.vllm_args;
    if (global) {
      const std::string from =
          "--gpu-memory-utilization " + flag_number(pi.min_gpu_memory_utilization);
      const auto at = args.find(from);
      if (at != std::string::npos) {
        args.replace(at, from.size(),
                     "--gpu-memory-utilization " + flag_number(pi.gpu_memory_utilization));
      }
      pi.option.notes.push_back(
          "started after the instances before it in start_order, whose memory vLLM counts "
          "against this instance's budget; its figures are those of the instance alone at " +
          fmt(3, pi.min_gpu_memory_utilization));
    } else {
      plan_option o;
      if (auto s = evaluate(o, with_utilization(pi.option.request, pi.gpu_memory_utilization),
                            r.models[pi.model_index].batch, resolved[pi.model_index], gpus);
          !s)
        return s.err();
      if (!o.fits) {
        pi.gpu_memory_utilization = pi.min_gpu_memory_utilization;
      } else {
        pi.option = std::move(o);
        pi.footprint_bytes = footprint_bytes(pi.option.est);
      }
      args = pi.option.est.vllm_args;
    }
    for (auto gi : pi.gpu_indices) out.gpus[gi].used_bytes += pi.footprint_bytes;
    std::string devices;
    for (auto gi : pi.gpu_indices) devices += (devices.empty() ? "" : ",") + std::to_string(gi);
    pi.option.vllm_command =
        serve_command(pi.model_name, args, false, "CUDA_VISIBLE_DEVICES=" + devices + " ") +
        " --port " + std::to_string(8000 + pi.start_order);
  }
  if (out.budget_mode != "per_instance") {
    out.notes.push_back(
        "vLLM V0 0.6.4 and V1 0.7-0.9.1 count every process's memory against an instance's "
        "budget: start the instances in start_order, each after the previous one is up; the "
        "utilizations are cumulative");
  } else {
    out.notes.push_back(
        "each instance's budget counts only its own memory (V0 >= 0.6.5, V1 >= 0.9.2); the free "
        "memory of a GPU, less 2% kept as a margin, is shared out equally as more KV cache; start "
        "the instances one after the other (vLLM checks the free memory at startup)");
  }
  out.notes.push_back(
      "footprint = total x gpu_memory_utilization + the CUDA context + CUDA graphs captured "
      "outside the budget; the footprints on a GPU sum to at most its memory");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sweeps

result<sweep_result> sweep(const sweep_request& r0, const model_db& db, const gpu_catalog& gpus) {
  auto st = prepare_fixed_setup(r0.setup, db, gpus);
  if (!st) return st.err();
  const plan_request& r = st->r;
  const planner_ctx c{r, st->model, st->model.arch, db, gpus};
  const gpu_entry* g = st->g;
  sweep_result out;
  out.setup = std::move(st->setup);
  out.has_gpu = out.setup.est.has_gpu;
  out.workload_batch = r.batch;
  const setup_request& body = out.setup.request;
  solver sv{c, g, body};
  const std::uint64_t len = out.setup.est.deploy.max_model_len;

  std::set<std::uint64_t> contexts(r0.context_lengths.begin(), r0.context_lengths.end());
  if (contexts.empty()) {
    const std::uint64_t derived = c.arch.derived_max_model_len();
    const std::uint64_t top = derived > 0 ? derived : (1ULL << 17);
    for (std::uint64_t x = 1024; x <= top; x *= 2) contexts.insert(x);
    if (derived > 0) contexts.insert(derived);
    contexts.insert(len);
  }
  std::set<std::uint64_t> batches(r0.batch_sizes.begin(), r0.batch_sizes.end());
  if (batches.empty()) {
    for (std::uint64_t x = 1; x <= 1024; x *= 2) batches.insert(x);
    if (r.batch) batches.insert(*r.batch);
  }
  if (out.has_gpu) {
    // The fit boundaries, solved on the forward model, and one step beyond them.
    auto m = sv.max_model_len(r.batch);
    if (!m) return m.err();
    if (m->found) {
      out.max_model_len_fit = static_cast<std::uint64_t>(m->value);
      if (r0.context_lengths.empty()) {
        contexts.insert(*out.max_model_len_fit);
        contexts.insert(static_cast<std::uint64_t>(m->next));
      }
    }
    auto s = sv.max_concurrency();
    if (!s) return s.err();
    if (s->found) {
      out.max_concurrency_fit = static_cast<std::uint64_t>(s->value);
      if (r0.batch_sizes.empty()) {
        batches.insert(*out.max_concurrency_fit);
        batches.insert(*out.max_concurrency_fit + 1);
      }
    }
  }
  // A point breaking a rule of the estimate (V0: max_num_batched_tokens below max_model_len)
  // is a point that does not start, with the rule as its error.
  auto point = [&](const setup_request& q, std::uint64_t x) -> result<sweep_point> {
    sweep_point p;
    p.x = x;
    status e = within_decoder_bounds(q.request);
    if (e) e = estimate(q.request, c.model, gpus, p.est);
    if (!e) {
      if (e.err().code != error_code::invalid_argument) return e.err();
      p.est = estimate_result{};  // as before: no figures for a point that breaks a rule
      p.error = e.err().message;
      return p;
    }
    return p;
  };
  for (std::uint64_t x : contexts) {
    auto p = point(with_context(body, x), x);
    if (!p) return p.err();
    out.context.push_back(std::move(*p));
  }
  for (std::uint64_t x : batches) {
    auto p = point(with_batch(body, x), x);
    if (!p) return p.err();
    out.batch.push_back(std::move(*p));
  }
  return out;
}

}  // namespace vllm_mem
