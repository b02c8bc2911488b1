// api/vllm_command.cpp — `vllm serve ...` as request fields (vllm_command.hpp). The flag names and
// their meaning follow vLLM's EngineArgs (vllm/engine/arg_utils.py add_cli_args) and the API
// server's own arguments (vllm/entrypoints/openai/cli_args.py).
#include "vllm_mem/api/vllm_command.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "vllm_flags.hpp"
#include "vllm_mem/model/dtype.hpp"
#include "vllm_mem/util/json_limits.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

// compilation: --compilation-config / -cc, a JSON object (or one key of it, dotted).
// modality_counts: --limit-mm-per-prompt, its text for the request field to read, or one
// modality's count, dotted (--limit-mm-per-prompt.video 0). speculative: --speculative-config,
// the same way (its JSON text, or one key dotted: --speculative-config.method mtp).
enum class value_kind : std::uint8_t {
  integer,
  number,
  text,
  boolean,
  length,
  integer_list,
  compilation,
  modality_counts,
  speculative
};

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
    {{"enable-expert-parallel", "ep", ""},            "enable_expert_parallel",  value_kind::boolean},
    {{"enable-lora", "", ""},                         "enable_lora",             value_kind::boolean},
    {{"max-loras", "", ""},                           "max_loras",               value_kind::integer},
    {{"max-lora-rank", "", ""},                       "max_lora_rank",           value_kind::integer},
    {{"max-cpu-loras", "", ""},                       "max_cpu_loras",           value_kind::integer},
    {{"lora-dtype", "", ""},                          "lora_dtype",              value_kind::text},
    {{"fully-sharded-loras", "", ""},                 "fully_sharded_loras",     value_kind::boolean},
    {{"kv-cache-memory", "kv-cache-memory-bytes", ""}, "kv_cache_memory_bytes",  value_kind::integer},
    {{"cpu-offload-gb", "", ""},                      "cpu_offload_gb",          value_kind::number},
    {{"limit-mm-per-prompt", "", ""},                 "limit_mm_per_prompt",     value_kind::modality_counts},
    {{"speculative-config", "sc", ""},                "speculative_config",      value_kind::speculative},
    {{"max-cudagraph-capture-size", "", ""},          "max_cudagraph_capture_size", value_kind::integer},
    {{"cudagraph-capture-sizes", "", ""},             "cudagraph_capture_sizes", value_kind::integer_list},
    {{"compilation-config", "cc", ""},                "",                        value_kind::compilation},
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

// The words of a Kubernetes container's `args:` (a flow list `["--model", "x"]` or a block list
// of `- item` lines), or nullopt when the text is not one. A single item holding a whole command
// (`args: ["vllm serve MODEL --flag ..."]`, run through a shell) is split as the shell would.
std::optional<std::vector<std::string>> kubernetes_args(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  s.remove_prefix(first);
  if (s.rfind("args:", 0) == 0) s.remove_prefix(5);
  const auto start = s.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return std::nullopt;
  s.remove_prefix(start);
  std::vector<std::string> items;
  if (s.front() == '[') {
    auto list = parse_json_strict(s);
    if (!list || !list->is_array()) return std::nullopt;
    for (const auto& x : *list) {
      if (!x.is_string()) return std::nullopt;
      items.push_back(x.get<std::string>());
    }
  } else if (s.front() == '-' && s.size() > 1 && s[1] == ' ') {
    std::size_t pos = 0;
    while (pos < s.size()) {
      const auto end = std::min(s.find('\n', pos), s.size());
      std::string_view line = s.substr(pos, end - pos);
      pos = end + 1;
      const auto b = line.find_first_not_of(" \t");
      if (b == std::string_view::npos) continue;
      line.remove_prefix(b);
      if (line.rfind("- ", 0) != 0) return std::nullopt;
      std::string item(line.substr(2));
      while (!item.empty() && (item.back() == ' ' || item.back() == '\r')) item.pop_back();
      if (item.size() >= 2 && (item.front() == '"' || item.front() == '\'') &&
          item.back() == item.front())
        item = item.substr(1, item.size() - 2);
      items.push_back(std::move(item));
    }
  } else {
    return std::nullopt;
  }
  return items;
}

