// api/plan_json.hpp — the planner's wire format: /plan, /solve, /sweep and /placement request
// decoding and response writing, translating to and from the planner's typed values.
//
// Contract:
//  * Decoders are strict like parse_estimate_request (whose decoder they reuse for the shared
//    estimate fields): unknown fields, wrong types and broken rules are errors naming the field.
//    They keep the client's estimate fields as sent (`estimate_body`), because an answer's
//    `estimate_request` repeats them (an hf_config object, 2048.0 written as 2048.0).
//  * An answer's `estimate_request` is the /estimate-gpu-memory body of its setup_request: the
//    client's estimate fields with the setup's values written over them (setup.hpp says which);
//    it decodes to the setup's request, so posting it reproduces the setup's figures.
//  * `to_json` writes each answer; objects print their keys in sorted order (nlohmann's std::map).
// Pure (catalogs passed in), thread-safe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/ingest/gpu_catalog.hpp"
#include "vllm_mem/plan/placement.hpp"
#include "vllm_mem/plan/plan.hpp"
#include "vllm_mem/plan/setup.hpp"
#include "vllm_mem/plan/solve.hpp"
#include "vllm_mem/plan/sweep.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

// The client's estimate fields, as sent (max_seq_len too, when given; else it is the request's).
struct estimate_body {
  nlohmann::json fields;
};

// Decodes a `prices` object ({"H100-80GB": 2.5, ...}; names as the catalog accepts them).
result<gpu_prices> parse_gpu_prices(const nlohmann::json& v, const gpu_catalog& gpus,
                                    const std::string& field = "prices");

// The plan-only fields (besides the estimate's).
const std::vector<std::string>& plan_request_fields();

// A body's vllm_command sets the fields it names, the body's own over them
// (api/vllm_command.hpp).
result<plan_request> parse_plan_request(const nlohmann::json& body, const gpu_catalog& gpus);
result<solve_request> parse_solve_request(const nlohmann::json& body, const gpu_catalog& gpus);
result<placement_request> parse_placement_request(const nlohmann::json& body,
                                                  const gpu_catalog& gpus);
result<sweep_request> parse_sweep_request(const nlohmann::json& body, const gpu_catalog& gpus);

// The /estimate-gpu-memory body of a setup (an answer's `estimate_request`).
nlohmann::json to_json(const setup_request& s);

nlohmann::json to_json(const plan_result& p);
nlohmann::json to_json(const solve_result& s);
nlohmann::json to_json(const placement_result& p);
nlohmann::json to_json(const sweep_result& s);

// `answer` with "ignored_flags" when the request came from a vllm_command (plan, solve, sweep).
nlohmann::json with_ignored_flags(const plan_request& r, nlohmann::json answer);

}  // namespace vllm_mem
