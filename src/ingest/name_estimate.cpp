// ingest/name_estimate.cpp — the seed's estimate for models the database does not know: a parameter
// count from the name (or params_billions, or a stated default), then an architecture solved
// from that count (seed spec, "Architecture estimation").
#include "vllm_mem/ingest/name_estimate.hpp"

#include <cmath>
#include <cstdlib>

namespace vllm_mem {

namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

double unit_scale(char u) {
  switch (u) {
    case 'k':
    case 'K':
      return 1e3;
    case 'm':
    case 'M':
      return 1e6;
    case 'b':
    case 'B':
      return 1e9;
    case 't':
    case 'T':
      return 1e12;
    default:
      return 0.0;
  }
}

// Reads a decimal number at s[i...], returns its end or i when none.
std::size_t read_number(std::string_view s, std::size_t i, double& out) {
  std::size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j == i) return i;
  if (j + 1 < s.size() && s[j] == '.' && is_digit(s[j + 1])) {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j;
  }
  out = std::strtod(std::string(s.substr(i, j - i)).c_str(), nullptr);
  return j;
}

}  // namespace

std::optional<name_size> params_from_name(std::string_view name) {
  const auto slash = name.rfind('/');
  const std::string_view s = slash == std::string_view::npos ? name : name.substr(slash + 1);
  std::optional<name_size> best;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_digit(s[i]) || (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '.'))) continue;
    double a = 0;
    std::size_t j = read_number(s, i, a);
    if (j == i) continue;
    name_size found;
    // "8x7B": experts x size.
    if (j < s.size() && (s[j] == 'x' || s[j] == 'X')) {
      double b = 0;
      const std::size_t k = read_number(s, j + 1, b);
      if (k > j + 1 && k < s.size() && unit_scale(s[k]) > 0 &&
          (k + 1 == s.size() || !is_alnum(s[k + 1]))) {
        found.experts = static_cast<std::uint64_t>(a);
        found.expert_params = b * unit_scale(s[k]);
        // Experts share attention and embeddings: about 0.8 of an expert model is its MLP.
        found.total_params = found.expert_params * (1.0 + 0.8 * (a - 1.0));
        found.text = std::string(s.substr(i, k + 1 - i));
        if (!best || found.total_params > best->total_params) best = found;
        i = k;
        continue;
      }
    }
    if (j < s.size() && unit_scale(s[j]) > 0 && (j + 1 == s.size() || !is_alnum(s[j + 1]))) {
      found.total_params = a * unit_scale(s[j]);
      found.text = std::string(s.substr(i, j + 1 - i));
      if (found.total_params >= 1e6 && (!best || found.total_params > best->total_params))
        best = found;
    }
    i = j;
  }
  return best;
}

arch_spec arch_from_params(double params, std::uint64_t experts) {
  const double P = params;
  // Range-based depth (typical of published decoder models at each size).
  std::uint64_t L = 24;
  if (P > 0.6e9) L = 24;
  if (P > 2e9) L = 28;
  if (P > 4.5e9) L = 32;
  if (P > 10e9) L = 40;
  if (P > 20e9) L = 60;
  if (P > 45e9) L = 80;
  if (P > 100e9) L = 96;
  if (P > 250e9) L = 126;
  const double V = 32000.0;
  const double d = 128.0;
  const double kv = 8.0;
  // Per layer: q and o (2h^2), k and v (2*h*kv*d), gated MLP with I = 3.5h (10.5h^2), two norms;
  // plus untied embeddings 2*V*h. Solve a*h^2 + b*h - P = 0 for h.
  const double a = static_cast<double>(L) * 12.5;
  const double b = static_cast<double>(L) * (2.0 * kv * d + 2.0) + 2.0 * V;
  const double h = (-b + std::sqrt(b * b + 4.0 * a * P)) / (2.0 * a);
  // vLLM splits heads and KV heads over the tensor-parallel ranks (both divisible by tp, or KV
  // heads replicated): the hidden size is a multiple of 8 heads, so 8 query heads per KV head
  // group and 8 KV heads (Llama's GQA) divide by tp 1, 2, 4 and 8.
  const std::uint64_t head_dim = h >= 960.0 ? 128 : 64;
  const std::uint64_t step = 8 * head_dim;
  const std::uint64_t hidden =
      std::max<std::uint64_t>(
          1, static_cast<std::uint64_t>(std::llround(h / static_cast<double>(step)))) *
      step;
  const std::uint64_t heads = hidden / head_dim;
  const std::uint64_t kv_heads = 8;
  // The rounding moves the count; the depth is solved again for it.
  const double hd = static_cast<double>(hidden);
  const double per_layer = 12.5 * hd * hd + hd * (2.0 * kv * static_cast<double>(head_dim) + 2.0);
  L = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::llround(std::max(0.0, P - 2.0 * V * hd) / per_layer)));
  const std::uint64_t inter = std::max<std::uint64_t>(
      256,
      static_cast<std::uint64_t>(std::llround(3.5 * static_cast<double>(hidden) / 256.0)) * 256);
  arch_spec s;
  s.model_type = "llama";
  s.num_layers = L;
  s.hidden_size = hidden;
  s.num_heads = heads;
  s.num_kv_heads = kv_heads;
  s.head_dim = head_dim;
  s.intermediate_size = inter;
  s.vocab_size = static_cast<std::uint64_t>(V);
  s.tie_word_embeddings = false;
  if (experts > 1) {
    s.num_experts = experts;
    s.num_experts_per_tok = 2;
    s.moe_intermediate_size = inter;
  }
  return s;
}

}  // namespace vllm_mem
