// vllm/profile.cpp — per-version accounting rules (vllm-memory-model.md §11) and the constants
// calibrated on the dev cases (docs/accuracy.md).
#include "vllm_mem/vllm/profile.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>

namespace vllm_mem {

// Names in enum order (profile.hpp).
const char* model_runner_name(model_runner r) {
  static constexpr const char* kNames[] = {"v0", "v1", "v2"};
  return kNames[static_cast<std::size_t>(r)];
}

const char* budget_mode_name(budget_mode b) {
  static constexpr const char* kNames[] = {"free_delta", "global", "per_instance",
                                           "free_delta_2026", "extensible_kv"};
  return kNames[static_cast<std::size_t>(b)];
}

// vLLM 0.20-0.34, one row per range (docs/vllm-versions.md, docs/research/vllm-0.20-0.34.md §1):
//  * 0.20: the graph estimate is charged and u defaults to 0.92 (PR #38284; set-3 rows 2002,
//    2003, 2024 at 0.20.0); "GPU KV cache size" is still (blocks // groups) * B.
//  * 0.21: tokens = int(concurrency * max_model_len) (kv_cache_utils.py get_kv_cache_capacity).
//  * 0.22 / 0.23 / 0.25.1 / 0.29: Model Runner V2 by default for more architectures
//    (config/vllm.py use_v2_model_runner, _is_default_v2_model_runner_model).
//  * 0.27: non-KV from the free-memory delta plus the transient peak (mem_utils.py
//    memory_profiling; row 2005 at 0.26 still itemises W, P, N_t, rows 2028/2029 at 0.27.1 not).
//  * 0.28: the >= 160 GiB batch tier (arg_utils.py get_batch_defaults, third party).
//  * MRv2's graph estimate: gpu/model_runner.py's profile_cudagraph_memory returns 0 (PR #49233
//    pins the stub to 0.25.1); rows 2028, 2029 (0.27.1) and 2013 (0.28) print an activation that
//    includes the estimate of 0.08-0.27 GiB against real pools of 0.28-0.78 GiB, so the stub is
//    kept through 0.28 and the estimator (cudagraph_utils.py) charged from 0.29.
//  * 0.34: the extensible KV cache (v1/worker/extensible_kv_cache.py measure_kv_cache_blocks),
//    unset u = 1.0.
// `calibrated`: real startups of the range were scored (docs/accuracy.md has their errors);
// the ranges without one follow the code alone.
const std::vector<profile_row>& profile_rows() {
  using b = budget_mode;
  using t = kv_tokens_report;
  using r = runner_rule;
  // clang-format off
  static const std::vector<profile_row> rows = {
      {{0, 20, 0}, "0.20", b::per_instance, t::blocks_per_group, r::v1_only, false, false, 0.92, true, "2002, 2003, 2024 (scored: Qwen3.6-35B-A3B NVFP4 hybrid)"},
      {{0, 21, 0}, "0.21", b::per_instance, t::concurrency_times_len, r::v1_only, false, false, 0.92, false, ""},
      {{0, 22, 0}, "0.22", b::per_instance, t::concurrency_times_len, r::qwen3_dense, false, false, 0.92, true, "2025 (scored: Qwen3.6-35B-A3B NVFP4 hybrid)"},
      {{0, 23, 0}, "0.23-0.25.0", b::per_instance, t::concurrency_times_len, r::whitelist_023, false, false, 0.92, false, "2004 (unscored: DeepSeek-V4)"},
      {{0, 25, 1}, "0.25.1-0.26", b::per_instance, t::concurrency_times_len, r::dense, false, false, 0.92, false, "2005, 2031 (unscored: GLM-5.2, DeepSeek-V4)"},
      {{0, 27, 0}, "0.27", b::free_delta_2026, t::concurrency_times_len, r::dense, false, false, 0.92, true, "2028, 2029 (scored: Qwen2.5-0.5B, MRv2)"},
      {{0, 28, 0}, "0.28", b::free_delta_2026, t::concurrency_times_len, r::dense, false, true, 0.92, false, "2013, 2014 (unscored: Gemma-4 E4B)"},
      {{0, 29, 0}, "0.29-0.33", b::free_delta_2026, t::concurrency_times_len, r::all, true, true, 0.92, true, "2021, 2022, 2023 (scored: Qwen3.8-27B AWQ, Qwen3-4B)"},
      {{0, 34, 0}, "0.34", b::extensible_kv, t::concurrency_times_len, r::all, true, true, 1.0, false, ""},
  };
  // clang-format on
  return rows;
}

model_runner default_runner(const vllm_profile& p, std::string_view model_type, bool moe,
                            bool quantized) {
  if (p.engine == engine_kind::v0) return model_runner::v0;
  const bool dense = !moe;
  switch (p.runner) {
    case runner_rule::v1_only:
      return model_runner::v1;
    case runner_rule::qwen3_dense:
      return model_type == "qwen3" && dense && !quantized ? model_runner::v2 : model_runner::v1;
    case runner_rule::whitelist_023:
      return (model_type == "qwen3" || model_type == "llama" || model_type == "mistral") && dense &&
                     !quantized
                 ? model_runner::v2
                 : model_runner::v1;
    case runner_rule::dense:
      // Hybrid (Mamba/GDN) models stay on MRv1; the database holds none yet (issue 12).
      return dense ? model_runner::v2 : model_runner::v1;
    case runner_rule::all:
      return model_runner::v2;
  }
  return model_runner::v1;
}

std::string vllm_version::text() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

result<vllm_version> parse_vllm_version(std::string_view text, const std::string& field) {
  auto bad = [&] {
    return make_error(error_code::invalid_argument,
                      "'" + field +
                          "' must be a vLLM version such as \"0.6.4\" or \"0.19.0\", got \"" +
                          std::string(text) + "\"",
                      field);
  };
  std::string_view s = text;
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  std::uint32_t parts[3] = {0, 0, 0};
  int n = 0;
  while (!s.empty() && n < 3) {
    std::uint32_t x = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec != std::errc() || ptr == s.data() || x > 999) return bad();
    parts[n++] = x;
    s.remove_prefix(static_cast<std::size_t>(ptr - s.data()));
    if (s.empty()) break;
    if (s[0] != '.') break;  // a suffix such as ".dev", "rc1", "+cu121" ends the number
    s.remove_prefix(1);
    if (!s.empty() && !(s[0] >= '0' && s[0] <= '9')) break;
  }
  if (n < 2) return bad();
  // Anything after three numbers (a fourth part, .devN, rcN, +local) is accepted and ignored.
  vllm_version v{parts[0], parts[1], parts[2]};
  if (v < vllm_version{0, 4, 0} || v.major >= 1) {
    return make_error(error_code::unsupported,
                      "'" + field + "': vLLM " + v.text() +
                          " is not modelled; supported versions are " +
                          std::string(kOldestSupportedVersion) + " to 0.x (profiles up to " +
                          std::string(kNewestProfileVersion) + ", calibrated up to " +
                          std::string(kNewestCalibratedVersion) + ")",
                      field);
  }
  return v;
}

