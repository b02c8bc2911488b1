// plan/sweep.cpp — sweep(): one setup along the context and the batch, with its fit boundaries.
#include "vllm_mem/plan/sweep.hpp"

#include <set>

#include "vllm_mem/plan/search.hpp"

namespace vllm_mem {

using namespace plan_detail;  // the shared search (search.hpp)

result<sweep_result> sweep(const sweep_request& r0, const model_db& db, const gpu_catalog& gpus) {
  fixed_setup st;
  sweep_result out;
  if (auto s = prepare_fixed_setup(st, out.setup, r0.setup, db, gpus); !s) return s.err();
  const planner_ctx c = st.ctx(db, gpus);
  out.has_gpu = out.setup.est.has_gpu;
  out.workload_batch = st.r.batch;
  const setup_request& body = out.setup.request;
  solver sv{c, st.g, body};
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
    if (st.r.batch) batches.insert(*st.r.batch);
  }
  if (out.has_gpu) {
    // The fit boundaries, solved on the forward model, and one step beyond them.
    auto m = sv.max_model_len(st.r.batch);
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
