// model/quantization.cpp — quantized weight layouts as vLLM holds them after loading.
// Source of every layout: vllm-memory-model.md §9.3 (tensors created by each LinearMethod).
#include "vllm_mem/model/quantization.hpp"

#include <array>
#include <utility>

namespace vllm_mem {

namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }
}  // namespace

std::string_view quant_method_name(quant_method m) {
  switch (m) {
    case quant_method::none:
      return "none";
    case quant_method::fp8:
      return "fp8";
    case quant_method::fp8_block:
      return "fp8_block";
    case quant_method::int8:
      return "int8";
    case quant_method::awq:
      return "awq";
    case quant_method::gptq:
      return "gptq";
    case quant_method::w4a16:
      return "w4a16";
    case quant_method::bitsandbytes:
      return "bitsandbytes";
    case quant_method::mxfp4:
      return "mxfp4";
    case quant_method::nvfp4:
      return "nvfp4";
  }
  return "none";
}

namespace {

// One scheme name: the seed's, or one of vLLM's `--quantization` methods that fixes the layout.
std::optional<quant_spec> parse_scheme(std::string_view text) {
  quant_spec q;
  // The seed's names: Q8 = 8-bit integer weights with per-channel scales; Q4 = 4-bit weights in
  // groups of 128 with fp16 scales and zero points (the AWQ/GPTQ layout vLLM loads most often).
  if (iequals(text, "q8") || iequals(text, "int8") || iequals(text, "w8a8") ||
      iequals(text, "w8a8_int8") || iequals(text, "int8_w8a8") || iequals(text, "experts_int8")) {
    q.method = quant_method::int8;
    q.bits = 8;
    q.group_size = 0;
    return q;
  }
  if (iequals(text, "q4") || iequals(text, "awq") || iequals(text, "awq_marlin")) {
    q.method = quant_method::awq;
    q.bits = 4;
    return q;
  }
  if (iequals(text, "gptq") || iequals(text, "gptq_marlin") || iequals(text, "auto-round") ||
      iequals(text, "auto_round") || iequals(text, "autoround")) {
    q.method = quant_method::gptq;
    q.bits = 4;
    return q;
  }
  if (iequals(text, "w4a16") || iequals(text, "compressed-tensors-w4a16") ||
      iequals(text, "wna16")) {
    q.method = quant_method::w4a16;
    q.bits = 4;
    return q;
  }
  if (iequals(text, "fp8") || iequals(text, "fp8_dynamic") || iequals(text, "w8a8_fp8") ||
      iequals(text, "fbgemm_fp8") || iequals(text, "modelopt") || iequals(text, "fp8-dynamic")) {
    q.method = quant_method::fp8;
    q.bits = 8;
    q.group_size = 0;
    return q;
  }
  if (iequals(text, "fp8_block")) {
    q.method = quant_method::fp8_block;
    q.bits = 8;
    q.group_size = 0;
    return q;
  }
  if (iequals(text, "bitsandbytes") || iequals(text, "bnb") || iequals(text, "bnb-4bit") ||
      iequals(text, "nf4") || iequals(text, "bnb_4bit")) {
    q.method = quant_method::bitsandbytes;
    q.bits = 4;
    q.group_size = 64;
    return q;
  }
  if (iequals(text, "bnb-8bit") || iequals(text, "bnb_8bit")) {
    q.method = quant_method::bitsandbytes;
    q.bits = 8;
    q.group_size = 0;
    return q;
  }
  if (iequals(text, "mxfp4")) {
    q.method = quant_method::mxfp4;
    q.bits = 4;
    q.group_size = 32;
    return q;
  }
  if (iequals(text, "nvfp4") || iequals(text, "modelopt_fp4")) {
    q.method = quant_method::nvfp4;
    q.bits = 4;
    q.group_size = 16;
    return q;
  }
  return std::nullopt;
}

// vLLM methods whose config reads the layout from the checkpoint's quantization_config:
// compressed-tensors (CompressedTensorsConfig picks a scheme per layer group) and ModelOpt's
// mixed-precision config (ModelOptMixedPrecisionConfig). `modelopt` itself is ModelOptFp8Config,
// but vLLM overrides it to the checkpoint's quant_algo (modelopt.py override_quantization_method).
// deepseek_v4_fp8 is DeepSeek-V4's own fp8 config (fp8 blocks, experts per expert_dtype).
bool is_checkpoint_family(std::string_view word) {
  return iequals(word, "compressed-tensors") || iequals(word, "compressed_tensors") ||
         iequals(word, "modelopt") || iequals(word, "modelopt_mixed") ||
         iequals(word, "deepseek_v4_fp8");
}

}  // namespace

