// api/vllm_command.cpp — `vllm serve ...` as request fields (vllm_command.hpp). The flag names and
// their meaning follow vLLM's EngineArgs (vllm/engine/arg_utils.py add_cli_args) and the API
// server's own arguments (vllm/entrypoints/openai/cli_args.py).
#include "vllm_mem/api/vllm_command.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "vllm_mem/model/dtype.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

enum class value_kind : std::uint8_t { integer, number, text, boolean, length, integer_list };

// A flag that sets a request field.
struct field_flag {
  std::array<std::string_view, 3> names;  // without the leading dashes; "" for unused slots
  const char* field;
  value_kind kind;
};

// clang-format off
constexpr field_flag kFieldFlags[] = {
    {{"model", "", ""},                               "model_name",              value_kind::text},
    {{"max-model-len", "", ""},                       "max_model_len",           value_kind::length},
    {{"tensor-parallel-size", "tp", ""},              "tensor_parallel_size",    value_kind::integer},
    {{"pipeline-parallel-size", "pp", ""},            "pipeline_parallel_size",  value_kind::integer},
    {{"gpu-memory-utilization", "", ""},              "gpu_memory_utilization",  value_kind::number},
    {{"kv-cache-dtype", "", ""},                      "kv_cache_dtype",          value_kind::text},
    {{"dtype", "", ""},                               "dtype",                   value_kind::text},
    {{"quantization", "q", ""},                       "quantization",            value_kind::text},
    {{"max-num-seqs", "", ""},                        "max_num_seqs",            value_kind::integer},
    {{"max-num-batched-tokens", "", ""},              "max_num_batched_tokens",  value_kind::integer},
    {{"block-size", "", ""},                          "block_size",              value_kind::integer},
    {{"enforce-eager", "", ""},                       "enforce_eager",           value_kind::boolean},
    {{"enable-expert-parallel", "", ""},              "enable_expert_parallel",  value_kind::boolean},
    {{"enable-lora", "", ""},                         "enable_lora",             value_kind::boolean},
    {{"max-loras", "", ""},                           "max_loras",               value_kind::integer},
    {{"max-lora-rank", "", ""},                       "max_lora_rank",           value_kind::integer},
    {{"max-cpu-loras", "", ""},                       "max_cpu_loras",           value_kind::integer},
    {{"lora-dtype", "", ""},                          "lora_dtype",              value_kind::text},
    {{"fully-sharded-loras", "", ""},                 "fully_sharded_loras",     value_kind::boolean},
    {{"kv-cache-memory", "kv-cache-memory-bytes", ""}, "kv_cache_memory_bytes",  value_kind::integer},
    {{"max-cudagraph-capture-size", "", ""},          "max_cudagraph_capture_size", value_kind::integer},
    {{"cudagraph-capture-sizes", "", ""},             "cudagraph_capture_sizes", value_kind::integer_list},
};

// A flag vLLM knows that does not change what the estimate models.
struct other_flag {
  std::string_view name;
  bool takes_value;
  const char* reason;
};

constexpr const char* kNoMemory = "does not change GPU memory";
constexpr const char* kHostOnly = "host memory only";
constexpr const char* kNotModelled = "changes memory in ways the calculator does not model yet";

constexpr other_flag kOtherFlags[] = {
    {"host", true, kNoMemory},                       {"port", true, kNoMemory},
    {"served-model-name", true, kNoMemory},          {"api-key", true, kNoMemory},
    {"trust-remote-code", false, kNoMemory},         {"tokenizer", true, kNoMemory},
    {"tokenizer-mode", true, kNoMemory},             {"revision", true, kNoMemory},
    {"download-dir", true, kNoMemory},               {"load-format", true, kNoMemory},
    {"safetensors-load-strategy", true, kNoMemory},  {"chat-template", true, kNoMemory},
    {"tool-call-parser", true, kNoMemory},           {"reasoning-parser", true, kNoMemory},
    {"enable-auto-tool-choice", false, kNoMemory},   {"uvicorn-log-level", true, kNoMemory},
    {"disable-log-requests", false, kNoMemory},      {"disable-log-stats", false, kNoMemory},
    {"enable-log-requests", false, kNoMemory},       {"seed", true, kNoMemory},
    {"generation-config", true, kNoMemory},          {"max-logprobs", true, kNoMemory},
    {"disable-fastapi-docs", false, kNoMemory},      {"root-path", true, kNoMemory},
    {"ssl-keyfile", true, kNoMemory},                {"ssl-certfile", true, kNoMemory},
    {"allowed-origins", true, kNoMemory},            {"response-role", true, kNoMemory},
    {"enable-prompt-tokens-details", false, kNoMemory},
    {"enable-force-include-usage", false, kNoMemory},
    {"override-generation-config", true, kNoMemory}, {"hf-overrides", true, kNotModelled},
    {"swap-space", true, kHostOnly},                 {"cpu-offload-gb", true, kNotModelled},
    {"enable-prefix-caching", false, kNotModelled},  {"enable-chunked-prefill", false, kNoMemory},
    {"async-scheduling", false, kNoMemory},          {"moe-backend", true, kNoMemory},
    {"attention-backend", true, kNoMemory},          {"disable-custom-all-reduce", false, kNotModelled},
    {"limit-mm-per-prompt", true, kNotModelled},     {"mm-encoder-tp-mode", true, kNotModelled},
    {"speculative-config", true, kNotModelled},      {"compilation-config", true, kNotModelled},
    {"kv-transfer-config", true, kNotModelled},      {"distributed-executor-backend", true, kNoMemory},
    {"data-parallel-size", true, kNotModelled},      {"max-seq-len-to-capture", true, kNotModelled},
    {"scheduling-policy", true, kNoMemory},          {"guided-decoding-backend", true, kNoMemory},
    {"structured-outputs-config", true, kNoMemory},  {"enable-sleep-mode", false, kNotModelled},
};
// clang-format on

