// model/quantization.hpp — how a quantized linear layer is laid out in GPU memory once vLLM loaded
// it.
//
// Contract: `quant_spec` describes one weight-quantization scheme (the checkpoint's own, or one
// requested on the fly); `quantized_linear_bytes` returns the bytes one rank holds for a linear
// layer of the given per-rank shape, including scales, zero points and group indices, following
// the layouts of vllm-memory-model.md §9.3. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vllm_mem/model/dtype.hpp"

namespace vllm_mem {

enum class quant_method : std::uint8_t {
  none,
  fp8,  // fp8 e4m3 weights, per-tensor or per-channel fp32 scales (fp8.py, compressed-tensors)
  fp8_block,     // fp8 with [bn, bk] block scales (DeepSeek-V3, Qwen3-FP8)
  int8,          // int8 weights with per-channel fp32 scales (W8A8 INT8, seed "Q8")
  awq,           // packed 4-bit, fp16 group scales, packed zeros (awq.py, awq_marlin.py)
  gptq,          // packed 4/8-bit, fp16 group scales, packed zeros, g_idx (gptq.py, gptq_marlin.py)
  w4a16,         // compressed-tensors pack-quantized 4-bit, group scales in the model dtype
  bitsandbytes,  // nf4/fp4 (bits 4) with absmax per 64, or LLM.int8 (bits 8)
  mxfp4,         // 4-bit e2m1 with an e8m0 scale per 32 (gpt-oss experts)
  nvfp4,         // 4-bit e2m1 with an fp8 scale per 16 plus per-tensor fp32 scales
};

struct quant_spec {
  quant_method method = quant_method::none;
  std::uint32_t bits = 16;
  std::uint32_t group_size = 128;  // 0: one group per input row (per-channel)
  bool desc_act = false;           // GPTQ act-order: g_idx, replicated scales on row-parallel
  bool sym = true;                 // symmetric: no zero points for w4a16
  std::uint32_t block_n = 128;     // fp8_block
  std::uint32_t block_k = 128;
  bool double_quant = true;       // bitsandbytes 4-bit: nested absmax quantization
  bool experts_only = false;      // only the MoE experts are quantized (gpt-oss MXFP4)
  bool quantize_lm_head = false;  // lm_head quantized too (rare; GPTQ lm_head_quantized)
  // Named as a method family whose layout the checkpoint's quantization_config decides
  // (compressed-tensors, modelopt): the checkpoint's own quantization wins; `method` is the
  // scheme the text also named, if any (none: the checkpoint must say).
  bool from_checkpoint = false;
  // Mixed precision (ModelOpt MIXED_PRECISION): the attention and state-mixer projections are in
  // this scheme (fp8, or none for 16 bit) while the MLP and experts follow `method`; unset: all
  // follow `method`.
  std::optional<quant_method> attention_method;
  // The state-mixer projections (Gated DeltaNet's linear_attn, Mamba's mixer) in their own scheme,
  // for recipes that leave them in 16 bit (none) while attention is quantized; unset: they follow
  // the attention's scheme.
  std::optional<quant_method> state_mixer_method;
  // The routed experts in their own scheme while everything else follows `method` (DeepSeek-V4's
  // fp8 checkpoints with expert_dtype fp4: DeepseekV4FP8Config gives FusedMoE layers
  // Mxfp4MoEMethod); unset: the experts follow `method`.
  std::optional<quant_method> expert_method;
  // The checkpoint leaves its MTP modules in 16 bit (an ignore / exclude pattern covering `mtp`).
  bool mtp_unquantized = false;

  bool is_none() const { return method == quant_method::none; }
  // Bytes per weight for a dense estimate (documentation and planners), without sharding.
  double approx_bytes_per_weight() const;
};

std::string_view quant_method_name(quant_method m);

// A checkpoint's list of modules left in 16 bit (compressed-tensors `ignore`, ModelOpt
// `exclude_modules`, `modules_to_not_convert`; vLLM gives every matching layer the unquantized
// method: compressed_tensors/utils.py `should_ignore_layer`, modelopt.py `is_layer_excluded`).
// A name or pattern covering a whole `self_attn` sets the attention to 16 bit, one covering a whole
// `linear_attn` the state mixer; explicit `attention_method` / `state_mixer_method` win. Names of
// single projections or layers do not change a class.
void apply_unquantized_modules(const std::vector<std::string>& names, quant_spec& q);

// A scheme named without its checkpoint's layout (a name's suffix, the request's
// `quantization`): NVFP4 on an MLA model keeps the MLA projections in 16 bit, as every ModelOpt
// NVFP4 checkpoint of one read for the database does (nvidia/DeepSeek-V3.1-NVFP4 and
// DeepSeek-V4-Flash-NVFP4 exclude_modules; vLLM's is_layer_excluded). Other schemes unchanged.
void apply_unstated_layout(bool mla, quant_spec& q);

// The layout of a mixed-precision checkpoint's attention projections: fp8 with per-tensor scales
// (ModelOptFp8LinearMethod), or 16 bit for none; the other methods with their default layout.
quant_spec attention_scheme(quant_method m);

// Parses the `quantization` request field: the seed's "Q8" and "Q4", vLLM's methods (fp8, int8,
// w8a8, awq, gptq, w4a16, bitsandbytes, mxfp4, nvfp4, compressed-tensors scheme names), and the
// families compressed-tensors / modelopt / modelopt_mixed, alone or with the scheme in words after
// them ("compressed-tensors (nvfp4)", "modelopt nvfp4"). Words after a scheme only describe it.
std::optional<quant_spec> parse_quantization(std::string_view text);

// Bytes on one rank for a linear layer whose per-rank weight has `in` inputs and `out` outputs.
// `act_bits` is the activation dtype width (16 for fp16/bf16), used for scales that vLLM keeps in
// the model dtype. `row_parallel_in_total` is the unsharded input size for GPTQ act-order scales.
std::uint64_t quantized_linear_bytes(const quant_spec& q, std::uint64_t in, std::uint64_t out,
                                     std::uint32_t act_bits, std::uint64_t row_parallel_in_total);

}  // namespace vllm_mem
