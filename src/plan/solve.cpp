// plan/solve.cpp — solve(): the reverse solves of one setup (solver.cpp does the searching).
#include "vllm_mem/plan/solve.hpp"

#include <cstddef>
#include <iterator>

#include "vllm_mem/plan/search.hpp"

namespace vllm_mem {

using namespace plan_detail;  // the shared search (search.hpp)

const char* solve_kind_name(solve_kind k) {
  static constexpr const char* kNames[] = {"max_model_len", "max_concurrency",
                                           "min_gpu_memory_utilization", "min_gpus"};
  const auto i = static_cast<std::size_t>(k);
  return i < std::size(kNames) ? kNames[i] : kNames[0];
}

result<solve_result> solve(const solve_request& r0, const model_db& db, const gpu_catalog& gpus) {
  fixed_setup st;
  solve_result out;
  if (auto s = prepare_fixed_setup(st, out.setup, r0.setup, db, gpus); !s) return s.err();
  const planner_ctx c = st.ctx(db, gpus);
  solver sv{c, st.g, out.setup.request};
  std::vector<solve_kind> kinds = r0.solves;
  if (kinds.empty()) {
    kinds = {solve_kind::max_model_len, solve_kind::max_concurrency,
             solve_kind::min_gpu_memory_utilization, solve_kind::min_gpus};
  }
  for (solve_kind k : kinds) {
    result<solved> s = solved{};
    switch (k) {
      case solve_kind::max_model_len: {
        s = sv.max_model_len(st.r.batch);
        if (s && st.r.batch) {
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
        s = sv.min_utilization(st.r.batch);
        break;
      case solve_kind::min_gpus:
        s = solve_min_gpus(c, st.g, st.r.max_gpus);
        break;
    }
    if (!s) return s.err();
    out.solves.push_back(std::move(*s));
  }
  return out;
}

}  // namespace vllm_mem
