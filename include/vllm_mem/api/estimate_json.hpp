// api/estimate_json.hpp — the /estimate-gpu-memory wire format.
//
// Contract:
//  * `parse_estimate_request` decodes a request object strictly: every seed field with its
//    defaults (dtype float16, max_batch_size 32, max_model_len = max_seq_len,
//    gpu_memory_utilization 0.9, kv_cache_dtype = dtype), plus the deployment fields of vLLM
//    (gpu / gpu_memory_gib, tensor_parallel_size, pipeline_parallel_size, max_num_batched_tokens,
//    block_size, enforce_eager, vllm_version, vllm_engine, enable_expert_parallel), hf_config
//    (a Hugging Face config.json, converted by ingest/hf_config.hpp) and safetensors (the
//    checkpoint's exact tensor bytes, ingest/safetensors.hpp). Unknown fields, wrong types and
//    broken rules are errors naming the field and the rule.
//  * `append_json` writes the response body as compact JSON text (util/json_writer.hpp); the API,
//    the CLI's --json and the accuracy scorer all print this text. `to_json` is the same text as a
//    DOM. The `_gb` fields are decimal GB (1e9) rounded to 2 decimals, `vllm_startup`'s `_gib`
//    fields GiB (2^30), as vLLM prints them.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

// The request fields, for "did you mean" hints and docs.
const std::vector<std::string>& estimate_request_fields();

result<estimate_request> parse_estimate_request(const nlohmann::json& body);

void append_json(std::string& out, const estimate_result& e);
nlohmann::json to_json(const estimate_result& e);

// GET /versions: the vLLM profiles (vllm/profile.hpp profile_rows) with their switches, default
// runner rule, budget rule and calibration status.
nlohmann::json versions_json();

// Decodes a positive integer request field (2048.0 is accepted as 2048) of at most `max`, with
// the decoder's messages; shared by the other request decoders (api/plan_json.hpp).
result<std::uint64_t> decode_positive_int(const nlohmann::json& v, const std::string& field,
                                          std::uint64_t max);

}  // namespace vllm_mem
