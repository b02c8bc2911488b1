// plan/placement.cpp — place(): several models packed on a pool of GPUs, with their
// utilization flags and start order.
#include "vllm_mem/plan/placement.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vllm_mem/plan/search.hpp"

namespace vllm_mem {
namespace plan_detail {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Share of each pooled GPU left unassigned when the free memory is shared out as KV cache, as a
// margin for what the startup model does not see (other processes, allocator fragmentation).
constexpr double kPlacementReserve = 0.02;

// The estimate's flag format (estimate.cpp flag_number).
std::string flag_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string gib(double bytes) { return fmt(2, bytes / kGiB) + " GiB"; }

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

// One placement: the pool, what each model needs on it, and the answer being built.
struct placer {
  const placement_request& r;
  const model_db& db;
  const gpu_catalog& gpus;
  placement_result& out;
  std::vector<const gpu_entry*> types;            // the pool's GPU types, in order
  std::vector<resolved_model> resolved;           // each model's
  std::vector<std::vector<requirement>> needs;    // each model's, per GPU type
  bool any_global = false, any_instance = false;  // budget accounting seen

  // The pool's GPUs, in order.
  void add_pool() {
    for (const auto& e : r.pool) {
      const gpu_entry* g = gpus.find(e.gpu);
      if (std::find(types.begin(), types.end(), g) == types.end()) types.push_back(g);
      for (std::uint64_t i = 0; i < e.count; ++i) {
        pool_gpu pg;
        pg.gpu = g->id;
        pg.total_bytes = static_cast<std::uint64_t>(std::llround(g->cuda_total_gib * kGiB));
        pg.reserved_bytes = e.reserved_bytes;
        pg.used_bytes = e.reserved_bytes;
        out.gpus.push_back(pg);
      }
    }
    resolved.resize(r.models.size());
    needs.resize(r.models.size());
  }

  std::uint64_t count_of(const std::string& id) const {
    std::uint64_t n = 0;
    for (const auto& pg : out.gpus) n += pg.gpu == id ? 1 : 0;
    return n;
  }

