// vllm/lora.hpp — the LoRA slots vLLM allocates when the engine starts with --enable-lora.
//
// Contract: `lora_slot_bytes` returns the bytes of the stacked LoRA buffers on one rank of one
// pipeline stage: every wrapped linear of the stage's decoder layers (qkv_proj 3 slices,
// gate_up_proj 2 slices, o_proj, down_proj) and, for model types whose vLLM class lists
// `embedding_modules`, the embedding and logits wrappers plus the extra-vocabulary rows (up to
// 0.11). Shapes: vllm/lora/layers (base_linear.py, row_parallel_linear.py, logits_processor.py,
// vocal_parallel_embedding.py) as read in docs/research/set2-causes.md §b.1–b.2; they are
// allocated inside the load profiler, so "Model loading took" includes them. MoE experts, MLA
// projections and vision towers are not wrapped here (not modelled). Pure, thread-safe.
#pragma once

#include <cstdint>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/vllm/profile.hpp"

namespace vllm_mem {

struct lora_config {
  bool enabled = false;
  std::uint64_t max_loras = 1;       // --max-loras
  std::uint64_t max_lora_rank = 16;  // --max-lora-rank
  std::uint64_t max_cpu_loras = 0;   // --max-cpu-loras (0: max_loras); host memory only
  std::uint32_t dtype_bits = 0;      // --lora-dtype; 0: auto (the model dtype)
  bool fully_sharded = false;        // --fully-sharded-loras
};

// vLLM's LoRAConfig default for lora_extra_vocab_size (256) until the field was removed (0.12).
std::uint64_t lora_extra_vocab(const vllm_version& v);

// Whether vLLM wraps embed_tokens and lm_head for this model type and version (the class's
// `embedding_modules`): Llama and Mistral always, Qwen3 from 0.16 (PR #29816), others never.
bool lora_wraps_embeddings(const model_arch& a, const vllm_version& v);

// Bytes on one rank of the stage holding layers [first, last); `first_stage` / `last_stage` say
// whether it holds the embedding / the logits. `act_bits`: the model dtype.
std::uint64_t lora_slot_bytes(const model_arch& a, const lora_config& c, const vllm_version& v,
                              std::uint64_t tp, std::uint64_t first, std::uint64_t last,
                              bool first_stage, bool last_stage, std::uint32_t act_bits);

}  // namespace vllm_mem