std::uint64_t nccl_pcie_device_bytes() {
  constexpr std::uint64_t kLL = 8ULL * 512 * 8 * 16;      // DEFAULT_LL_BUFFSIZE
  constexpr std::uint64_t kLL128 = 120ULL * 640 * 8 * 8;  // DEFAULT_LL128_BUFFSIZE
  constexpr std::uint64_t kSimple = 4ULL << 20;           // DEFAULT_BUFFSIZE
  constexpr std::uint64_t kConnections = 2ULL * 4 * 3;    // communicators x channels x conns
  return kConnections * (kLL + kLL128 + kSimple);
}

engine_kind default_engine(const vllm_version& v) {
  return v < vllm_version{0, 8, 0} ? engine_kind::v0 : engine_kind::v1;
}

namespace {

// PCIe: NCCL's PCIe device buffers, never more than the version's NVLink term.
double pcie_gib(const vllm_profile& p) {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  return std::min(p.non_torch_nccl_gib, static_cast<double>(nccl_pcie_device_bytes()) / kGiB);
}

// The calibrated non-torch and CUDA-graph constants of one era (docs/accuracy.md names the rows).
struct era_constants {
  double non_torch_tp1_gib, non_torch_nccl_gib;
  double graph_base_gib, graph_per_layer_gib, graph_moe_gib;
  std::uint64_t graph_reference_count;
};

void set_era_constants(vllm_profile& p, const era_constants& c) {
  p.non_torch_tp1_gib = c.non_torch_tp1_gib;
  p.non_torch_nccl_gib = c.non_torch_nccl_gib;
  p.non_torch_pcie_gib = pcie_gib(p);
  p.graph_base_gib = c.graph_base_gib;
  p.graph_per_layer_gib = c.graph_per_layer_gib;
  p.graph_moe_gib = c.graph_moe_gib;
  p.graph_reference_count = c.graph_reference_count;
}

}  // namespace

