// plan/solver.cpp — reverse solves at one setup: bisection over the forward model (estimate()),
// and the fewest GPUs of a type.
#include <utility>

#include "vllm_mem/plan/search.hpp"

namespace vllm_mem::plan_detail {

namespace {

setup_request with_util(setup_request s, int k) {
  return with_utilization(std::move(s), static_cast<double>(k) / kUtilSteps);
}

}  // namespace

result<plan_option> solver::at(setup_request q, std::optional<std::uint64_t> batch) const {
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

result<solved> solver::max_model_len(std::optional<std::uint64_t> batch) const {
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

result<solved> solver::max_concurrency() const {
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

result<solved> solver::min_utilization(std::optional<std::uint64_t> batch) const {
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
  if (!out.found && out.next_limiting_factor == "weights") {
    // The weights are larger than the whole GPU: no utilization is the question.
    out.reason = "no gpu_memory_utilization works: " + out.reason;
  } else if (!out.found) {
    out.reason = "no gpu_memory_utilization works: below " + fmt(3, out.value) +
                 " the memory is too small (" +
                 (out.next_limiting_factor.empty() ? std::string("-") : out.next_limiting_factor) +
                 "), from it up vLLM refuses to start: " + v->second.reason;
  } else if (lo > 1) {
    out.reason = fmt(3, out.next) + " does not fit: " + out.reason;
  }
  out.at_value = std::move(v->second);
  return out;
}

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

}  // namespace vllm_mem::plan_detail
