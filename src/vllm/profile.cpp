// vllm/profile.cpp — per-version accounting rules (vllm-memory-model.md §11) and the constants
// calibrated on the dev cases (docs/accuracy.md).
#include "vllm_mem/vllm/profile.hpp"

#include <algorithm>
#include <charconv>

namespace vllm_mem {

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
                          std::string(kOldestSupportedVersion) + " to 0.x (calibrated up to " +
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

}  // namespace

result<vllm_profile> make_profile(const vllm_version& v, engine_kind engine) {
  vllm_profile p;
  p.version = v;
  p.engine = engine;
  p.extrapolated = vllm_version{0, 20, 0} <= v;
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
    p.non_torch_tp1_gib = v < vllm_version{0, 6, 4}   ? 0.45
                          : v < vllm_version{0, 7, 0} ? 0.26
                                                      : 0.05;
    p.non_torch_nccl_gib = v < vllm_version{0, 7, 0} ? 1.8 : 2.0;
    p.non_torch_pcie_gib = pcie_gib(p);
    // Graphs (rows 29, 36, 39): small and nearly independent of depth in V0.
    p.graph_base_gib = 0.25;
    p.graph_per_layer_gib = 0.005;
    p.graph_moe_gib = 0.2;
    p.graph_reference_count = 35;
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
  p.mamba_align_default = v >= vllm_version{0, 28, 0};
  if (v >= vllm_version{0, 21, 0}) {
    p.budget = budget_mode::free_delta_2026;
    p.cuda_graph_in_budget = true;
    p.tokens_report = kv_tokens_report::concurrency_times_len;
  }
  // Sampler dummy run over [min(M, S), vocab] logits (§10.1).
  if (v < vllm_version{0, 11, 0}) {
    // 0.7-0.10: 12.5 bytes per logit and no floor (rows 42, 43: 0.5 GiB for 256 x 152064
    // logits); tensor parallelism on one node adds ~0.13 GiB (rows 45, 46).
    p.sampler_bytes_per_logit = 12.5;
    p.activation_base_gib = 0.0;
    p.non_torch_tp1_gib = 0.05;
    p.non_torch_nccl_gib = 0.13;
    p.non_torch_pcie_gib = pcie_gib(p);  // 0.13: the calibrated term is already below the PCIe one
    p.graph_base_gib = 0.3;              // piecewise graphs only (rows 40, 42, 43, 45, 46)
    p.graph_per_layer_gib = 0.0075;
    p.graph_moe_gib = 0.5;
    p.graph_reference_count = 67;
    return p;
  }
  // 0.11-0.16 kept several fp32 copies of the logits (37.5 bytes per logit: rows 25, 28, 106,
  // 107); 0.17 came back to ~14 (rows 48-109). A 0.18 GiB floor fits every V1 >= 0.11 case.
  p.sampler_bytes_per_logit = v < vllm_version{0, 17, 0} ? 37.5 : 14.0;
  p.activation_base_gib = 0.18;
  // Non-torch: 0.13 GiB up to 0.17, 0.25 from 0.18 (rows 25, 106-109, 48-105); NCCL and custom
  // all-reduce buffers allocated during the profile add 1.82 GiB at tp 2 (rows 85, 100, 103).
  p.non_torch_tp1_gib = v < vllm_version{0, 18, 0} ? 0.13 : 0.25;
  p.non_torch_nccl_gib = 1.82;
  p.non_torch_pcie_gib = pcie_gib(p);
  // FULL_AND_PIECEWISE graphs (rows 48-105 at 0.19): 0.45 GiB + 13.5 MiB per layer, MoE +0.55.
  p.graph_base_gib = 0.45;
  p.graph_per_layer_gib = 0.0135;
  p.graph_moe_gib = 0.55;
  p.graph_reference_count = 102;
  return p;
}

scheduler_defaults default_scheduler(const vllm_profile& p, bool big_gpu,
                                     std::uint64_t max_model_len_tokens, bool multimodal) {
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
  return d;
}

std::uint64_t cuda_graph_count(const vllm_profile& p, std::uint64_t S, std::uint64_t M) {
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
    n = count_sizes(std::min<std::uint64_t>(std::min<std::uint64_t>(2 * S, 512), M), true);
  }
  return n * p.cudagraph_modes;
}

}  // namespace vllm_mem
