// plan/plan.cpp — plan(): the setups of every allowed GPU type, ranked, with a summary and
// suggestions when nothing fits.
#include "vllm_mem/plan/plan.hpp"

#include <algorithm>
#include <iterator>
#include <set>

#include "vllm_mem/plan/search.hpp"

namespace vllm_mem {
namespace plan_detail {
namespace {

// In order of increasing precision loss.
constexpr precision_variant kVariants[] = {
    {"fp8 KV cache", true, nullptr, false},
    {"fp8 weights", false, "fp8", false},
    {"fp8 weights and fp8 KV cache", true, "fp8", false},
    {"4-bit weights (AWQ)", false, "awq", true},
    {"4-bit weights (AWQ) and fp8 KV cache", true, "awq", true},
};

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

// Ends a text with exactly one period.
std::string sentence(std::string s) {
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  return s + ".";
}

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
  // A setup that fits by more than the error bar before one that fits only within it (verdict).
  const bool as = a.est.startup.verdict == startup_verdict::fits,
             bs = b.est.startup.verdict == startup_verdict::fits;
  if (ao && as != bs) return as;
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

// A suggestion of the option's setup (its GPU and count; the caller adds what it changes).
plan_suggestion suggestion(std::string kind, std::string text, const plan_option& o) {
  plan_suggestion s{std::move(kind), std::move(text), {}};
  s.details.gpu = o.gpu;
  s.details.num_gpus = o.num_gpus;
  return s;
}

// The GPU types to try: the request's GPU, its allowed list, or every catalog GPU with a CUDA
// memory reading (the others listed in out.skipped_gpus). Null: a GPU given by memory only.
std::vector<const gpu_entry*> gpu_types(const plan_request& r, const gpu_catalog& gpus,
                                        plan_result& out) {
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
  return types;
}

// The options of one GPU type: its setups up to the first that fits (else the closest it gets),
// and the precision trades that fit on fewer GPUs (or fit where it fits nowhere).
status add_type_options(const planner_ctx& c, const gpu_entry* g, plan_result& out) {
  constexpr std::uint64_t kNone = ~0ULL;
  const auto setups = setups_for(c, g, c.r.max_gpus);
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
  if (!c.r.precision_trades) return ok_status();
  // Precision trades, only where they change the answer: fewer GPUs than the requested
  // precision needs (or any fit where it fits nowhere).
  std::uint64_t best = exact_fit;
  for (const auto& v : kVariants) {
    if (!variant_applies(v, c.r.base, c.arch)) continue;
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
  return ok_status();
}

// Best first (better). Sorted by index, then moved once: an option (with its estimate) is large to
// move around.
void rank(std::vector<plan_option>& options, bool has_budget) {
  std::vector<std::size_t> order(options.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return better(options[a], options[b], has_budget);
  });
  std::vector<plan_option> sorted;
  sorted.reserve(order.size());
  for (std::size_t i : order) sorted.push_back(std::move(options[i]));
  options = std::move(sorted);
}

std::string workload_text(const plan_result& out) {
  return std::to_string(out.max_model_len) + "-token context" +
         (out.batch ? " x " + std::to_string(*out.batch) + " sequences" : "");
}

// The answer in one paragraph, with the budget and precision suggestions; false when nothing
// fits at the requested precision (within the budget or not).
bool summarize(const planner_ctx& c, std::size_t type_count, plan_result& out) {
  const plan_request& r = c.r;
  const bool has_budget = r.budget_usd_per_hour.has_value();
  const plan_option* best_exact = nullptr;
  const plan_option* best_trade = nullptr;
  const plan_option* cheapest_fit = nullptr;
  for (const auto& o : out.options) {
    if (o.fits && !cheapest_fit && o.trades_precision.empty()) cheapest_fit = &o;
    if (!option_ok(o, has_budget)) continue;
    if (o.trades_precision.empty() && !best_exact) best_exact = &o;
    if (!o.trades_precision.empty() && !best_trade) best_trade = &o;
  }
  const std::string workload = workload_text(out);
  if (best_exact) {
    out.summary = "Best for " + workload + ": " + setup_text(*best_exact) + ", " +
                  cost_text(*best_exact) + "; " + best_exact->reason +
                  ". Run: " + best_exact->vllm_command;
    if (best_trade && (!best_trade->hourly_cost_usd || !best_exact->hourly_cost_usd ||
                       *best_trade->hourly_cost_usd < *best_exact->hourly_cost_usd)) {
      out.summary += ". Trading precision (" + best_trade->trades_precision +
                     "): " + setup_text(*best_trade) + ", " + cost_text(*best_trade) + ".";
    }
    return true;
  }
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
        r.num_gpus && type_count == 1 && !out.options.empty()
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
  return cheapest_fit != nullptr;
}

// The closest exact-precision setup: the one holding the most sequences, else the most memory.
const plan_option* closest_option(const std::vector<plan_option>& options) {
  const plan_option* closest = nullptr;
  for (const auto& o : options) {
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
  return closest;
}

// More GPUs of the types allowed (up to kMoreGpusLimit): the three best setups that fit.
status suggest_more_gpus(const planner_ctx& c, const std::vector<const gpu_entry*>& types,
                         plan_result& out) {
  std::vector<plan_option> more;
  for (const gpu_entry* g : types) {
    auto s = solve_min_gpus(c, g, kMoreGpusLimit);
    if (!s) return s.err();
    if (s->found && s->at_value) more.push_back(std::move(*s->at_value));
  }
  std::stable_sort(more.begin(), more.end(),
                   [&](const plan_option& a, const plan_option& b) { return better(a, b, false); });
  for (std::size_t i = 0; i < more.size() && i < 3; ++i) {
    out.suggestions.push_back(suggestion(
        "more_gpus",
        "fits on " + setup_text(more[i]) + ", " + cost_text(more[i]) + ": " + more[i].vllm_command,
        more[i]));
    out.suggestions.back().details.tensor_parallel_size = more[i].tp;
    out.suggestions.back().details.pipeline_parallel_size = more[i].pp;
  }
  return ok_status();
}

// A shorter context, or fewer sequences, on the closest setup.
status suggest_smaller_workload(const planner_ctx& c, const plan_option& closest,
                                plan_result& out) {
  const std::optional<std::uint64_t> batch = c.r.batch;
  const gpu_entry* g = closest.gpu.empty() ? nullptr : c.gpus.find(closest.gpu);
  solver sv{c, g, closest.request};
  auto len = sv.max_model_len(batch);
  if (!len) return len.err();
  if (len->found && len->value < static_cast<double>(out.max_model_len)) {
    const auto v = static_cast<std::uint64_t>(len->value);
    out.suggestions.push_back(
        suggestion("shorter_context",
                   setup_text(closest) + " fits up to max_model_len " + std::to_string(v) +
                       (batch ? " for " + std::to_string(*batch) + " sequences" : std::string()),
                   closest));
    out.suggestions.back().details.max_model_len = v;
  }
  if (batch && closest.starts) {
    auto conc = sv.max_concurrency();
    if (!conc) return conc.err();
    if (conc->found) {
      const auto v = static_cast<std::uint64_t>(conc->value);
      out.suggestions.push_back(
          suggestion("fewer_sequences",
                     setup_text(closest) + " serves " + std::to_string(v) + " sequences of " +
                         std::to_string(out.max_model_len) + " tokens at once",
                     closest));
      out.suggestions.back().details.max_batch_size = v;
    }
  }
  return ok_status();
}

// When nothing fits: the closest setup, and what would fit (added to the summary).
status suggest_what_fits(const planner_ctx& c, const std::vector<const gpu_entry*>& types,
                         plan_result& out) {
  if (const plan_option* closest = closest_option(out.options)) {
    out.summary += " Closest: " + setup_text(*closest) + ": " + sentence(closest->reason);
    if (c.r.max_gpus < kMoreGpusLimit) {
      if (auto s = suggest_more_gpus(c, types, out); !s) return s;
    }
    if (auto s = suggest_smaller_workload(c, *closest, out); !s) return s;
  }
  for (const auto& s : out.suggestions) out.summary += " Would fit: " + sentence(s.text);
  return ok_status();
}

}  // namespace
}  // namespace plan_detail

using namespace plan_detail;  // the shared search (search.hpp)

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

  const std::vector<const gpu_entry*> types = gpu_types(r, gpus, out);
  if (!r.parallel_fixed && r.num_gpus && !split_gpus(c.arch, *r.num_gpus, r.gpus_per_node)) {
    return bad("num_gpus", "no tensor/pipeline parallel split of " + std::to_string(*r.num_gpus) +
                               " GPUs suits this model (its " + std::to_string(c.arch.num_heads) +
                               " attention heads and " + std::to_string(c.arch.num_kv_heads) +
                               " KV heads must divide by the tensor parallel size)");
  }
  // At most every setup of every type, and one option per precision trade: no option moves
  // while the list grows.
  out.options.reserve(types.size() *
                      (setups_for(c, nullptr, r.max_gpus).size() + std::size(kVariants)));
  for (const gpu_entry* g : types) {
    if (auto s = add_type_options(c, g, out); !s) return s.err();
  }
  rank(out.options, r.budget_usd_per_hour.has_value());
  if (!summarize(c, types.size(), out)) {
    if (auto s = suggest_what_fits(c, types, out); !s) return s.err();
  }
  if (r.max_options > 0 && out.options.size() > r.max_options) out.options.resize(r.max_options);
  return out;
}

}  // namespace vllm_mem
