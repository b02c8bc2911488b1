// cli.cpp — the pieces the subcommands share (cli.hpp): errors, the request flags, output.
#include "cli.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "vllm_mem/api/vllm_command.hpp"

namespace vllm_mem::cli {

int fail(const std::string& message, int code) {
  std::cerr << "error: " << message << "\n";
  return code;
}

int fail(const error& e) {
  return fail(e.message, e.code == error_code::invalid_argument ? exit_usage : exit_failure);
}

namespace {

struct field_flag {
  field_group group;
  const char* flag;   // CLI11 names, e.g. "--max-batch-size,--max-num-seqs"
  const char* field;  // the request field
  const char* help;
};

constexpr field_group estimate_field = field_group::estimate;
constexpr field_group planner_field = field_group::planner;

// In the order --help lists them.
// clang-format off
const field_flag field_flags[] = {
  // group          flags (CLI11 names)                 request field                     help
  {estimate_field, "--model,-m",                      "model_name",                     "model name or Hugging Face id (required unless --hf-config or --model-dir)"},
  {estimate_field, "--max-seq-len",                   "max_seq_len",                    "maximum sequence length, tokens (required; 32k = 32000, 32K = 32768 as vllm serve reads it)"},
  {estimate_field, "--max-model-len",                 "max_model_len",                  "vLLM max_model_len (default: max-seq-len)"},
  {estimate_field, "--dtype",                         "dtype",                          "float32, float16, bfloat16, int8, int4, fp8, auto (default float16)"},
  {estimate_field, "--kv-cache-dtype",                "kv_cache_dtype",                 "KV cache dtype (default: dtype; fp8, fp8_e4m3, fp8_e5m2)"},
  {estimate_field, "--max-batch-size,--max-num-seqs", "max_batch_size",                 "concurrent sequences; unset, the decimal-GB seed estimate assumes 32 and the vLLM startup uses vLLM's own max_num_seqs default (256 or 1024 by version and GPU)"},
  {estimate_field, "--gpu-memory-utilization",        "gpu_memory_utilization",         "fraction of GPU memory vLLM may use (default 0.9)"},
  {estimate_field, "--quantization",                  "quantization",                   "Q8, Q4, fp8, int8, awq, gptq, w4a16, bitsandbytes, mxfp4, nvfp4"},
  {estimate_field, "--params-billions",               "params_billions",                "parameter count override, in billions"},
  {estimate_field, "--gpu",                           "gpu",                            "GPU from the catalog (H100-80GB, A100-40GB, L4, RTX-4090, ...)"},
  {estimate_field, "--gpu-memory-gib",                "gpu_memory_gib",                 "total GPU memory as CUDA reports it, GiB"},
  {estimate_field, "--tensor-parallel-size,--tp",     "tensor_parallel_size",           "tensor parallel size"},
  {estimate_field, "--pipeline-parallel-size,--pp",   "pipeline_parallel_size",         "pipeline parallel size"},
  {estimate_field, "--max-num-batched-tokens",        "max_num_batched_tokens",         "vLLM max_num_batched_tokens"},
  {estimate_field, "--block-size",                    "block_size",                     "KV cache block size (tokens)"},
  {estimate_field, "--vllm-version",                  "vllm_version",                   "vLLM version, e.g. 0.10.1 or 0.19.0 (default: the newest profile; vllm-mem versions)"},
  {estimate_field, "--vllm-engine",                   "vllm_engine",                    "v0 or v1 (default by version)"},
  {estimate_field, "--interconnect",                  "interconnect",                   "nvlink or pcie between the GPUs (default: the GPU's)"},
  {estimate_field, "--max-loras",                     "max_loras",                      "LoRA slots on the GPU (with --enable-lora; default 1)"},
  {estimate_field, "--max-lora-rank",                 "max_lora_rank",                  "largest LoRA rank (with --enable-lora; default 16)"},
  {estimate_field, "--max-cpu-loras",                 "max_cpu_loras",                  "LoRA adapters cached in host memory"},
  {estimate_field, "--lora-dtype",                    "lora_dtype",                     "auto, float16, bfloat16 or float32"},
  {estimate_field, "--kv-cache-memory",               "kv_cache_memory_bytes",          "KV cache size in bytes (vLLM's --kv-cache-memory)"},
  {estimate_field, "--cpu-offload-gb",                "cpu_offload_gb",                 "GiB of weights per GPU kept in host memory (vLLM's --cpu-offload-gb)"},
  {estimate_field, "--speculative-config",            "speculative_config",             "speculative decoding as JSON, e.g. '{\"method\": \"mtp\", \"num_speculative_tokens\": 2}' (mtp, ngram, suffix)"},
  {estimate_field, "--reserved-memory-gib",           "reserved_memory_gib",            "GiB per GPU already held by other processes (a shared GPU)"},
  {estimate_field, "--max-cudagraph-capture-size",    "max_cudagraph_capture_size",     "largest batch captured as a CUDA graph"},
  {estimate_field, "--cudagraph-mode",                "cudagraph_mode",                 "NONE, PIECEWISE, FULL or FULL_AND_PIECEWISE"},
  {estimate_field, "--limit-mm-per-prompt",           "limit_mm_per_prompt",            "images/videos per prompt: '{\"image\":0,\"video\":0}' or image=0,video=0 (0 for all: no vision tower)"},
  {estimate_field, "--num-layers",                    "architecture.num_layers",        "architecture: transformer layers"},
  {estimate_field, "--hidden-size",                   "architecture.hidden_size",       "architecture: hidden size"},
  {estimate_field, "--num-heads",                     "architecture.num_heads",         "architecture: attention heads"},
  {estimate_field, "--num-kv-heads",                  "architecture.num_kv_heads",      "architecture: KV heads"},
  {estimate_field, "--head-dim",                      "architecture.head_dim",          "architecture: head dimension"},
  {estimate_field, "--intermediate-size",             "architecture.intermediate_size", "architecture: FFN size"},
  {estimate_field, "--vocab-size",                    "architecture.vocab_size",        "architecture: vocabulary size"},
  {planner_field,  "--num-gpus",                      "num_gpus",                       "GPUs in the setup (tensor x pipeline parallel chosen for you)"},
  {planner_field,  "--max-gpus",                      "max_gpus",                       "most GPUs to consider (plan: 8; solve min_gpus: 64)"},
  {planner_field,  "--gpus-per-node",                 "gpus_per_node",                  "GPUs per node (default 8); more go across nodes"},
  {planner_field,  "--budget",                        "budget_usd_per_hour",            "budget in USD per hour for all GPUs"},
  {planner_field,  "--max-options",                   "max_options",                    "show at most this many options"},
};
// clang-format on

}  // namespace

void add_field_options(CLI::App* cmd, field_values& values, field_group group,
                       const std::vector<std::string>* only) {
  for (const auto& s : field_flags) {
    if (s.group != group) continue;
    if (only && std::find(only->begin(), only->end(), s.field) == only->end()) continue;
    const std::string field = s.field;
    cmd->add_option_function<std::string>(
        s.flag, [&values, field](const std::string& v) { values.emplace_back(field, v); }, s.help);
  }
}

void add_estimate_options(CLI::App* cmd, estimate_flags& f) {
  add_field_options(cmd, f.values, field_group::estimate);
  cmd->add_flag_function(
      "--enforce-eager", [&f](std::int64_t) { f.values.emplace_back("enforce_eager", "true"); },
      "no CUDA graphs");
  cmd->add_flag_function(
      "--enable-lora", [&f](std::int64_t) { f.values.emplace_back("enable_lora", "true"); },
      "LoRA slots allocated at start (vLLM's --enable-lora)");
  cmd->add_flag_function(
      "--fully-sharded-loras",
      [&f](std::int64_t) { f.values.emplace_back("fully_sharded_loras", "true"); },
      "LoRA weights sharded over the tensor-parallel ranks");
  cmd->add_flag_function(
      "--enable-expert-parallel",
      [&f](std::int64_t) { f.values.emplace_back("enable_expert_parallel", "true"); },
      "expert parallelism for MoE models");
  auto* hf = cmd->add_option("--hf-config", f.hf_config_file,
                             "a Hugging Face config.json: the architecture comes from it");
  auto* dir = cmd->add_option("--model-dir", f.model_dir,
                              "a local model folder: its config.json, and the exact weight bytes "
                              "from its safetensors headers");
  hf->excludes(dir);
  auto* hub = cmd->add_flag(
      "--hub", f.hub,
      "look a model that is neither cached nor in the database up on the Hugging Face Hub, and "
      "stop if that fails (HF_ENDPOINT, default https://huggingface.co; see docs/hub.md); "
      "without it estimate tries the Hub briefly and answers offline when it cannot");
  cmd->add_flag("--offline", f.offline,
                "never contact the Hub (as HF_HUB_OFFLINE=1): the database, the local caches and "
                "the name only")
      ->excludes(hub);
  cmd->add_flag("--json", f.as_json, "print the API's JSON response body");
  auto* from = cmd->add_option("--from-command", f.command_file,
                               "a file holding a vllm serve / docker run command line ('-': "
                               "stdin); its flags are the request, flags given here win");
  auto* words = cmd->add_option("vllm_command", f.command_words,
                                "after --: a vllm serve command line, e.g. -- vllm serve "
                                "Qwen/Qwen3-8B --max-model-len 32k -tp 2");
  from->excludes(words);
}

namespace {

// A word as a POSIX shell would read it back as one word (parse_vllm_command splits it so).
std::string shell_quoted(const std::string& w) {
  if (!w.empty() && w.find_first_of(" \t\n'\"\\$`") == std::string::npos) return w;
  std::string out = "'";
  for (char c : w) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

bool add_vllm_command(const estimate_flags& f, json& body, std::string& err) {
  std::string text;
  if (!f.command_file.empty()) {
    auto t = read_input(f.command_file, err);
    if (!t) return false;
    text = std::move(*t);
  } else {
    for (const auto& w : f.command_words) text += (text.empty() ? "" : " ") + shell_quoted(w);
  }
  if (text.empty()) return true;
  body["vllm_command"] = text;
  return true;
}

json build_request(const estimate_flags& f) {
  json body = json::object();
  for (const auto& [field, raw] : f.values) {
    if (field.rfind("architecture.", 0) == 0) {
      body["architecture"][field.substr(13)] = flag_value(raw);
    } else if (field == "model_name" || field == "gpu" || field == "dtype" ||
               field == "kv_cache_dtype" || field == "quantization" || field == "vllm_version" ||
               field == "vllm_engine" || field == "interconnect" || field == "lora_dtype" ||
               field == "cudagraph_mode" || field == "limit_mm_per_prompt" ||
               field == "speculative_config") {
      body[field] = raw;
    } else if (const auto n = human_readable_tokens(raw);
               n && (field == "max_seq_len" || field == "max_model_len" ||
                     field == "max_num_batched_tokens")) {
      body[field] = *n;  // 32k, 128K: as vllm serve reads its length flags
    } else {
      body[field] = flag_value(raw);
    }
  }
  return body;
}

json flag_value(const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  if (s == "null") return nullptr;
  if (!s.empty() &&
      (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.')) {
    json j = json::parse(s, nullptr, false);
    if (!j.is_discarded() && j.is_number()) return j;
  }
  return s;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::optional<std::string> read_file(const std::string& path, std::string& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::string> read_input(const std::string& path, std::string& err) {
  if (path != "-") return read_file(path, err);
  std::ostringstream ss;
  ss << std::cin.rdbuf();
  return ss.str();
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

int print_answer(const json& body, bool as_json, table_printer table) {
  if (as_json)
    return print_answer(body.dump(-1, ' ', false, json::error_handler_t::replace), true, table);
  // A table reads fields by name from a copy (a missing key reads as null, not as the undefined
  // behaviour of a const operator[]); one it cannot print is said as such, never a crash.
  json copy = body;
  try {
    table(copy);
  } catch (const json::exception& e) {
    std::cout.flush();
    return fail(std::string("this answer's table could not be printed (") + e.what() +
                    "); --json prints the answer",
                exit_failure);
  }
  return exit_ok;
}

int print_answer(const std::string& body, bool as_json, table_printer table) {
  if (as_json) {
    std::cout << body << "\n";
    return exit_ok;
  }
  return print_answer(json::parse(body), false, table);
}

}  // namespace vllm_mem::cli
