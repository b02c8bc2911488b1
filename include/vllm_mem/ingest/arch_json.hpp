// ingest/arch_json.hpp — the canonical architecture keys (data/schema.md) as JSON.
//
// Contract:
//  * `parse_arch_spec` decodes an object of canonical keys (a database entry's `architecture`, a
//    converted config.json, a request's `architecture`) strictly: unknown keys, wrong types and
//    out-of-range values are errors naming the field (prefixed with `field_prefix`, e.g.
//    "architecture."). The bounds keep every byte count of the physics exact in 64 bits.
//  * `arch_keys` lists the accepted keys (for "did you mean" hints).
//  * `write_json(model_arch)` / `to_json(model_arch)` write the resolved values under the same
//    keys (what the response's `architecture_used` echoes).
// Pure, thread-safe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

const std::vector<std::string>& arch_keys();

result<arch_spec> parse_arch_spec(const nlohmann::json& j, const std::string& field_prefix);

class json_writer;
void write_json(json_writer& w, const model_arch& a);
nlohmann::json to_json(const model_arch& a);

}  // namespace vllm_mem
