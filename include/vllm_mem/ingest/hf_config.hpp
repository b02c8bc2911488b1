// ingest/hf_config.hpp — a Hugging Face config.json turned into the canonical architecture.
//
// Contract: `convert_hf_config` reads a config.json object the way transformers' config class for
// its `model_type` and vLLM's ModelConfig read it, and returns the canonical `arch_spec` (the keys
// of data/schema.md) plus the same values as canonical JSON.
//  * Text model: a nested `text_config` (multimodal repositories) holds the language model; its
//    `model_type` becomes `model_type` and the outer one `multimodal_model_type`. `vision_config`
//    becomes the `vision` object.
//  * Known model types (llama, mistral, mixtral, qwen2/qwen2_moe/qwen3/qwen3_moe and their VL text
//    configs, gemma/gemma2/gemma3, phi/phi3, falcon, mpt, gpt_neox, stablelm, deepseek_v2/v3,
//    kimi_k2, gpt_oss, granite/granitemoe, llama4, mllama) follow their class's attribute names
//    and defaults; any other model_type uses a generic reading of the usual attribute names with
//    no defaults.
//  * Defaults: transformers writes a nested sub-config as a diff against its class defaults (a
//    Gemma 3 `text_config` omits num_attention_heads 8 and vocab_size 262208), so inside
//    `text_config` every absent key takes the class default. A top-level config always states its
//    model-specific sizes, so there num_hidden_layers, hidden_size, num_attention_heads,
//    vocab_size and intermediate_size are required; secondary keys (num_key_value_heads,
//    head_dim, max_position_embeddings, tie_word_embeddings, biases, windows) take the class
//    default when absent.
//  * `max_position_embeddings` is vLLM's: the minimum over the length keys present, overridden by
//    `model_max_length` (vllm-memory-model.md §7); `rope_scaling` (or transformers 5's
//    `rope_parameters`) is kept for the default max_model_len.
//  * `quantization_config` (awq, gptq, auto-round, fp8 with or without weight_block_size,
//    fbgemm_fp8, compressed-tensors int8/fp8/w4a16/nvfp4 by config_groups, bitsandbytes 4/8-bit,
//    mxfp4, modelopt FP8/NVFP4) becomes the `quantization` object.
//  * Missing, wrongly typed or contradictory values are invalid_argument errors naming the HF
//    field (e.g. "hf_config.text_config.num_key_value_heads"); layer layouts the calculator cannot
//    express (sliding windows on an irregular set of layers, an unknown quantization method) are
//    `unsupported` errors naming the field.
// Pure, no I/O; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct hf_conversion {
  arch_spec spec;
  nlohmann::json canonical;  // the same values under data/schema.md's keys
  std::string model_type;    // the text model's model_type
};

// `field_prefix` names the object in errors, with its trailing dot ("hf_config.").
result<hf_conversion> convert_hf_config(const nlohmann::json& config,
                                        const std::string& field_prefix);

result<arch_spec> arch_from_hf_config(const nlohmann::json& config,
                                      const std::string& field_prefix);

}  // namespace vllm_mem
