// api/vllm_command.hpp — a `vllm serve` command line as request fields.
//
// Contract: `parse_vllm_command` splits the text as a POSIX shell would (quotes, backslashes,
// line continuations), skips what launches vLLM (`vllm serve`, `python -m
// vllm.entrypoints.openai.api_server`, `docker run ... vllm/vllm-openai[:tag]`, leading `VAR=value`
// assignments), and maps each vLLM flag (`vllm/engine/arg_utils.py` EngineArgs: long names with
// dashes or underscores, `--flag=value` or `--flag value`, `--no-flag` for booleans, the short
// `-tp`, `-pp`, `-q`) to the request field of the same meaning. Flags that do not change GPU
// memory, or whose effect the calculator does not model, come back in `ignored` with the reason;
// a flag vLLM does not know is an error naming it, as vLLM's parser refuses it. Pure; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct ignored_flag {
  std::string flag;    // as written, e.g. "--port"
  std::string reason;  // why it does not change the estimate
};

struct vllm_command {
  nlohmann::json fields = nlohmann::json::object();  // request fields the command sets
  std::vector<ignored_flag> ignored;
};

// A token count as vLLM's human_readable_int reads it (arg_utils.py): digits, optionally followed
// by k or m (decimal: 32k = 32000) or K or M (binary: 32K = 32768); nullopt otherwise. The CLI's
// length flags read the same way.
std::optional<std::uint64_t> human_readable_tokens(std::string_view text);

// `field` names the request field in errors ("vllm_command").
result<vllm_command> parse_vllm_command(std::string_view text, const std::string& field);

// A request body with a "vllm_command": the fields the command sets, the body's own fields over
// them, the command itself removed; a numeric --max-model-len also sets max_seq_len when the body
// has none. The command's ignored flags come back as "flag: reason". The one place the estimate,
// plan, solve and sweep requests take a command.
struct merged_command {
  nlohmann::json body;
  std::vector<std::string> ignored_flags;
};
result<merged_command> merge_vllm_command(const nlohmann::json& body);

}  // namespace vllm_mem