result<vllm_profile> make_profile(const vllm_version& v, engine_kind engine) {
  vllm_profile p;
  p.version = v;
  p.engine = engine;
  // docs/accuracy.md "Verdicts and their error bars": p80 of |KV error| / GPU memory per era
  // (V0 16 cases, V1 <= 0.10 12, 0.11-0.19 29, >= 0.20 9).
  p.kv_uncertainty_share = engine == engine_kind::v0    ? 0.017
                           : v < vllm_version{0, 11, 0} ? 0.049
                           : v < vllm_version{0, 20, 0} ? 0.0024
                                                        : 0.057;
  p.extrapolated = vllm_version{0, 20, 0} <= v;
  p.range = "0.4-0.19";
  if (engine == engine_kind::v0 && v >= vllm_version{0, 11, 0}) {
    return make_error(error_code::invalid_argument,
                      "'vllm_engine': the V0 engine was removed in vLLM 0.11; use \"v1\"",
                      "vllm_engine");
  }
  if (engine == engine_kind::v1 && v < vllm_version{0, 7, 0}) {
    return make_error(error_code::invalid_argument,
                      "'vllm_engine': the V1 engine first shipped in vLLM 0.7; use \"v0\"",
                      "vllm_engine");
  }
  if (engine == engine_kind::v0) {
    // §4.1–§4.3: V0 blocks span all layers, full KV for sliding-window layers, and the token
    // count is blocks * block_size.
    p.hybrid_kv_manager = false;
    p.tokens_report = kv_tokens_report::blocks_times_block_size;
    p.concurrency_blocks_over_ceil = false;
    p.startup_free_check = false;
    p.max_len_error_has_estimate = false;
    p.chunked_prefill_always = false;
    p.v0_check_splits_blocks_by_pp = vllm_version{0, 6, 4} <= v;
    if (v < vllm_version{0, 6, 4}) {
      p.budget = budget_mode::free_delta;
    } else if (v < vllm_version{0, 6, 5}) {
      p.budget = budget_mode::global;
    } else {
      p.budget = budget_mode::per_instance;
    }
    // V0's profile run samples max_num_seqs rows with top-p/top-k sorting in fp32: about 40
    // bytes per logit (rows 1, 10, 29, 39). Non-torch: 0.6.x charged cuBLAS/allocator growth
    // (row 29: 0.26 GiB), 0.4's free-memory delta also the reserved pool (row 30); tensor
    // parallelism adds NCCL buffers (row 2: +1.79 GiB at tp 2, row 36: 2.10 GiB at tp 8).
    p.sampler_bytes_per_logit = 40.0;
    p.activation_base_gib = 0.0;
    // Graphs (rows 29, 36, 39): small and nearly independent of depth in V0.
    set_era_constants(p, {v < vllm_version{0, 6, 4}   ? 0.45
                          : v < vllm_version{0, 7, 0} ? 0.26
                                                      : 0.05,
                          v < vllm_version{0, 7, 0} ? 1.8 : 2.0, 0.25, 0.005, 0.2, 35});
    return p;
  }
  // V1
  p.chunked_prefill_always = true;
  if (v < vllm_version{0, 9, 2}) {
    p.budget = budget_mode::global;
    p.startup_free_check = false;
  }
  if (v < vllm_version{0, 10, 0}) {
    p.hybrid_kv_manager = false;
    p.tokens_report = kv_tokens_report::blocks_times_block_size;
    p.concurrency_blocks_over_ceil = false;
  }
  if (v < vllm_version{0, 9, 0}) p.max_len_error_has_estimate = false;
  if (v >= vllm_version{0, 11, 0}) p.cudagraph_modes = 2;  // FULL_AND_PIECEWISE
  p.zero_mm_limit_drops_tower = v >= vllm_version{0, 11, 0} && engine == engine_kind::v1;
  p.mamba_align_default = v >= vllm_version{0, 20, 0};  // docs/vllm-versions.md "Mamba/GDN state"
  if (v >= vllm_version{0, 20, 0}) {
    const auto& rows = profile_rows();
    const profile_row* row = &rows.front();
    for (const auto& x : rows)
      if (x.from <= v) row = &x;
    p.range = row->range;
    p.calibrated = row->calibrated;
    p.beyond_newest = rows.back().from < v &&
                      !(v.major == rows.back().from.major && v.minor == rows.back().from.minor);
    p.budget = row->budget;
    p.tokens_report = row->tokens;
    p.runner = row->runner;
    p.mrv2_graph_estimate = row->mrv2_graph_estimate;
    p.huge_gpu_tier = row->huge_gpu_tier;
    p.default_utilization = row->default_utilization;
    p.cuda_graph_in_budget = true;
    p.requested_ceil = true;
    // The extensible cache needs no free memory at start (extensible_kv_cache.py).
    if (p.budget == budget_mode::extensible_kv) p.startup_free_check = false;
  }
  // Sampler dummy run over [min(M, S), vocab] logits (§10.1).
  if (v < vllm_version{0, 11, 0}) {
    // 0.7-0.10: 12.5 bytes per logit and no floor (rows 42, 43: 0.5 GiB for 256 x 152064
    // logits); tensor parallelism on one node adds ~0.13 GiB (rows 45, 46).
    p.sampler_bytes_per_logit = 12.5;
    p.activation_base_gib = 0.0;
    // Piecewise graphs only (rows 40, 42, 43, 45, 46); the NVLink term (0.13) is already below
    // the PCIe one.
    set_era_constants(p, {0.05, 0.13, 0.3, 0.0075, 0.5, 67});
    return p;
  }
  // 0.11-0.16 kept several fp32 copies of the logits (37.5 bytes per logit: rows 25, 28, 106,
  // 107); 0.17 came back to ~14 (rows 48-109). A 0.18 GiB floor fits every V1 >= 0.11 case.
  p.sampler_bytes_per_logit = v < vllm_version{0, 17, 0} ? 37.5 : 14.0;
  p.activation_base_gib = 0.18;
  // Non-torch: 0.13 GiB up to 0.17, 0.25 from 0.18 (rows 25, 106-109, 48-105); NCCL and custom
  // all-reduce buffers allocated during the profile add 1.82 GiB at tp 2 (rows 85, 100, 103).
  const double non_torch_tp1_gib = v < vllm_version{0, 18, 0} ? 0.13 : 0.25;
  // FULL_AND_PIECEWISE graphs (rows 48-105 at 0.19): 0.45 GiB + 13.5 MiB per layer, MoE +0.55.
  set_era_constants(p, {non_torch_tp1_gib, 1.82, 0.45, 0.0135, 0.55, 102});
  return p;
}

