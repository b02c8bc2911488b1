// main.cpp — the `vllm-mem` executable: serve, estimate, plan, solve, place, sweep, models,
// validate.
//
// A thin adapter: flags become the same JSON request the API takes, so the CLI and the API share
// one decoder, one estimate and one set of error messages. Exit codes: 0 ok, 1 data or runtime
// error, 2 bad input (usage).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "../http/router.hpp"
#include "../http/server.hpp"
#include "../hub/hub.hpp"
#include "vllm_mem/api/accuracy.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/api/external_model.hpp"
#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/catalogs.hpp"
#include "vllm_mem/model/weights.hpp"
#include "vllm_mem/plan/planner.hpp"
#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/version.hpp"

namespace {

using json = nlohmann::json;
using namespace vllm_mem;

int fail(const std::string& message, int code) {
  std::cerr << "error: " << message << "\n";
  return code;
}

int exit_code_for(const error& e) { return e.code == error_code::invalid_argument ? 2 : 1; }

// A flag value becomes a JSON number when it reads as one, else a string (the request decoder
// then reports a wrong type with the API's own message).
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

std::string fixed(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void print_table(const json& r) {
  auto row = [](const std::string& k, const std::string& v) {
    std::printf("  %-34s %s\n", k.c_str(), v.c_str());
  };
  std::printf("%s  (model_source: %s%s)\n", r["model_name"].get<std::string>().c_str(),
              r["model_source"].get<std::string>().c_str(),
              r["resolved_model_id"].is_string()
                  ? (", " + r["resolved_model_id"].get<std::string>()).c_str()
                  : "");
  const auto& a = r["architecture_used"];
  std::printf(
      "  architecture: %llu layers, hidden %llu, %llu heads (%llu KV) x %llu, FFN %llu, vocab "
      "%llu\n",
      a["num_layers"].get<unsigned long long>(), a["hidden_size"].get<unsigned long long>(),
      a["num_heads"].get<unsigned long long>(), a["num_kv_heads"].get<unsigned long long>(),
      a["head_dim"].get<unsigned long long>(), a["intermediate_size"].get<unsigned long long>(),
      a["vocab_size"].get<unsigned long long>());
  std::printf("  parameters: %.3f B total, %.3f B active; %llu GPU(s)\n",
              static_cast<double>(r["parameters"]["total"].get<std::uint64_t>()) / 1e9,
              static_cast<double>(r["parameters"]["active"].get<std::uint64_t>()) / 1e9,
              r["num_gpus"].get<unsigned long long>());
  std::printf("\n  memory per GPU (decimal GB)\n");
  row("model parameters", fixed(r["model_params_memory_gb"].get<double>()) + " GB");
  row("activation (profile peak)", fixed(r["activation_memory_gb"].get<double>()) + " GB");
  row("KV cache, min (1 block per sequence)",
      fixed(r["min_kv_cache_memory_gb"].get<double>()) + " GB");
  row("KV cache, max (all sequences full)",
      fixed(r["max_kv_cache_memory_gb"].get<double>()) + " GB");
  row("CUDA overhead", fixed(r["cuda_overhead_gb"].get<double>()) + " GB");
  row("total, min", fixed(r["total_min_memory_gb"].get<double>()) + " GB");
  row("total, max", fixed(r["total_max_memory_gb"].get<double>()) + " GB");
  row("recommended GPU memory", fixed(r["recommended_memory_gb"].get<double>()) + " GB");
  if (r.contains("vllm_startup")) {
    const auto& v = r["vllm_startup"];
    std::printf("\n  vLLM %s startup (%s engine), per GPU (GiB)\n",
                r["vllm_version"].get<std::string>().c_str(),
                r["vllm_engine"].get<std::string>().c_str());
    row("total GPU memory", fixed(v["total_gpu_memory_gib"].get<double>()) + " GiB");
    row("requested (total x utilization)", fixed(v["requested_memory_gib"].get<double>()) + " GiB");
    row("Model loading took", fixed(v["weights_gib"].get<double>()) + " GiB");
    row("activation peak", fixed(v["activation_peak_gib"].get<double>()) + " GiB");
    row("non-torch", fixed(v["non_torch_gib"].get<double>()) + " GiB");
    row(std::string("CUDA graphs (") +
            (v["cuda_graph_in_budget"].get<bool>() ? "in budget" : "outside budget") + ")",
        fixed(v["cuda_graph_gib"].get<double>()) + " GiB");
    row("Available KV cache memory", fixed(v["kv_cache_gib"].get<double>()) + " GiB");
    row("GPU KV cache size",
        std::to_string(v["kv_cache_tokens"].get<std::uint64_t>()) + " tokens (" +
            std::to_string(v["num_gpu_blocks"].get<std::uint64_t>()) + " blocks)");
    row("Maximum concurrency", fixed(v["max_concurrency"].get<double>()) + " x " +
                                   std::to_string(v["max_model_len"].get<std::uint64_t>()) +
                                   " tokens");
    row("starts", v["fits"].get<bool>() ? "yes" : "no");
    row("largest max_model_len that starts",
        std::to_string(v["max_model_len_fit"].get<std::uint64_t>()));
    row("limiting factor", v["limiting_factor"].get<std::string>());
    row("flags", v["vllm_args"].get<std::string>());
    if (v["error"].is_string())
      std::printf("\n  vLLM would fail: %s\n", v["error"].get<std::string>().c_str());
  }
  if (r.contains("checkpoint")) {
    const auto& c = r["checkpoint"];
    std::printf(
        "\n  checkpoint: %.3f GB of safetensors tensors (exact); the architecture accounts "
        "for %.3f GB\n",
        static_cast<double>(c["total_bytes"].get<std::uint64_t>()) / 1e9,
        static_cast<double>(c["architecture_bytes"].get<std::uint64_t>()) / 1e9);
  }
  if (r.contains("model_origin"))
    std::printf("  model files: %s\n", r["model_origin"].get<std::string>().c_str());
  if (r["warning"].is_string())
    std::printf("\n  warning: %s\n", r["warning"].get<std::string>().c_str());
}

// One row per case: predicted / logged for every figure the log holds.
void print_markdown(const accuracy_report& rep) {
  auto cell = [](const case_row& r, const char* k, int decimals) -> std::string {
    if (!r.expected.contains(k)) return "";
    auto num = [&](const json& v) {
      if (v.is_boolean()) return std::string(v.get<bool>() ? "yes" : "no");
      if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
      return fixed(v.get<double>(), decimals);
    };
    return num(r.predicted[k]) + " / " + num(r.expected[k]);
  };
  std::printf(
      "| case | model | weights GiB | activation GiB | non-torch GiB | CUDA graphs GiB | KV GiB | "
      "KV tokens | concurrency | starts |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rep.rows) {
    if (!r.covered) {
      std::printf("| %s | %s | not covered: %s |||||||| |\n", r.id.c_str(), r.model.c_str(),
                  r.miss.c_str());
      continue;
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.id.c_str(),
                r.model.c_str(), cell(r, "weights_gib", 2).c_str(),
                cell(r, "activation_peak_gib", 2).c_str(), cell(r, "non_torch_gib", 2).c_str(),
                cell(r, "cuda_graph_gib", 2).c_str(), cell(r, "kv_cache_gib", 2).c_str(),
                cell(r, "kv_cache_tokens", 0).c_str(), cell(r, "max_concurrency", 2).c_str(),
                cell(r, "fits", 0).c_str());
  }
  const auto& s = rep.summary;
  auto f = [](const std::optional<double>& v, int d = 3) {
    return v ? fixed(*v, d) : std::string("n/a");
  };
  std::printf("\n| metric | value | target |\n|---|---|---|\n");
  std::printf("| coverage | %s of %zu cases | >= 0.95 |\n", fixed(s.coverage, 3).c_str(), s.cases);
  std::printf("| weights relative error, median / p90 | %s / %s (n=%zu) | <= 0.01 / 0.03 |\n",
              f(s.weights_rel_median).c_str(), f(s.weights_rel_p90).c_str(), s.weights_n);
  std::printf("| KV tokens relative error, median / p90 | %s / %s (n=%zu) | <= 0.03 / 0.10 |\n",
              f(s.tokens_rel_median).c_str(), f(s.tokens_rel_p90).c_str(), s.tokens_n);
  std::printf(
      "| activation absolute error, median / p90 | %s / %s GiB (n=%zu) | median <= 0.35 GiB |\n",
      f(s.activation_abs_median_gib, 2).c_str(), f(s.activation_abs_p90_gib, 2).c_str(),
      s.activation_n);
  std::printf("| non-torch absolute error, median | %s GiB | |\n",
              f(s.non_torch_abs_median_gib, 2).c_str());
  std::printf("| CUDA graph absolute error, median | %s GiB | |\n",
              f(s.cuda_graph_abs_median_gib, 2).c_str());
  std::printf("| KV GiB absolute error, median / p90 | %s / %s GiB | |\n",
              f(s.kv_gib_abs_median, 2).c_str(), f(s.kv_gib_abs_p90, 2).c_str());
  std::printf("| start / no-start verdicts right | %s (n=%zu) | 1.0 |\n",
              f(s.fits_accuracy).c_str(), s.fits_n);
}

struct estimate_flags {
  std::vector<std::pair<std::string, std::string>> values;  // field -> raw flag value
  std::string hf_config_file;
  std::string model_dir;
  bool hub = false;
  bool as_json = false;
};

void add_estimate_options(CLI::App* cmd, estimate_flags& f,
                          std::vector<std::unique_ptr<std::string>>& store) {
  struct spec {
    const char* flag;
    const char* field;
    const char* help;
  };
  static const spec specs[] = {
      {"--model,-m", "model_name",
       "model name or Hugging Face id (required unless --hf-config or --model-dir)"},
      {"--max-seq-len", "max_seq_len", "maximum sequence length (required)"},
      {"--max-model-len", "max_model_len", "vLLM max_model_len (default: max-seq-len)"},
      {"--dtype", "dtype", "float32, float16, bfloat16, int8, int4, fp8, auto (default float16)"},
      {"--kv-cache-dtype", "kv_cache_dtype",
       "KV cache dtype (default: dtype; fp8, fp8_e4m3, fp8_e5m2)"},
      {"--max-batch-size,--max-num-seqs", "max_batch_size", "concurrent sequences (default 32)"},
      {"--gpu-memory-utilization", "gpu_memory_utilization",
       "fraction of GPU memory vLLM may use (default 0.9)"},
      {"--quantization", "quantization",
       "Q8, Q4, fp8, int8, awq, gptq, w4a16, bitsandbytes, mxfp4, nvfp4"},
      {"--params-billions", "params_billions", "parameter count override, in billions"},
      {"--gpu", "gpu", "GPU from the catalog (H100-80GB, A100-40GB, L4, RTX-4090, ...)"},
      {"--gpu-memory-gib", "gpu_memory_gib", "total GPU memory as CUDA reports it, GiB"},
      {"--tensor-parallel-size,--tp", "tensor_parallel_size", "tensor parallel size"},
      {"--pipeline-parallel-size,--pp", "pipeline_parallel_size", "pipeline parallel size"},
      {"--max-num-batched-tokens", "max_num_batched_tokens", "vLLM max_num_batched_tokens"},
      {"--block-size", "block_size", "KV cache block size (tokens)"},
      {"--vllm-version", "vllm_version", "vLLM version, e.g. 0.6.4, 0.10.1, 0.19.0"},
      {"--vllm-engine", "vllm_engine", "v0 or v1 (default by version)"},
  };
  for (const auto& s : specs) {
    store.push_back(std::make_unique<std::string>());
    std::string* target = store.back().get();
    const std::string field = s.field;
    cmd->add_option_function<std::string>(
        s.flag,
        [&f, field, target](const std::string& v) {
          *target = v;
          f.values.emplace_back(field, v);
        },
        s.help);
  }
  static const spec arch_specs[] = {
      {"--num-layers", "num_layers", "architecture: transformer layers"},
      {"--hidden-size", "hidden_size", "architecture: hidden size"},
      {"--num-heads", "num_heads", "architecture: attention heads"},
      {"--num-kv-heads", "num_kv_heads", "architecture: KV heads"},
      {"--head-dim", "head_dim", "architecture: head dimension"},
      {"--intermediate-size", "intermediate_size", "architecture: FFN size"},
      {"--vocab-size", "vocab_size", "architecture: vocabulary size"},
  };
  for (const auto& s : arch_specs) {
    const std::string field = std::string("architecture.") + s.field;
    cmd->add_option_function<std::string>(
        s.flag, [&f, field](const std::string& v) { f.values.emplace_back(field, v); }, s.help);
  }
  cmd->add_flag_function(
      "--enforce-eager", [&f](std::int64_t) { f.values.emplace_back("enforce_eager", "true"); },
      "no CUDA graphs");
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
  cmd->add_flag("--hub", f.hub,
                "fetch a model that is neither cached nor in the database from the Hugging Face "
                "Hub (HF_ENDPOINT, default https://huggingface.co; see docs/hub.md)");
  cmd->add_flag("--json", f.as_json, "print the API's JSON response body");
}

// --hf-config / --model-dir become the request's hf_config and safetensors fields; a plain
// --model ORG/NAME is looked up in the Hugging Face cache before the database, then in
// vllm-mem's cache and on the Hub when Hub access is on (docs/hub.md).
int add_model_files(const estimate_flags& f, json& body) {
  namespace fs = std::filesystem;
  if (!f.hf_config_file.empty()) {
    auto cfg = hub::read_config_file(f.hf_config_file);
    if (!cfg) return fail(cfg.err().message, 2);
    if (!body.contains("model_name")) {
      const json& n = (*cfg).contains("_name_or_path") ? (*cfg)["_name_or_path"] : json();
      body["model_name"] =
          n.is_string() && !n.get<std::string>().empty() && n.get<std::string>().size() <= 256
              ? n.get<std::string>()
              : fs::path(f.hf_config_file).filename().string();
    }
    body["hf_config"] = std::move(*cfg);
  }
  if (!f.model_dir.empty()) {
    auto m = hub::read_model_dir(f.model_dir);
    if (!m) return fail(m.err().message, 2);
    if (!body.contains("model_name")) {
      fs::path p(f.model_dir);
      std::string name = p.filename().string();
      if (name.empty()) name = p.parent_path().filename().string();
      body["model_name"] = name.empty() ? std::string("model") : name.substr(0, 256);
    }
    body["hf_config"] = m->config;
    if (m->safetensors) body["safetensors"] = to_json(*m->safetensors);
  }
  return 0;
}

int look_up_model(const estimate_flags& f, const catalogs& cat, estimate_request& req) {
  if (request_describes_model(req) || !valid_hub_model_id(req.model_name)) return 0;
  auto opts = hub::options_from_env(f.hub);
  if (!opts) return fail(opts.err().message, 2);
  const hub::model_locator locator(*opts);
  auto cached = locator.find_cached(req.model_name);
  if (!cached) return fail(cached.err().message, exit_code_for(cached.err()));
  std::optional<external_model> found = std::move(*cached);
  if (!found && opts->network && !cat.models.resolve(req.model_name)) {
    auto fetched = locator.locate(req.model_name);  // says so when HF_HUB_OFFLINE forbids it
    if (!fetched) return fail(fetched.err().message, exit_code_for(fetched.err()));
    found = std::move(*fetched);
  }
  if (found) {
    estimate_request with = req;
    if (auto s = attach_external_model(with, *found); !s) {
      // A cached config the calculator cannot read does not hide the database's entry.
      if (cat.models.resolve(req.model_name)) return 0;
      return fail(s.err().message, exit_code_for(s.err()));
    }
    req = std::move(with);
  }
  return 0;
}

json build_request(const estimate_flags& f) {
  json body = json::object();
  for (const auto& [field, raw] : f.values) {
    if (field.rfind("architecture.", 0) == 0) {
      body["architecture"][field.substr(13)] = flag_value(raw);
    } else if (field == "model_name" || field == "gpu" || field == "dtype" ||
               field == "kv_cache_dtype" || field == "quantization" || field == "vllm_version" ||
               field == "vllm_engine") {
      body[field] = raw;
    } else {
      body[field] = flag_value(raw);
    }
  }
  return body;
}

// Planner flags: the estimate's flag set plus the planner's own fields.
struct planner_flags {
  estimate_flags est;
  std::string gpus;         // comma-separated
  std::string prices_file;  // {"H100-80GB": 2.5, ...}
  std::string lists[2];     // context_lengths, batch_sizes (comma-separated)
  std::vector<std::string> solves;
  bool no_trades = false;
};

void add_planner_options(CLI::App* cmd, planner_flags& f,
                         std::vector<std::unique_ptr<std::string>>& store,
                         const std::vector<std::string>& fields) {
  add_estimate_options(cmd, f.est, store);
  struct spec {
    const char* flag;
    const char* field;
    const char* help;
  };
  static const spec specs[] = {
      {"--num-gpus", "num_gpus", "GPUs in the setup (tensor x pipeline parallel chosen for you)"},
      {"--max-gpus", "max_gpus", "most GPUs to consider (plan: 8; solve min_gpus: 64)"},
      {"--gpus-per-node", "gpus_per_node", "GPUs per node (default 8); more go across nodes"},
      {"--budget", "budget_usd_per_hour", "budget in USD per hour for all GPUs"},
      {"--max-options", "max_options", "show at most this many options"},
  };
  for (const auto& sp : specs) {
    if (std::find(fields.begin(), fields.end(), sp.field) == fields.end()) continue;
    const std::string field = sp.field;
    cmd->add_option_function<std::string>(
        sp.flag, [&f, field](const std::string& v) { f.est.values.emplace_back(field, v); },
        sp.help);
  }
  auto has = [&](const char* k) {
    return std::find(fields.begin(), fields.end(), k) != fields.end();
  };
  if (has("gpus")) cmd->add_option("--gpus", f.gpus, "allowed GPU types, comma-separated");
  if (has("prices"))
    cmd->add_option("--prices", f.prices_file,
                    "JSON file of USD per GPU-hour overriding the catalog, {\"H100-80GB\": 2.5}");
  if (has("precision_trades"))
    cmd->add_flag("--no-precision-trades", f.no_trades, "do not offer fp8 / 4-bit options");
  if (has("solve"))
    cmd->add_option("--solve", f.solves,
                    "max_model_len, max_concurrency, min_gpu_memory_utilization, min_gpus "
                    "(repeatable; default all)");
  if (has("context_lengths"))
    cmd->add_option("--contexts", f.lists[0], "context lengths, comma-separated");
  if (has("batch_sizes")) cmd->add_option("--batches", f.lists[1], "batch sizes, comma-separated");
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

// The request body, or an error message (exit 2).
std::optional<json> build_planner_request(const planner_flags& f, std::string& err) {
  json body = build_request(f.est);
  if (!f.gpus.empty()) body["gpus"] = split_commas(f.gpus);
  if (!f.prices_file.empty()) {
    auto text = read_file(f.prices_file, err);
    if (!text) return std::nullopt;
    auto prices = parse_json_strict(*text);
    if (!prices) {
      err = f.prices_file + ": " + prices.err().message;
      return std::nullopt;
    }
    body["prices"] = *prices;
  }
  if (f.no_trades) body["precision_trades"] = false;
  if (!f.solves.empty()) body["solve"] = f.solves;
  const char* list_fields[2] = {"context_lengths", "batch_sizes"};
  for (int i = 0; i < 2; ++i) {
    if (f.lists[i].empty()) continue;
    json arr = json::array();
    for (const auto& x : split_commas(f.lists[i])) arr.push_back(flag_value(x));
    body[list_fields[i]] = arr;
  }
  return body;
}

std::string money(const json& v) { return v.is_number() ? "$" + fixed(v.get<double>()) : "-"; }

void print_plan(const json& p) {
  std::printf("%s\n\n", p["summary"].get<std::string>().c_str());
  std::printf("%-4s %-16s %4s %3s %3s %-5s %-22s %9s %10s %10s  %s\n", "#", "gpu", "n", "tp", "pp",
              "fits", "limiting_factor", "max_conc", "kv_tokens", "usd/hour", "precision trade");
  int i = 0;
  for (const auto& o : p["options"]) {
    std::printf(
        "%-4d %-16s %4llu %3llu %3llu %-5s %-22s %9s %10llu %10s  %s\n", ++i,
        o["gpu"].is_string() ? o["gpu"].get<std::string>().c_str() : "(custom)",
        o["num_gpus"].get<unsigned long long>(),
        o["tensor_parallel_size"].get<unsigned long long>(),
        o["pipeline_parallel_size"].get<unsigned long long>(), o["fits"].get<bool>() ? "yes" : "no",
        o["limiting_factor"].get<std::string>().c_str(),
        fixed(o["max_concurrency"].get<double>()).c_str(),
        o["kv_cache_tokens"].get<unsigned long long>(), money(o["hourly_cost_usd"]).c_str(),
        o["trades_precision"].is_string() ? o["trades_precision"].get<std::string>().c_str() : "");
  }
  for (const auto& s : p["suggestions"])
    std::printf("\n  would fit (%s): %s", s["kind"].get<std::string>().c_str(),
                s["text"].get<std::string>().c_str());
  if (!p["suggestions"].empty()) std::printf("\n");
}

void print_solve(const json& s) {
  const json& st = s["setup"];
  std::printf("%llux %s (tp %llu, pp %llu): %s\n\n", st["num_gpus"].get<unsigned long long>(),
              st["gpu_name"].get<std::string>().c_str(),
              st["tensor_parallel_size"].get<unsigned long long>(),
              st["pipeline_parallel_size"].get<unsigned long long>(),
              st["reason"].get<std::string>().c_str());
  for (auto it = s["solves"].begin(); it != s["solves"].end(); ++it) {
    const json& v = it.value();
    std::printf("%-28s %s\n", it.key().c_str(),
                v["found"].get<bool>() ? v["value"].dump().c_str() : "none");
    std::printf("  %s\n", v["reason"].get<std::string>().c_str());
    if (v["at_value"].is_object() && v["found"].get<bool>())
      std::printf("  %s\n", v["at_value"]["vllm_command"].get<std::string>().c_str());
  }
}

void print_placement(const json& p) {
  if (!p["fits"].get<bool>()) {
    std::printf("does not fit: %s\n", p["reason"].get<std::string>().c_str());
    return;
  }
  for (const auto& g : p["gpus"]) {
    std::printf("GPU %llu %s: %s of %s GiB used\n", g["index"].get<unsigned long long>(),
                g["gpu"].get<std::string>().c_str(), fixed(g["used_gib"].get<double>()).c_str(),
                fixed(g["total_gib"].get<double>()).c_str());
  }
  for (const auto& i : p["instances"]) {
    std::printf("\n%s: gpu_memory_utilization %s (at least %s), %s\n  %s\n",
                i["model_name"].get<std::string>().c_str(),
                fixed(i["gpu_memory_utilization"].get<double>(), 3).c_str(),
                fixed(i["min_gpu_memory_utilization"].get<double>(), 3).c_str(),
                i["reason"].get<std::string>().c_str(),
                i["vllm_command"].get<std::string>().c_str());
  }
  for (const auto& n : p["notes"]) std::printf("\nnote: %s", n.get<std::string>().c_str());
  std::printf("\n");
}

void print_sweep(const json& s) {
  auto table = [](const json& rows, const char* axis) {
    std::printf("%-16s %-6s %-22s %12s %10s %10s %12s\n", axis, "fits", "limiting_factor",
                "kv_tokens", "max_conc", "kv_gib", "total_max_gb");
    for (const auto& r : rows) {
      std::printf(
          "%-16llu %-6s %-22s %12s %10s %10s %12s\n", r[axis].get<unsigned long long>(),
          r.contains("fits") ? (r["fits"].get<bool>() ? "yes" : "no") : "-",
          r.contains("limiting_factor") ? r["limiting_factor"].get<std::string>().c_str() : "-",
          r.contains("kv_cache_tokens")
              ? std::to_string(r["kv_cache_tokens"].get<std::uint64_t>()).c_str()
              : "-",
          r.contains("max_concurrency") ? fixed(r["max_concurrency"].get<double>()).c_str() : "-",
          r.contains("kv_cache_gib") ? fixed(r["kv_cache_gib"].get<double>()).c_str() : "-",
          fixed(r["total_max_memory_gb"].get<double>()).c_str());
    }
  };
  table(s["context"], "max_model_len");
  std::printf("\n");
  table(s["batch"], "max_batch_size");
}

// Decodes, runs and prints one planner request; exit codes as for estimate.
template <class Parse, class Run, class Print>
int run_planner(const catalogs& cat, const json& body, bool as_json, Parse parse, Run run,
                Print print) {
  auto req = parse(body, cat.gpus);
  if (!req) return fail(req.err().message, exit_code_for(req.err()));
  auto res = run(*req, cat.models, cat.gpus);
  if (!res) return fail(res.err().message, exit_code_for(res.err()));
  const json out = to_json(*res);
  if (as_json) {
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    print(out);
  }
  return 0;
}

// The files of a data directory laid out as the repository's data/ (models/*.json, gpus.json),
// named as load_catalogs expects them; an I/O failure sets `err`.
result<catalogs> load_data_dir(const std::string& dir, std::string& err) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> files;  // (catalog name, path)
  std::error_code ec;
  std::vector<fs::path> models;
  for (fs::directory_iterator it(fs::path(dir) / "models", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".json") models.push_back(it->path());
  }
  if (ec) {
    err = "--data-dir " + dir + ": cannot list " + (fs::path(dir) / "models").string() + ": " +
          ec.message();
    return make_error(error_code::invalid_argument, err);
  }
  std::sort(models.begin(), models.end());
  for (const auto& m : models) files.emplace_back("data/models/" + m.filename().string(), m);
  files.emplace_back("data/gpus.json", (fs::path(dir) / "gpus.json").string());
  std::vector<std::string> texts;
  texts.reserve(files.size());
  for (const auto& [name, path] : files) {
    auto text = read_file(path, err);
    if (!text) {
      err = "--data-dir " + dir + ": " + err;
      return make_error(error_code::invalid_argument, err);
    }
    texts.push_back(std::move(*text));
  }
  std::vector<embedded_file> table;
  for (std::size_t i = 0; i < files.size(); ++i) table.push_back({files[i].first, texts[i]});
  auto loaded = load_catalogs(table);
  if (loaded) return loaded;
  // Name the file by its real path rather than its name in the catalog.
  std::string message = loaded.err().message;
  for (const auto& [name, path] : files) {
    if (message.rfind(name, 0) == 0) {
      message = path + message.substr(name.size());
      break;
    }
  }
  return make_error(error_code::invalid_argument, message);
}

// `vllm-mem serve`: the router over `cat`, the server with `opt`, until SIGTERM/SIGINT.
int serve_api(const catalogs& cat, const http::server_options& opt, bool serve_hub,
              const std::string& data_dir) {
  model_lookup lookup;
  std::string note;
  if (serve_hub || std::getenv("HF_ENDPOINT") != nullptr) {
    auto opts = hub::options_from_env(true);
    if (!opts) return fail(opts.err().message, 2);
    auto locator = std::make_shared<const hub::model_locator>(*opts);
    lookup = [locator](std::string_view id) { return locator->locate(id); };
    note = "; Hub lookups via " + opts->endpoint + (opts->offline ? " (offline: caches only)" : "");
  }
  if (!data_dir.empty()) note += "; database from " + data_dir;
  // A closed stderr (a supervisor that went away) must not kill the server through SIGPIPE when it
  // logs; sockets never raise it (Asio sends with MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  http::router router(cat, lookup);
  http::server srv(router, opt);
  if (auto err = srv.start(); !err.empty()) return fail(err, 1);
  srv.handle_signals();
  const bool info = opt.level >= http::log_level::info;
  if (info) {
    std::fprintf(stderr, "vllm-mem %s serving on http://%s:%u (%zu models, %zu GPUs%s)\n",
                 std::string(kVersion).c_str(), opt.host.c_str(), srv.port(),
                 cat.models.entries().size(), cat.gpus.entries().size(), note.c_str());
  }
  srv.wait();
  if (info) std::fprintf(stderr, "vllm-mem: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "vllm-mem: how much GPU memory a model needs when served with vLLM, and whether it starts"};
  app.set_version_flag("--version,-V", std::string(kVersion));
  app.require_subcommand(1);

  // serve: every server setting is a flag and an environment variable (server_options.hpp)
  auto* serve = app.add_subcommand("serve", "run the HTTP API (and web page)");
  const auto& settings = http::server_settings();
  std::vector<std::string> setting_values(settings.size());
  std::vector<CLI::Option*> setting_flags;
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const auto& s = settings[i];
    std::string name(s.flag);
    if (s.flag == "--port") name += ",-p";
    const std::string help = std::string(s.help) + " [env " + std::string(s.env) + "]";
    if (s.is_switch) {
      setting_flags.push_back(serve->add_flag(name, help));
      continue;
    }
    const std::string_view f = s.flag;
    const char* type = f == "--host"                                  ? "ADDRESS"
                       : f == "--log-level"                           ? "LEVEL"
                       : f.find("-bytes") != std::string_view::npos   ? "BYTES"
                       : f.find("-timeout") != std::string_view::npos ? "SECONDS"
                                                                      : "N";
    setting_flags.push_back(serve->add_option(name, setting_values[i], help)->type_name(type));
  }
  std::string data_dir;
  serve->add_option("--data-dir", data_dir,
                    "serve the model database and GPU catalog from DIR (models/*.json, gpus.json, "
                    "laid out as the repository's data/) instead of the built-in copy [env "
                    "VLLM_MEM_DATA_DIR]");
  bool serve_hub = false;
  serve->add_flag("--hub", serve_hub,
                  "resolve models that are not in the database through the Hugging Face cache "
                  "and Hub (also on when HF_ENDPOINT is set; see docs/hub.md)");

  // estimate
  estimate_flags ef;
  std::vector<std::unique_ptr<std::string>> store;
  auto* est = app.add_subcommand(
      "estimate", "estimate memory for a model and workload (same fields as the API)");
  add_estimate_options(est, ef, store);

  // plan, solve, sweep: the estimate's flags plus the planner's; place: a JSON request file
  planner_flags pf, sf, wf;
  auto* plan_cmd = app.add_subcommand(
      "plan", "which GPU, how many, which vllm serve flags, at what cost (POST /plan)");
  add_planner_options(plan_cmd, pf, store, plan_request_fields());
  auto* solve_cmd = app.add_subcommand(
      "solve",
      "for one GPU setup: largest context, concurrency, smallest utilization, fewest "
      "GPUs (POST /solve)");
  add_planner_options(solve_cmd, sf, store,
                      {"num_gpus", "max_gpus", "gpus_per_node", "prices", "solve"});
  auto* sweep_cmd = app.add_subcommand(
      "sweep", "memory and KV capacity versus context length and batch size (POST /sweep)");
  add_planner_options(sweep_cmd, wf, store,
                      {"num_gpus", "gpus_per_node", "context_lengths", "batch_sizes"});
  std::string place_file;
  bool place_json = false;
  auto* place_cmd = app.add_subcommand(
      "place", "several models on a GPU pool (POST /placement; the request as a JSON file)");
  place_cmd
      ->add_option(
          "request", place_file,
          "JSON file ('-' for stdin): {\"models\": [...], \"gpu\": ..., \"num_gpus\": ...}")
      ->required();
  place_cmd->add_flag("--json", place_json, "print the API's JSON response body");

  // models
  std::string family, search, quantized_filter;
  bool models_json = false;
  std::string show_id;
  auto* models = app.add_subcommand("models", "list the model database");
  models->add_option("--family", family, "filter by family (substring)");
  models->add_option("--search,-q", search, "filter by name (substring)");
  models->add_option("--quantized", quantized_filter,
                     "true: only quantized checkpoints; false: only unquantized ones");
  models->add_flag("--json", models_json, "print GET /known-architectures' JSON");
  auto* show = models->add_subcommand("show", "one database entry");
  show->add_option("id", show_id, "model id")->required();
  show->add_flag("--json", models_json, "print JSON (default for show)");

  // validate
  std::string cases_path;
  bool validate_json = false, validate_quiet = false, validate_markdown = false;
  auto* validate =
      app.add_subcommand("validate", "score the startup model against real vLLM startup cases");
  validate
      ->add_option("cases", cases_path,
                   "cases file (e.g. ../shared/ground-truth/vllm-startup-cases.dev.json)")
      ->required();
  validate->add_flag("--json", validate_json, "print the report as JSON");
  validate->add_flag("--quiet", validate_quiet, "only the summary");
  validate->add_flag("--markdown", validate_markdown,
                     "print the per-case table and summary as Markdown");

  auto* versions = app.add_subcommand("versions", "the vLLM versions modelled (GET /versions)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*serve) {
    // A flag wins over its environment variable; a bad value of either stops here, named.
    http::server_options opt;
    for (std::size_t i = 0; i < settings.size(); ++i) {
      const auto& s = settings[i];
      std::string text, source;
      if (setting_flags[i]->count() > 0) {
        text = s.is_switch ? "1" : setting_values[i];
        source = std::string(s.flag);
      } else if (const char* env = std::getenv(std::string(s.env).c_str())) {
        text = env;
        source = "environment variable " + std::string(s.env);
      } else {
        continue;
      }
      if (auto err = http::apply_setting(opt, s, text); !err.empty())
        return fail(source + ": " + err, 2);
    }
    if (data_dir.empty()) {
      if (const char* env = std::getenv("VLLM_MEM_DATA_DIR")) data_dir = env;
    }
    std::string load_err;
    auto served = data_dir.empty() ? load_embedded_catalogs() : load_data_dir(data_dir, load_err);
    if (!load_err.empty()) return fail(load_err, 1);
    if (!served) {
      return fail((data_dir.empty() ? "the embedded database is invalid: "
                                    : "the database in " + data_dir + " is invalid: ") +
                      served.err().message,
                  1);
    }
    return serve_api(*served, opt, serve_hub, data_dir);
  }

  auto cat = load_embedded_catalogs();
  if (!cat) return fail("the embedded database is invalid: " + cat.err().message, 1);

  if (*est) {
    json body = build_request(ef);
    if (int rc = add_model_files(ef, body); rc != 0) return rc;
    auto req = parse_estimate_request(body);
    if (!req) return fail(req.err().message, exit_code_for(req.err()));
    if (int rc = look_up_model(ef, *cat, *req); rc != 0) return rc;
    auto res = estimate(*req, cat->models, cat->gpus);
    if (!res) return fail(res.err().message, exit_code_for(res.err()));
    std::string text;
    append_json(text, *res);  // the API's response body, byte for byte
    if (ef.as_json) {
      std::cout << text << "\n";
    } else {
      print_table(json::parse(text));
    }
    return 0;
  }

  if (*plan_cmd || *solve_cmd || *sweep_cmd) {
    const planner_flags& f = *plan_cmd ? pf : *solve_cmd ? sf : wf;
    std::string err;
    auto body = build_planner_request(f, err);
    if (!body) return fail(err, 2);
    if (*plan_cmd) {
      return run_planner(
          *cat, *body, f.est.as_json, parse_plan_request,
          [](const plan_request& r, const model_db& m, const gpu_catalog& g) {
            return plan(r, m, g);
          },
          print_plan);
    }
    if (*solve_cmd) {
      return run_planner(
          *cat, *body, f.est.as_json, parse_solve_request,
          [](const solve_request& r, const model_db& m, const gpu_catalog& g) {
            return solve(r, m, g);
          },
          print_solve);
    }
    return run_planner(
        *cat, *body, f.est.as_json, parse_sweep_request,
        [](const sweep_request& r, const model_db& m, const gpu_catalog& g) {
          return sweep(r, m, g);
        },
        print_sweep);
  }

  if (*place_cmd) {
    std::string err, text;
    if (place_file == "-") {
      std::ostringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      auto t = read_file(place_file, err);
      if (!t) return fail(err, 2);
      text = *t;
    }
    auto body = parse_json_strict(text);
    if (!body) return fail(place_file + ": " + body.err().message, 2);
    return run_planner(
        *cat, *body, place_json, parse_placement_request,
        [](const placement_request& r, const model_db& m, const gpu_catalog& g) {
          return place(r, m, g);
        },
        print_placement);
  }

  if (*models) {
    http::router router(*cat);
    if (*show) {
      auto r = router.handle({"GET", "/models/" + show_id, "", "", ""});
      if (r.status != 200) return fail(json::parse(r.body)["detail"].get<std::string>(), 1);
      std::cout << json::parse(r.body).dump(2) << "\n";
      return 0;
    }
    std::string query;
    auto add = [&](const char* k, const std::string& v) {
      if (v.empty()) return;
      std::string enc;
      for (char ch : v) {
        if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_') {
          enc.push_back(ch);
        } else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(ch));
          enc += buf;
        }
      }
      query += (query.empty() ? "?" : "&") + std::string(k) + "=" + enc;
    };
    add("family", family);
    add("q", search);
    add("quantized", quantized_filter);
    const std::string target = "/known-architectures" + query;
    auto r = router.handle({"GET", target, "", "", ""});
    if (r.status != 200) return fail(json::parse(r.body)["detail"].get<std::string>(), 2);
    const json all = json::parse(r.body);
    if (models_json) {
      std::cout << all.dump(2) << "\n";
      return 0;
    }
    std::printf("%-58s %-18s %9s %7s %6s %s\n", "id", "family", "params_B", "layers", "ctx_k",
                "notes");
    for (auto it = all.begin(); it != all.end(); ++it) {
      const json& m = it.value();
      const std::string params = m.contains("params_billions") && m["params_billions"].is_number()
                                     ? fixed(m["params_billions"].get<double>(), 2)
                                     : "-";
      const std::string layers =
          m.contains("num_layers") ? std::to_string(m["num_layers"].get<std::uint64_t>()) : "-";
      const std::string ctx =
          m.contains("max_position_embeddings")
              ? std::to_string(m["max_position_embeddings"].get<std::uint64_t>() / 1024)
              : "-";
      std::string notes;
      if (m.value("closed", false)) notes = "closed (unofficial size)";
      if (m.value("quantized", false)) notes = "quantized checkpoint";
      if (m.value("incomplete", false)) notes = "incomplete entry";
      if (m.contains("unsupported")) notes = "architecture not modelled";
      std::printf("%-58s %-18s %9s %7s %6s %s\n", it.key().c_str(),
                  m["family"].get<std::string>().c_str(), params.c_str(), layers.c_str(),
                  ctx.c_str(), notes.c_str());
    }
    std::printf("%zu models\n", all.size());
    return 0;
  }

  if (*versions) {
    std::cout << versions_json().dump(2) << "\n";
    return 0;
  }

  if (*validate) {
    std::string err;
    auto text = read_file(cases_path, err);
    if (!text) return fail(err, 1);
    auto cases = parse_json_strict(*text, json_limits{64, 1 << 20, 10000000});
    if (!cases) return fail(cases_path + ": " + cases.err().message, 1);
    auto rep = score_cases(*cases, *cat);
    if (!rep) return fail(rep.err().message, 1);
    if (validate_json) {
      json rows = json::array();
      for (const auto& r : rep->rows) {
        rows.push_back({{"id", r.id},
                        {"model", r.model},
                        {"covered", r.covered},
                        {"miss", r.miss},
                        {"predicted", r.predicted},
                        {"expected", r.expected}});
      }
      std::cout << json{{"summary", to_json(rep->summary)},
                        {"rows", rows},
                        {"missed_targets", rep->missed_targets}}
                       .dump(1)
                << "\n";
      return rep->missed_targets.empty() ? 0 : 3;
    }
    if (validate_markdown) {
      print_markdown(*rep);
      return rep->missed_targets.empty() ? 0 : 3;
    }
    if (!validate_quiet) {
      const char* keys[] = {
          "weights_gib",  "activation_peak_gib", "non_torch_gib",   "cuda_graph_gib",
          "kv_cache_gib", "kv_cache_tokens",     "max_concurrency", "fits"};
      for (const auto& r : rep->rows) {
        std::printf("%-8s %s\n", r.id.c_str(), r.model.c_str());
        if (!r.covered) {
          std::printf("         not covered: %s\n", r.miss.c_str());
          continue;
        }
        for (const char* k : keys) {
          if (!r.expected.contains(k)) continue;
          std::printf("         %-22s predicted %-14s logged %s\n", k,
                      r.predicted[k].dump().c_str(), r.expected[k].dump().c_str());
        }
      }
    }
    const auto& s = rep->summary;
    auto f = [](const std::optional<double>& v) { return v ? fixed(*v, 3) : std::string("n/a"); };
    std::printf("\ncases %zu, coverage %s\n", s.cases, fixed(s.coverage, 3).c_str());
    std::printf("weights   rel. error  median %s  p90 %s  (n=%zu)\n",
                f(s.weights_rel_median).c_str(), f(s.weights_rel_p90).c_str(), s.weights_n);
    std::printf("KV tokens rel. error  median %s  p90 %s  (n=%zu)\n",
                f(s.tokens_rel_median).c_str(), f(s.tokens_rel_p90).c_str(), s.tokens_n);
    std::printf("activation abs. error median %s GiB  p90 %s GiB  (n=%zu)\n",
                f(s.activation_abs_median_gib).c_str(), f(s.activation_abs_p90_gib).c_str(),
                s.activation_n);
    std::printf("non-torch abs. error median %s GiB; CUDA graph abs. error median %s GiB\n",
                f(s.non_torch_abs_median_gib).c_str(), f(s.cuda_graph_abs_median_gib).c_str());
    std::printf("KV GiB abs. error     median %s  p90 %s\n", f(s.kv_gib_abs_median).c_str(),
                f(s.kv_gib_abs_p90).c_str());
    std::printf("fit/no-fit right      %s  (n=%zu)\n", f(s.fits_accuracy).c_str(), s.fits_n);
    if (!rep->missed_targets.empty()) {
      std::printf("MISSED targets:");
      for (const auto& m : rep->missed_targets) std::printf(" %s;", m.c_str());
      std::printf("\n");
      return 3;
    }
    std::printf("all targets met\n");
    return 0;
  }
  return 0;
}
