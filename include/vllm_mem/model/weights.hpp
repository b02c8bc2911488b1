// model/weights.hpp — parameter counts and the weight bytes one vLLM rank holds.
//
// Contract: `weights_per_rank` returns the bytes of every parameter group one worker holds after
// loading, sharded the way vLLM shards them (vllm-memory-model.md §9): vocabulary padded to 64
// then split across tensor-parallel ranks, KV heads replicated when tp exceeds them, the
// embedding on the first pipeline stage and the LM head on the last, MoE experts split by tensor
// or expert parallelism, quantized layouts per quant_spec with embeddings, norms and routers left
// unquantized. `buffers` holds the persistent tensors that are not parameters but are counted in
// vLLM's "Model loading took" (rotary cos/sin caches, MLA absorbed matrices).
// `count_parameters` returns element counts of the unquantized, unsharded model.
// Exact checkpoint bytes: when `weight_options::checkpoint_bytes` is set (the tensor bytes read
// from the checkpoint's safetensors metadata), every parameter group is scaled by checkpoint_bytes
// / `checkpoint_layout_bytes` (the same architecture computed in the checkpoint's own dtype and
// quantization, unsharded). So one GPU serving the checkpoint as stored holds exactly its bytes,
// while sharding, pipeline stages and load-time conversions (a float32 checkpoint served in
// float16, on-the-fly quantization) still follow the computed layout.
// Arithmetic is checked; an overflow is an out_of_range error. Pure, thread-safe.
#pragma once

#include <cstdint>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/model/quantization.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct shard_config {
  std::uint64_t tp = 1;
  std::uint64_t pp = 1;
  std::uint64_t pp_rank = 0;     // the pipeline stage whose weights are wanted
  bool expert_parallel = false;  // --enable-expert-parallel (ep = tp)
};

struct weight_options {
  std::uint32_t act_bits = 16;  // model dtype width in bits
  quant_spec quant;             // effective weight quantization
  shard_config shard;
  bool include_buffers = true;
  // A drafter's layers reuse the target's rotary cos/sin cache (vLLM's get_rope caches by key):
  // no rope cache among their buffers.
  bool shares_rope_cache = false;
  std::uint64_t checkpoint_bytes = 0;  // exact checkpoint tensor bytes; 0: computed sizes only
};

struct weight_bytes {
  std::uint64_t embedding = 0;
  std::uint64_t lm_head = 0;
  std::uint64_t attention = 0;
  std::uint64_t dense_mlp = 0;
  std::uint64_t experts = 0;
  std::uint64_t shared_experts = 0;
  std::uint64_t router = 0;
  std::uint64_t norms = 0;
  std::uint64_t vision = 0;
  std::uint64_t buffers = 0;      // rotary caches, MLA absorbed matrices (not parameters)
  std::uint64_t lora = 0;         // LoRA slots (vllm/lora.hpp), allocated while loading
  std::uint64_t draft = 0;        // the speculative drafter's own weights (vllm/speculative.hpp)
  std::uint64_t cpu_offload = 0;  // decoder-layer parameters kept in host memory (--cpu-offload-gb)
  std::uint64_t num_layers = 0;   // decoder layers on this stage

  std::uint64_t parameter_bytes() const {
    return embedding + lm_head + attention + dense_mlp + experts + shared_experts + router + norms +
           vision;
  }
  // On the GPU ("Model loading took"): cpu_offload is at most the decoder layers' parameters.
  std::uint64_t total() const { return parameter_bytes() + buffers + lora + draft - cpu_offload; }
};

// The layers [first, last) of pipeline stage `rank` (vLLM get_pp_indices: floor(L/pp) each, the
// remainder to the stages before the last).
struct layer_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};
layer_range pp_layer_range(std::uint64_t num_layers, std::uint64_t pp, std::uint64_t rank);

result<weight_bytes> weights_per_rank(const model_arch& a, const weight_options& opt);

// Parameter bytes of the whole checkpoint as stored: the model's own torch_dtype (or
// `fallback_act_bits` when unknown) and its own quantization, one rank, no buffers.
result<std::uint64_t> checkpoint_layout_bytes(const model_arch& a, std::uint32_t fallback_act_bits);

struct param_counts {
  std::uint64_t total = 0;
  std::uint64_t active = 0;     // MoE: non-expert parameters + top-k routed experts (both
                                // embedding matrices counted); dense: = total
  std::uint64_t embedding = 0;  // input embedding (+ untied LM head in `lm_head`)
  std::uint64_t lm_head = 0;
  std::uint64_t vision = 0;
};
result<param_counts> count_parameters(const model_arch& a);

// vLLM pads the vocabulary to a multiple of 64 (DEFAULT_VOCAB_PADDING_SIZE).
constexpr std::uint64_t padded_vocab(std::uint64_t v) { return (v + 63) / 64 * 64; }

}  // namespace vllm_mem