scheduler_defaults default_scheduler(const vllm_profile& p, bool big_gpu,
                                     std::uint64_t max_model_len_tokens, bool multimodal,
                                     bool huge_gpu) {
  scheduler_defaults d;
  const vllm_version& v = p.version;
  if (p.engine == engine_kind::v0) {
    d.max_num_seqs = 256;
    // Chunked prefill turns itself on for contexts over 32K (≈0.5.1+); its default budget was
    // 512 tokens before 0.7 and 2048 after. Without it, one prefill of max_model_len must fit.
    d.chunked_prefill = max_model_len_tokens > 32768 && vllm_version{0, 5, 1} <= v;
    if (d.chunked_prefill) {
      d.max_num_batched_tokens = v < vllm_version{0, 7, 0} ? 512 : 2048;
    } else {
      d.max_num_batched_tokens = std::max<std::uint64_t>(max_model_len_tokens, 2048);
      if (multimodal)
        d.max_num_batched_tokens = std::max<std::uint64_t>(d.max_num_batched_tokens, 5120);
    }
    return d;
  }
  d.chunked_prefill = true;
  // §8.2: the OpenAI server's defaults; >= 0.9 splits by GPU (>= 70 GiB and not an A100).
  if (vllm_version{0, 9, 0} <= v && big_gpu) {
    d.max_num_seqs = 1024;
    d.max_num_batched_tokens = 8192;
  } else {
    d.max_num_seqs = 256;
    d.max_num_batched_tokens = 2048;
  }
  // 0.28: a tier above for >= 160 GiB devices (B200/B300): 16384 batched tokens.
  if (p.huge_gpu_tier && huge_gpu) d.max_num_batched_tokens = 16384;
  if (v >= vllm_version{0, 20, 0}) {
    // get_batch_defaults' clamps: M <= S * X, S <= M.
    d.max_num_batched_tokens =
        std::min(d.max_num_batched_tokens,
                 std::max<std::uint64_t>(1, d.max_num_seqs * max_model_len_tokens));
    d.max_num_seqs = std::min(d.max_num_seqs, d.max_num_batched_tokens);
  }
  return d;
}