// Shell words: whitespace splits; '...' is literal; "..." keeps spaces, with \" \\ \$ \` escaped;
// a backslash outside quotes escapes the next character (a backslash-newline joins lines).
result<std::vector<std::string>> shell_words(std::string_view s, const std::string& field) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 1 < s.size() && s[i + 1] == '\n') {
        ++i;
        continue;
      }
      if (i + 1 < s.size()) cur += s[++i];
      in_word = true;
    } else if (c == '\'') {
      const std::size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos)
        return make_error(error_code::invalid_argument,
                          "'" + field + "' has an unclosed single quote", field);
      cur.append(s.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < s.size() && s[j] != '"'; ++j) {
        if (s[j] == '\\' && j + 1 < s.size() &&
            (s[j + 1] == '"' || s[j + 1] == '\\' || s[j + 1] == '$' || s[j + 1] == '`')) {
          ++j;
        }
        cur += s[j];
      }
      if (j >= s.size())
        return make_error(error_code::invalid_argument,
                          "'" + field + "' has an unclosed double quote", field);
      i = j;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

// The position of vLLM's own arguments: after `vllm serve`, the API server module, or the
// vllm/vllm-openai image of a `docker run` (whose entrypoint is the API server).
std::size_t args_start(const std::vector<std::string>& w) {
  std::size_t i = 0;
  while (i < w.size() && w[i].find('=') != std::string::npos && w[i][0] != '-') ++i;  // VAR=x
  for (std::size_t k = i; k < w.size(); ++k) {
    if ((w[k] == "vllm" || (w[k].size() > 5 && w[k].substr(w[k].size() - 5) == "/vllm")) &&
        k + 1 < w.size() && w[k + 1] == "serve")
      return k + 2;
    if (w[k] == "vllm.entrypoints.openai.api_server" || w[k] == "vllm.entrypoints.api_server")
      return k + 1;
    if (w[k].rfind("vllm/vllm-openai", 0) == 0) return k + 1;
  }
  return i;
}

std::string normalized(std::string_view name) {
  std::string n(name);
  for (char& c : n) {
    if (c == '_') c = '-';
  }
  return n;
}

const field_flag* find_field_flag(std::string_view name) {
  for (const auto& f : kFieldFlags) {
    for (std::string_view n : f.names) {
      if (!n.empty() && n == name) return &f;
    }
  }
  return nullptr;
}