// Where vLLM's own arguments start: after `vllm serve`, the API server module, or the
// vllm/vllm-openai image of a `docker run` (whose entrypoint is the API server). The environment
// the command sets on the way (leading VAR=value words, docker's -e/--env) goes into `env`.
std::size_t args_start(const std::vector<std::string>& w,
                       std::vector<std::pair<std::string, std::string>>& env) {
  auto assignment = [](const std::string& x) {
    const auto eq = x.find('=');
    return eq != std::string::npos && eq > 0 && x[0] != '-' &&
           x.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
               eq;
  };
  auto add_env = [&env](const std::string& x) {
    const auto eq = x.find('=');
    if (eq != std::string::npos) env.emplace_back(x.substr(0, eq), x.substr(eq + 1));
  };
  std::size_t i = 0;
  for (; i < w.size() && assignment(w[i]); ++i) add_env(w[i]);
  const std::size_t after_env = i;
  bool docker = false;
  for (std::size_t k = i; k < w.size(); ++k) {
    if (w[k] == "docker" || w[k] == "podman") docker = true;
    if (docker && (w[k] == "-e" || w[k] == "--env") && k + 1 < w.size()) add_env(w[k + 1]);
    if (docker && w[k].rfind("--env=", 0) == 0) add_env(w[k].substr(6));
    if ((w[k] == "vllm" || (w[k].size() > 5 && w[k].substr(w[k].size() - 5) == "/vllm")) &&
        k + 1 < w.size() && w[k + 1] == "serve")
      return k + 2;
    if (w[k] == "vllm.entrypoints.openai.api_server" || w[k] == "vllm.entrypoints.api_server")
      return k + 1;
    if (w[k].rfind("vllm/vllm-openai", 0) == 0) return k + 1;
  }
  return after_env;
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

// "32768", "32k", "1M" (vLLM's human-readable max_model_len), "auto" or -1.
result<json> length_value(const std::string& v, const std::string& flag, const std::string& field) {
  if (v == "auto" || v == "-1") return json("auto");
  const auto n = human_readable_tokens(v);
  if (!n)
    return make_error(error_code::invalid_argument,
                      "'" + field + "': " + flag + " must be a token count, got '" + v + "'",
                      field);
  return json(*n);
}

// A --speculative-config whose drafter is a separate checkpoint (a draft model, an EAGLE head:
// the method vLLM's SpeculativeConfig.__post_init__ infers when none is given) is listed as not
// modelled rather than refused, so the rest of a real command line still gives its estimate.
// vLLM's deprecated MTP model types (deepseek_mtp, qwen3_next_mtp, ...) mean "mtp".
void keep_modelled_speculation(const std::string& flag, vllm_command& out) {
  const auto it = out.fields.find("speculative_config");
  if (it == out.fields.end()) return;
  json j = it->is_string() ? json::parse(it->get<std::string>(), nullptr, false) : *it;
  if (!j.is_object()) return;  // the request decoder names what is wrong with it
  std::string method;
  if (const auto m = j.find("method"); m != j.end() && m->is_string()) {
    method = m->get<std::string>();
  } else if (const auto m2 = j.find("model"); m2 != j.end() && m2->is_string()) {
    method = m2->get<std::string>() == "ngram" ? "ngram" : "draft_model";
    if (method == "ngram") j.erase("model");
    j["method"] = method;
  }
  const bool mtp = method.size() > 4 && method.compare(method.size() - 4, 4, "_mtp") == 0;
  if (mtp) j["method"] = "mtp";
  if (mtp || method.empty() || method == "mtp" || method == "ngram" || method == "[ngram]" ||
      method == "ngram_gpu" || method == "suffix") {
    *it = j;
    return;
  }
  out.ignored.push_back({flag, "changes GPU memory in a way the calculator does not model: the " +
                                   method + " drafter's own weights and KV"});
  out.fields.erase(it);
}

result<json> typed_value(const field_flag& f, const std::string& v, const std::string& flag,
                         const std::string& field) {
  auto bad = [&](const char* what) {
    return make_error(error_code::invalid_argument,
                      "'" + field + "': " + flag + " must be " + what + ", got '" + v + "'", field);
  };
  switch (f.kind) {
    case value_kind::text:
    case value_kind::compilation:  // read by compilation_fields
    case value_kind::modality_counts:
    case value_kind::speculative:
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

// --compilation-config: the keys that change what the estimate models (cudagraph_mode and the
// capture sizes, vllm/config/compilation.py CompilationConfig) become fields; the rest is listed
// as not modelled. `key` is the dotted form's key ("" for a whole JSON object).
status compilation_fields(const std::string& key, const std::string& v, const std::string& flag,
                          const std::string& field, vllm_command& out) {
  json obj = json::object();
  if (key.empty()) {
    auto parsed = parse_json_strict(v);
    if (!parsed || !parsed->is_object()) {
      // vLLM also takes a bare optimization level here (-cc 3); it is not modelled.
      if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) {
        out.ignored.push_back({flag,
                               "the compilation level does not change what the estimate "
                               "models (CUDA graphs follow cudagraph_mode)"});
        return ok_status();
      }
      return make_error(error_code::invalid_argument,
                        "'" + field + "': " + flag + " must be a JSON object, got '" + v + "'",
                        field);
    }
    obj = std::move(*parsed);
  } else {
    auto parsed = parse_json_strict(v);
    obj[key] = parsed ? std::move(*parsed) : json(v);
  }
  static const field_flag kSizes{{"", "", ""}, "cudagraph_capture_sizes", value_kind::integer_list};
  static const field_flag kMax{{"", "", ""}, "max_cudagraph_capture_size", value_kind::integer};
  for (const auto& [k, x] : obj.items()) {
    const std::string text = x.is_string() ? x.get<std::string>() : x.dump();
    if (k == "cudagraph_mode" && x.is_string()) {
      out.fields["cudagraph_mode"] = text;
    } else if (k == "cudagraph_capture_sizes" || k == "max_cudagraph_capture_size") {
      auto t = typed_value(k == "cudagraph_capture_sizes" ? kSizes : kMax, text, flag, field);
      if (!t) return t.err();
      out.fields[k] = std::move(*t);
    } else {
      out.ignored.push_back({flag + (key.empty() ? " " + k : ""),
                             "a compilation option whose effect on memory the calculator does "
                             "not model"});
    }
  }
  return ok_status();
}

// The environment a command sets: VLLM_USE_V1 picks the engine; CUDA_VISIBLE_DEVICES (or
// HIP_VISIBLE_DEVICES) is how many GPUs vLLM sees, which must hold tensor x pipeline parallel;
// the rest is listed (vllm/envs.py).
status apply_environment(const std::vector<std::pair<std::string, std::string>>& env,
                         const std::string& field, vllm_command& out) {
  for (const auto& [name, v] : env) {
    const std::string shown = name + "=" + v;
    if (name == "VLLM_USE_V1" && (v == "0" || v == "1")) {
      if (!out.fields.contains("vllm_engine")) out.fields["vllm_engine"] = v == "0" ? "v0" : "v1";
    } else if (name == "CUDA_VISIBLE_DEVICES" || name == "HIP_VISIBLE_DEVICES") {
      std::uint64_t visible = 0;
      for (std::size_t pos = 0; pos <= v.size();) {
        const auto comma = std::min(v.find(',', pos), v.size());
        if (comma > pos) ++visible;
        pos = comma + 1;
      }
      auto size_of = [&](const char* k) {
        return out.fields.contains(k) && out.fields[k].is_number_unsigned()
                   ? out.fields[k].get<std::uint64_t>()
                   : std::uint64_t{1};
      };
      const std::uint64_t needed =
          size_of("tensor_parallel_size") * size_of("pipeline_parallel_size");
      if (needed > visible) {
        return make_error(error_code::invalid_argument,
                          "'" + field + "': " + shown + " shows vLLM " + std::to_string(visible) +
                              " GPU(s), fewer than tensor x pipeline parallel (" +
                              std::to_string(needed) + "); vLLM would stop at start",
                          field);
      }
      out.ignored.push_back({shown, "the GPUs vLLM sees (" + std::to_string(visible) +
                                        ", enough for the parallel sizes)"});
    } else if (name.rfind("VLLM_", 0) == 0) {
      out.ignored.push_back({shown,
                             "a vLLM setting whose effect on memory the calculator does "
                             "not model"});
    } else {
      out.ignored.push_back({shown, "an environment variable vLLM's memory does not depend on"});
    }
  }
  return ok_status();
}

}  // namespace

std::optional<std::uint64_t> human_readable_tokens(std::string_view text) {
  std::uint64_t mult = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    const char last = digits.back();
    mult = last == 'k'   ? 1000
           : last == 'K' ? 1024
           : last == 'm' ? 1000000
           : last == 'M' ? 1048576
                         : 1;
    if (mult > 1) digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 12 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return std::stoull(std::string(digits)) * mult;
}

result<vllm_command> parse_vllm_command(std::string_view text, const std::string& field) {
  if (text.size() > 16384)
    return make_error(error_code::invalid_argument,
                      "'" + field + "' must be at most 16384 characters", field);
  std::vector<std::string> w;
  if (auto k8s = kubernetes_args(text)) {
    if (k8s->size() == 1 && k8s->front().find(' ') != std::string::npos) {
      auto words = shell_words(k8s->front(), field);
      if (!words) return words.err();
      w = std::move(*words);
    } else {
      w = std::move(*k8s);
    }
  } else {
    auto words = shell_words(text, field);
    if (!words) return words.err();
    w = std::move(*words);
  }
  vllm_command out;
  std::vector<std::pair<std::string, std::string>> env;
  std::size_t i = args_start(w, env);
  std::string speculative_flag = "--speculative-config";  // as the command spells it
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
    // vLLM's parser: -O3 is --optimization-level 3; --compilation-config.key value (and -cc.key)
    // sets one key of a JSON-valued flag.
    std::string key;
    if (dashes == 1 && name.size() > 1 && name[0] == 'O' &&
        name.find_first_not_of("0123456789", 1) == std::string::npos) {
      value = name.substr(1);
      name = "O";
    } else if (const auto dot = name.find('.'); dot != std::string::npos) {
      key = name.substr(dot + 1);
      name.resize(dot);
    }
    name = normalized(name);
    bool negated = false;
    const field_flag* ff = find_field_flag(name);
    const other_flag* of = ff ? nullptr : find_other_flag(name);
    if (!ff && !of && key.empty() && name.rfind("no-", 0) == 0) {
      negated = true;
      ff = find_field_flag(name.substr(3));
      of = ff ? nullptr : find_other_flag(name.substr(3));
      if ((ff && ff->kind != value_kind::boolean) || (of && of->takes_value)) {
        ff = nullptr;  // --no- only negates a boolean flag
        of = nullptr;
      }
    }
    const bool json_valued =
        (ff && (ff->kind == value_kind::compilation || ff->kind == value_kind::modality_counts ||
                ff->kind == value_kind::speculative)) ||
        (of && of->takes_value);
    if ((!ff && !of) || (!key.empty() && !json_valued)) {
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
    if (ff->kind == value_kind::compilation) {
      if (auto s = compilation_fields(key, *value, flag, field, out); !s) return s.err();
      continue;
    }
    if (ff->kind == value_kind::speculative) speculative_flag = flag;
    if (ff->kind == value_kind::modality_counts || ff->kind == value_kind::speculative) {
      // The whole value is the request field's text (estimate_request.cpp decode_mm_limits and
      // decode_speculative read and check it); a dotted key adds one key to an object.
      json& f = out.fields[ff->field];
      if (key.empty()) {
        f = *value;
        continue;
      }
      if (f.is_string()) f = json::parse(f.get<std::string>(), nullptr, false);
      if (!f.is_object()) f = json::object();
      const bool digits = !value->empty() && value->size() <= 7 &&
                          value->find_first_not_of("0123456789") == std::string::npos;
      f[key] = digits ? json(std::stoull(*value)) : json(*value);
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
  keep_modelled_speculation(speculative_flag, out);
  if (auto s = apply_environment(env, field, out); !s) return s.err();
  return out;
}

result<merged_command> merge_vllm_command(const json& body) {
  const auto vc = body.find("vllm_command");
  if (vc == body.end() || !vc->is_string()) {
    return make_error(error_code::invalid_argument,
                      "'vllm_command' must be a string (a vllm serve command line)",
                      "vllm_command");
  }
  auto cmd = parse_vllm_command(vc->get_ref<const std::string&>(), "vllm_command");
  if (!cmd) return cmd.err();
  merged_command out;
  out.body = std::move(cmd->fields);
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "vllm_command") out.body[it.key()] = *it;
  }
  // vLLM's max_model_len is the workload's sequence length when the body gives none.
  if (!out.body.contains("max_seq_len") && out.body.contains("max_model_len") &&
      out.body["max_model_len"].is_number_unsigned()) {
    out.body["max_seq_len"] = out.body["max_model_len"];
  }
  out.ignored_flags.reserve(cmd->ignored.size());
  for (const auto& f : cmd->ignored) out.ignored_flags.push_back(f.flag + ": " + f.reason);
  return out;
}

}  // namespace vllm_mem