  // What model i needs on each GPU type: the smallest tp that fits alone, at its smallest
  // utilization. False (the reason in out.reason) when no GPU of the pool takes it.
  result<bool> require(std::size_t i) {
    plan_request pr = r.models[i];
    auto model = resolve_model(pr.base, db);
    if (!model) return in_placement_model(i, model.err());
    resolved[i] = std::move(*model);
    const resolved_model* const m = &resolved[i];
    if (auto s = finish_context(pr, m->arch); !s) return in_placement_model(i, s.err());
    const planner_ctx c{pr, *m, m->arch, db, gpus};
    const bool tp_fixed = pr.base.tensor_parallel_size > 1;
    std::string no_fit;
    double no_fit_mem = 0.0;
    for (const gpu_entry* g : types) {
      for (std::uint64_t tp : {1ULL, 2ULL, 4ULL, 8ULL}) {
        if (tp_fixed && tp != pr.base.tensor_parallel_size) continue;
        if (!check_parallel_sizes(m->arch, tp, 1)) continue;
        if (tp > count_of(g->id)) {
          if (no_fit.empty()) {
            no_fit = "tensor parallel size " + std::to_string(tp) + " needs " + std::to_string(tp) +
                     " GPUs of one type and the pool has " + std::to_string(count_of(g->id)) + " " +
                     g->id;
          }
          continue;
        }
        solver sv{c, g, setup_of(pr, g, tp, 1, nullptr)};
        auto s = sv.min_utilization(pr.batch);
        if (!s) return in_placement_model(i, s.err());
        if (!s->found) {
          // Report the largest setup tried (most memory), the closest to fitting.
          const double mem = g->cuda_total_gib * static_cast<double>(tp);
          if (mem >= no_fit_mem) {
            no_fit_mem = mem;
            no_fit = std::to_string(tp) + "x " + g->id + ": " + s->reason;
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
                   ") does not fit on any GPU of the pool even alone: " + no_fit;
      return false;
    }
    return true;
  }

  // Places model i on the first GPUs of a type it needs that have room; false with why not
  // (`closest`) when none has.
  bool place_model(std::size_t i, std::string& closest) {
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
      return true;
    }
    return false;
  }

  // First-fit decreasing by the memory each instance needs (on its first GPU type). False (the
  // reason in out.reason) when one does not fit next to those placed before it.
  bool pack() {
    std::vector<std::size_t> order(r.models.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return needs[a].front().footprint * needs[a].front().tp >
             needs[b].front().footprint * needs[b].front().tp;
    });
    for (std::size_t i : order) {
      std::string closest;
      if (place_model(i, closest)) continue;
      out.reason = "models[" + std::to_string(i) + "] (" + r.models[i].base.model_name +
                   ") does not fit next to the instances placed before it: " + closest;
      return false;
    }
    return true;
  }

  // Utilization flags. Per-instance accounting (V0 >= 0.6.5, V1 >= 0.9.2): each instance gets
  // its minimum plus an equal share of what its GPUs leave free, as more KV cache. Global
  // accounting (V0 0.6.4, V1 0.7-0.9.1): an instance's budget must also cover the memory of the
  // instances started before it on its GPUs, so utilizations are cumulative in start order.
  void set_utilizations() {
    for (auto& pi : out.instances) {
      const bool global = pi.option.est.deploy.profile.budget == budget_mode::global;
      double u = pi.min_gpu_memory_utilization;
      if (global) {
        std::uint64_t before = 0;
        for (auto gi : pi.gpu_indices) {
          std::uint64_t used = out.gpus[gi].reserved_bytes;  // other processes count too (§4.2)
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
  }

  // Re-runs every per-instance-accounted instance at its flag (keeping the minimum where the
  // share would not fit). A globally accounted instance keeps the figures of its minimum: with
  // the earlier instances' memory on the GPU, the cumulative flag leaves it that much KV cache.
  // Then each instance's command, with its GPUs and port.
  status finish_instances() {
    for (auto& g : out.gpus) g.used_bytes = g.reserved_bytes;
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
      // Built by appending: GCC 12 -O3 warns falsely (-Wrestrict) on "..." + std::string here.
      std::string env = "CUDA_VISIBLE_DEVICES=";
      for (std::size_t k = 0; k < pi.gpu_indices.size(); ++k) {
        if (k > 0) env += ',';
        env += std::to_string(pi.gpu_indices[k]);
      }
      env += ' ';
      std::string& command = pi.option.vllm_command;
      command = serve_command(pi.model_name, args, false, env);
      command += " --port ";
      command += std::to_string(8000 + pi.start_order);
    }
    return ok_status();
  }

  void add_notes() {
    if (out.budget_mode != "per_instance") {
      out.notes.push_back(
          "vLLM V0 0.6.4 and V1 0.7-0.9.1 count every process's memory against an instance's "
          "budget: start the instances in start_order, each after the previous one is up; the "
          "utilizations are cumulative");
    } else {
      out.notes.push_back(
          "each instance's budget counts only its own memory (V0 >= 0.6.5, V1 >= 0.9.2); the "
          "free memory of a GPU, less 2% kept as a margin, is shared out equally as more KV "
          "cache; start the instances one after the other (vLLM checks the free memory at "
          "startup)");
    }
    out.notes.push_back(
        "footprint = total x gpu_memory_utilization + the CUDA context + CUDA graphs captured "
        "outside the budget; the footprints on a GPU sum to at most its memory");
  }
};

}  // namespace
}  // namespace plan_detail

using namespace plan_detail;  // the shared search (search.hpp)

error in_placement_model(std::size_t i, error e) {
  const std::string prefix = "models[" + std::to_string(i) + "]";
  e.field = prefix + (e.field.empty() || e.field == "body" ? "" : "." + e.field);
  e.message = prefix + ": " + e.message;
  return e;
}

result<placement_result> place(const placement_request& r, const model_db& db,
                               const gpu_catalog& gpus) {
  placement_result out;
  placer p{r, db, gpus, out, {}, {}, {}};
  p.add_pool();
  for (std::size_t i = 0; i < r.models.size(); ++i) {
    auto fits_alone = p.require(i);
    if (!fits_alone) return fits_alone.err();
    if (!*fits_alone) return out;
  }
  out.budget_mode = p.any_global && p.any_instance ? "mixed"
                    : p.any_global                 ? "global"
                                                   : "per_instance";
  if (!p.pack()) return out;
  out.fits = true;
  p.set_utilizations();
  if (auto s = p.finish_instances(); !s) return s.err();
  p.add_notes();
  return out;
}

}  // namespace vllm_mem
