// model/layers.cpp — layer kinds and the state shapes of vLLM's MambaStateShapeCalculator
// (vllm/model_executor/layers/mamba/mamba_utils.py; vllm-2026.md §1.6).
#include "vllm_mem/model/layers.hpp"

#include <algorithm>
#include <tuple>

#include "vllm_mem/model/architecture.hpp"

namespace vllm_mem {

namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

// mamba_utils.extra_groups_for_head_shards: groups are replicated so that every rank holds whole
// groups when n_groups does not divide by tp.
std::uint64_t extra_groups_for_head_shards(std::uint64_t n_groups, std::uint64_t tp) {
  if (n_groups % tp == 0) return 0;
  return tp - n_groups;
}

error bad(const std::string& field, const std::string& message) {
  return make_error(error_code::invalid_argument, message, field);
}

}  // namespace

const char* state_layer_kind_name(state_layer_kind k) {
  switch (k) {
    case state_layer_kind::gated_delta_net:
      return "gated_delta_net";
    case state_layer_kind::mamba2:
      return "mamba2";
    case state_layer_kind::none:
      break;
  }
  return "none";
}

std::uint64_t state_layers::num_full_layers(std::uint64_t first, std::uint64_t last) const {
  if (last <= first) return 0;
  if (!any()) return last - first;
  return count_multiples(first + 1, last + 1, full_attention_interval);
}

std::uint64_t state_layers::num_state_layers(std::uint64_t first, std::uint64_t last) const {
  if (last <= first || !any()) return 0;
  return last - first - num_full_layers(first, last);
}

state_shape state_shape_per_rank(const state_layers& s, std::uint64_t tp,
                                 std::uint64_t num_spec_tokens) {
  tp = std::max<std::uint64_t>(1, tp);
  state_shape out;
  const std::uint64_t conv_len = s.conv_kernel > 0 ? s.conv_kernel - 1 + num_spec_tokens : 0;
  switch (s.kind) {
    case state_layer_kind::gated_delta_net: {
      // gated_delta_net_state_shape: conv (K - 1 + spec, (2 k_dim n_k + v_dim n_v) / tp),
      // temporal (n_v / tp, k_dim, v_dim).
      const std::uint64_t conv_dim =
          2 * s.key_head_dim * s.num_key_heads + s.value_head_dim * s.num_value_heads;
      out.conv_elements = conv_len * ceil_div(conv_dim, tp);
      out.ssm_elements = ceil_div(s.num_value_heads, tp) * s.key_head_dim * s.value_head_dim;
      break;
    }
    case state_layer_kind::mamba2: {
      // mamba2_state_shape: conv ((I + 2 G' N) / tp, K - 1 + spec) with G' = n_groups padded to
      // shard with the heads; temporal (heads / tp, head_dim, N).
      const std::uint64_t groups = s.n_groups + extra_groups_for_head_shards(s.n_groups, tp);
      const std::uint64_t conv_dim = s.intermediate_size + 2 * groups * s.state_size;
      out.conv_elements = conv_len * ceil_div(conv_dim, tp);
      out.ssm_elements = ceil_div(s.num_heads, tp) * s.head_dim * s.state_size;
      break;
    }
    case state_layer_kind::none:
      break;
  }
  return out;
}

state_bytes state_bytes_per_rank(const state_layers& s, std::uint64_t tp, std::uint32_t conv_bits,
                                 std::uint64_t num_spec_tokens) {
  const state_shape sh = state_shape_per_rank(s, tp, num_spec_tokens);
  const std::uint32_t ssm_bits = s.ssm_dtype ? dtype_bits(*s.ssm_dtype) : conv_bits;
  return {sh.conv_elements * conv_bits / 8, sh.ssm_elements * ssm_bits / 8};
}

result<state_layers> resolve_state_layers(const linear_attention_spec& spec,
                                          std::optional<std::uint64_t> interval,
                                          std::uint64_t num_layers,
                                          const std::string& field_prefix) {
  const std::string obj = field_prefix + "linear_attention";
  state_layers s;
  if (spec.kind == "gated_delta_net") {
    s.kind = state_layer_kind::gated_delta_net;
  } else if (spec.kind == "mamba2") {
    s.kind = state_layer_kind::mamba2;
  } else {
    return bad(obj + ".kind", "'" + obj + ".kind' must be one of gated_delta_net, mamba2, got '" +
                                  spec.kind + "'");
  }
  auto need = [&](const std::optional<std::uint64_t>& v, const char* name,
                  std::uint64_t& out) -> status {
    if (!v || *v == 0) {
      return bad(obj + "." + name, "'" + obj + "." + name + "' is required for kind '" + spec.kind +
                                       "' and must be positive");
    }
    out = *v;
    return ok_status();
  };
  if (s.kind == state_layer_kind::gated_delta_net) {
    for (auto [v, name, out] :
         {std::tuple{&spec.num_key_heads, "num_key_heads", &s.num_key_heads},
          std::tuple{&spec.num_value_heads, "num_value_heads", &s.num_value_heads},
          std::tuple{&spec.key_head_dim, "key_head_dim", &s.key_head_dim},
          std::tuple{&spec.value_head_dim, "value_head_dim", &s.value_head_dim}}) {
      if (auto st = need(*v, name, *out); !st) return st.err();
    }
    s.conv_kernel = spec.conv_kernel.value_or(4);  // Qwen3NextConfig.linear_conv_kernel_dim
    s.full_attention_interval = interval.value_or(4);
    if (s.num_value_heads % s.num_key_heads != 0) {
      return bad(obj + ".num_value_heads", "'" + obj +
                                               ".num_value_heads' must be a multiple of "
                                               "num_key_heads (grouped value heads)");
    }
  } else {
    for (auto [v, name, out] :
         {std::tuple{&spec.num_heads, "num_heads", &s.num_heads},
          std::tuple{&spec.head_dim, "head_dim", &s.head_dim},
          std::tuple{&spec.state_size, "state_size", &s.state_size},
          std::tuple{&spec.intermediate_size, "intermediate_size", &s.intermediate_size}}) {
      if (auto st = need(*v, name, *out); !st) return st.err();
    }
    s.n_groups = spec.n_groups.value_or(1);
    s.conv_kernel = spec.conv_kernel.value_or(4);
    if (!interval) {
      return bad(
          field_prefix + "full_attention_interval",
          "'" + field_prefix + "full_attention_interval' is required with mamba2 state layers");
    }
    s.full_attention_interval = *interval;
  }
  if (s.full_attention_interval == 0 || s.full_attention_interval > num_layers) {
    return bad(field_prefix + "full_attention_interval",
               "'" + field_prefix + "full_attention_interval' must be between 1 and num_layers");
  }
  if (spec.ssm_dtype) {
    auto d = parse_dtype(*spec.ssm_dtype);
    if (!d || d->is_auto ||
        (d->value != dtype::float32 && d->value != dtype::float16 && d->value != dtype::bfloat16)) {
      return bad(obj + ".ssm_dtype", "'" + obj +
                                         ".ssm_dtype' must be float32, float16 or bfloat16, got '" +
                                         *spec.ssm_dtype + "'");
    }
    s.ssm_dtype = d->value;
  }
  return s;
}

std::uint64_t compressed_attention::count(std::uint64_t first, std::uint64_t last,
                                          std::uint8_t r) const {
  std::uint64_t n = 0;
  for (std::uint64_t l = first; l < last && l < ratio.size(); ++l) n += ratio[l] == r ? 1 : 0;
  return n;
}

}  // namespace vllm_mem