std::uint64_t cuda_graph_count(const vllm_profile& p, std::uint64_t S, std::uint64_t M,
                               const capture_settings& cs, std::uint64_t decode_query_len) {
  if (cs.mode == cudagraph_mode::none) return 0;
  std::uint64_t n = 0;
  const vllm_version& v = p.version;
  auto count_sizes = [&](std::uint64_t limit, bool step16_above_256) {
    std::uint64_t c = 0;
    for (std::uint64_t s : {1ULL, 2ULL, 4ULL}) c += s <= limit ? 1 : 0;
    for (std::uint64_t s = 8; s <= limit; s += (step16_above_256 && s >= 256) ? 16 : 8) ++c;
    return c;
  };
  if (p.engine == engine_kind::v0) {
    // 0.4–0.5: up to 256; 0.6+: up to the smallest size >= max_num_seqs (cap 8192).
    std::uint64_t limit = ((S + 7) / 8) * 8;
    if (v < vllm_version{0, 6, 0}) limit = std::min<std::uint64_t>(limit, 256);
    n = count_sizes(std::min<std::uint64_t>(limit, 8192), false);
  } else if (v < vllm_version{0, 9, 0}) {
    n = count_sizes(std::min<std::uint64_t>(512, M), false);
  } else if (v < vllm_version{0, 11, 0}) {
    n = count_sizes(std::min<std::uint64_t>(std::min<std::uint64_t>(2 * S, 512), M), false);
  } else {
    // vllm.py _set_cudagraph_sizes: max_cudagraph_capture_size replaces min(2S, 512); an explicit
    // cudagraph_capture_sizes list is captured as given (sizes above M dropped).
    const std::uint64_t cap = cs.max_capture_size > 0
                                  ? cs.max_capture_size
                                  : std::min<std::uint64_t>(2 * S * decode_query_len, 512);
    n = count_sizes(std::min<std::uint64_t>(cap, M), true);
  }
  if (!cs.sizes.empty() && p.engine == engine_kind::v1) {
    n = static_cast<std::uint64_t>(
        std::count_if(cs.sizes.begin(), cs.sizes.end(), [&](std::uint64_t x) { return x <= M; }));
  }
  std::uint64_t modes = p.cudagraph_modes;
  if (cs.mode == cudagraph_mode::piecewise || cs.mode == cudagraph_mode::full) modes = 1;
  if (cs.mode == cudagraph_mode::full_and_piecewise) modes = 2;
  return n * modes;
}

}  // namespace vllm_mem