std::optional<quant_spec> parse_quantization(std::string_view text) {
  // Words split at spaces and punctuation: "compressed-tensors (nvfp4)", "modelopt nvfp4".
  std::array<std::string_view, 16> words{};
  std::size_t n = 0;
  std::size_t i = 0;
  auto is_sep = [](char ch) {
    return ch == ' ' || ch == '(' || ch == ')' || ch == '[' || ch == ']' || ch == ':' ||
           ch == ';' || ch == ',' || ch == '+' || ch == '/' || ch == '\t';
  };
  while (i < text.size() && n < words.size()) {
    while (i < text.size() && is_sep(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_sep(text[i])) ++i;
    if (i > start) words[n++] = text.substr(start, i - start);
  }
  if (n == 0) return std::nullopt;
  if (!is_checkpoint_family(words[0])) {
    // A scheme, perhaps with words after it that only describe it ("awq (4-bit)").
    return parse_scheme(words[0]);
  }
  quant_spec q;
  q.from_checkpoint = true;
  // DeepseekV4FP8Config (deepseek_v4.py): fp8 blocks with the experts in the checkpoint's
  // expert_dtype; the checkpoint decides, words after the name only describe it.
  if (iequals(words[0], "deepseek_v4_fp8")) return q;
  for (std::size_t k = 1; k < n; ++k) {
    if (is_checkpoint_family(words[k])) continue;
    if (auto s = parse_scheme(words[k])) {
      s->from_checkpoint = true;
      return s;
    }
  }
  // ModelOptFp8Config when nothing more is said and the checkpoint states nothing.
  if (iequals(words[0], "modelopt")) {
    q.method = quant_method::fp8;
    q.bits = 8;
    q.group_size = 0;
  }
  return q;
}

namespace {

// True when `name` names the `module` of every layer: no layer index before it, and nothing but
// pattern characters after it ("*.self_attn", "model.layers.*.self_attn*", "re:.*linear_attn.*";
// not "model.layers.3.self_attn" or "*.self_attn.q_proj").
bool names_whole_module(std::string_view name, std::string_view module) {
  const auto at = name.find(module);
  if (at == std::string_view::npos) return false;
  for (const char ch : name.substr(0, at)) {
    if (ch >= '0' && ch <= '9') return false;
  }
  for (const char ch : name.substr(at + module.size())) {
    if (ch != '*' && ch != '.' && ch != '$') return false;
  }
  return true;
}

}  // namespace

void apply_unquantized_modules(const std::vector<std::string>& names, quant_spec& q) {
  if (q.experts_only) return;  // nothing but the experts is quantized anyway
  bool attention = false, state_mixer = false;
  for (const auto& n : names) {
    q.mtp_unquantized = q.mtp_unquantized || names_whole_module(n, "mtp");
    attention = attention || names_whole_module(n, "self_attn");
    state_mixer = state_mixer || names_whole_module(n, "linear_attn");
  }
  if (state_mixer && !q.state_mixer_method) q.state_mixer_method = quant_method::none;
  if (attention && !q.attention_method) {
    q.attention_method = quant_method::none;
    // The state mixer follows the attention's scheme unless told: here it stays in the method's.
    if (!q.state_mixer_method) q.state_mixer_method = q.method;
  }
}

void apply_unstated_layout(bool mla, quant_spec& q) {
  if (mla && q.method == quant_method::nvfp4 && !q.attention_method) {
    q.attention_method = quant_method::none;
  }
}

quant_spec attention_scheme(quant_method m) {
  if (m == quant_method::none) return {};
  if (auto q = parse_scheme(quant_method_name(m))) return *q;
  return {};
}

double quant_spec::approx_bytes_per_weight() const {
  constexpr std::uint64_t kIn = 4096, kOut = 4096;
  return static_cast<double>(quantized_linear_bytes(*this, kIn, kOut, 16, kIn)) /
         static_cast<double>(kIn * kOut);
}

std::uint64_t quantized_linear_bytes(const quant_spec& q, std::uint64_t in, std::uint64_t out,
                                     std::uint32_t act_bits, std::uint64_t row_parallel_in_total) {
  const std::uint64_t numel = in * out;
  const std::uint64_t g = q.group_size == 0 ? in : q.group_size;
  const std::uint64_t groups = ceil_div(in, g);
  switch (q.method) {
    case quant_method::none:
      return numel * act_bits / 8;
    case quant_method::fp8:
      // weight fp8[out, in] + fp32 per-channel (or per-shard) scale.
      return numel + 4 * out;
    case quant_method::fp8_block:
      // weight fp8[out, in] + weight_scale_inv fp32[ceil(out/bn), ceil(in/bk)].
      return numel + 4 * ceil_div(out, q.block_n) * ceil_div(in, q.block_k);
    case quant_method::int8:
      if (q.bits == 4) return numel / 2 + 4 * out;  // int4 weight-only with channel scales
      return numel + 4 * out;
    case quant_method::awq:
      // qweight int32[in, out/8]; qzeros int32[in/g, out/8]; scales fp16[in/g, out].
      return numel * q.bits / 8 + groups * out * 2 + groups * out * q.bits / 8;
    case quant_method::gptq: {
      // qweight int32[in/pack, out]; qzeros int32[G, out/pack]; scales fp16[G, out];
      // g_idx int32[in] with act-order, where row-parallel layers keep all groups of the full
      // input (G = in_total/g, replicated).
      std::uint64_t gq = groups;
      if (q.desc_act && row_parallel_in_total > in) gq = ceil_div(row_parallel_in_total, g);
      const std::uint64_t g_idx = q.desc_act ? in * 4 : 0;
      return numel * q.bits / 8 + gq * out * 2 + gq * out * q.bits / 8 + g_idx;
    }
    case quant_method::w4a16:
      // weight_packed int32[out, in/8]; weight_scale [out, in/g] in the model dtype; zero points
      // int32[out/8, in/g] only when asymmetric.
      return numel * q.bits / 8 + groups * out * act_bits / 8 +
             (q.sym ? 0 : groups * out * q.bits / 8);
    case quant_method::bitsandbytes:
      if (q.bits == 8) return numel + 4 * out;  // LLM.int8: int8 weight + fp32 per-row SCB
      // nf4: packed uint8[numel/2] + absmax per 64 values: fp32, or with double quantization
      // uint8 plus an fp32 absmax per 256 blocks and a 256-entry fp32 code book.
      if (q.double_quant) {
        const std::uint64_t blocks = ceil_div(numel, 64);
        return numel / 2 + blocks + 4 * ceil_div(blocks, 256) + 256 * 4;
      }
      return numel / 2 + 4 * ceil_div(numel, 64);
    case quant_method::mxfp4:
      // uint8[out, in/2] + e8m0 scale per 32 values.
      return numel / 2 + ceil_div(numel, 32);
    case quant_method::nvfp4:
      // uint8[out, in/2] + fp8 scale per 16 values + per-tensor fp32 scales.
      return numel / 2 + ceil_div(numel, 16) + 8;
  }
  return numel * act_bits / 8;
}

}  // namespace vllm_mem