const other_flag* find_other_flag(std::string_view name) {
  for (const auto& f : kOtherFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// "32768", "32k", "1M" (vLLM's human-readable max_model_len), "auto" or -1.
result<json> length_value(const std::string& v, const std::string& flag, const std::string& field) {
  if (v == "auto" || v == "-1") return json("auto");
  // vLLM's human_readable_int (arg_utils.py): k and m are decimal, K and M binary.
  std::uint64_t mult = 1;
  std::string digits = v;
  if (!digits.empty()) {
    const char last = digits.back();
    mult = last == 'k'   ? 1000
           : last == 'K' ? 1024
           : last == 'm' ? 1000000
           : last == 'M' ? 1048576
                         : 1;
    if (mult > 1) digits.pop_back();
  }
  const bool all_digits = !digits.empty() && digits.size() <= 12 &&
                          digits.find_first_not_of("0123456789") == std::string::npos;
  if (!all_digits)
    return make_error(error_code::invalid_argument,
                      "'" + field + "': " + flag + " must be a token count, got '" + v + "'",
                      field);
  return json(std::stoull(digits) * mult);
}

result<json> typed_value(const field_flag& f, const std::string& v, const std::string& flag,
                         const std::string& field) {
  auto bad = [&](const char* what) {
    return make_error(error_code::invalid_argument,
                      "'" + field + "': " + flag + " must be " + what + ", got '" + v + "'", field);
  };
  switch (f.kind) {
    case value_kind::text:
      return json(v);
    case value_kind::length:
      return length_value(v, flag, field);
    case value_kind::integer: {
      if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
        return bad("a non-negative integer");
      return json(std::stoull(v));
    }
    case value_kind::number: {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size()) return bad("a number");
      return json(x);
    }
    case value_kind::boolean: {
      if (iequals(v, "true") || v == "1") return json(true);
      if (iequals(v, "false") || v == "0") return json(false);
      return bad("true or false");
    }
    case value_kind::integer_list: {
      // "1,2,4,8", "[1, 2, 4]" or space-separated words joined by the caller.
      json list = json::array();
      std::string num;
      for (char c : v + ",") {
        if (c >= '0' && c <= '9') {
          num += c;
        } else if (c == ',' || c == ' ' || c == '[' || c == ']') {
          if (!num.empty()) list.push_back(std::stoull(num.substr(0, 12)));
          num.clear();
        } else {
          return bad("a list of integers");
        }
      }
      return list;
    }
  }
  return bad("a value");
}

}  // namespace

result<vllm_command> parse_vllm_command(std::string_view text, const std::string& field) {
  if (text.size() > 16384)
    return make_error(error_code::invalid_argument,
                      "'" + field + "' must be at most 16384 characters", field);
  auto words = shell_words(text, field);
  if (!words) return words.err();
  const std::vector<std::string>& w = *words;
  vllm_command out;
  std::size_t i = args_start(w);
  for (; i < w.size(); ++i) {
    const std::string& word = w[i];
    if (word.empty()) continue;
    if (word[0] != '-') {
      // The model, positional (`vllm serve MODEL`) or the old image's `--model` value.
      if (out.fields.contains("model_name"))
        return make_error(error_code::invalid_argument,
                          "'" + field + "': unexpected argument '" + word + "'", field);
      out.fields["model_name"] = word;
      continue;
    }
    const std::size_t dashes = word.size() > 1 && word[1] == '-' ? 2 : 1;
    std::string name = word.substr(dashes);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const std::string flag = std::string(dashes, '-') + name;
    name = normalized(name);
    bool negated = false;
    const field_flag* ff = find_field_flag(name);
    const other_flag* of = ff ? nullptr : find_other_flag(name);
    if (!ff && !of && name.rfind("no-", 0) == 0) {
      negated = true;
      ff = find_field_flag(name.substr(3));
      of = ff ? nullptr : find_other_flag(name.substr(3));
      if ((ff && ff->kind != value_kind::boolean) || (of && of->takes_value)) {
        ff = nullptr;  // --no- only negates a boolean flag
        of = nullptr;
      }
    }
    if (!ff && !of) {
      return make_error(
          error_code::invalid_argument,
          "'" + field + "': unrecognized argument " + flag + " (vLLM's parser refuses it too)",
          field);
    }
    const bool boolean = ff ? ff->kind == value_kind::boolean : !of->takes_value;
    if (!value && !boolean && !negated) {
      if (i + 1 >= w.size())
        return make_error(error_code::invalid_argument,
                          "'" + field + "': " + flag + " expects a value", field);
      value = w[++i];
      // A list flag takes the following words that are numbers (--cudagraph-capture-sizes 1 2 4).
      if (ff && ff->kind == value_kind::integer_list) {
        while (i + 1 < w.size() && !w[i + 1].empty() &&
               w[i + 1].find_first_not_of("0123456789,") == std::string::npos) {
          *value += "," + w[++i];
        }
      }
    }
    if (of) {
      out.ignored.push_back({flag, of->reason});
      continue;
    }
    if (ff->kind == value_kind::boolean) {
      json b = !negated;
      if (value && !negated) {
        auto t = typed_value(*ff, *value, flag, field);
        if (!t) return t.err();
        b = std::move(*t);
      }
      out.fields[ff->field] = std::move(b);
      continue;
    }
    auto v = typed_value(*ff, *value, flag, field);
    if (!v) return v.err();
    out.fields[ff->field] = std::move(*v);
  }
  if (!out.fields.contains("model_name"))
    return make_error(error_code::invalid_argument,
                      "'" + field + "' names no model (vllm serve MODEL, or --model MODEL)", field);
  return out;
}

}  // namespace vllm_mem
