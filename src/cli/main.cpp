// main.cpp — the `vllm-mem` executable: serve, estimate, models, validate.
//
// A thin adapter: flags become the same JSON request the API takes, so the CLI and the API share
// one decoder, one estimate and one set of error messages. Exit codes: 0 ok, 1 data or runtime
// error, 2 bad input (usage).
#include <cmath>
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
#include "vllm_mem/accuracy.hpp"
#include "vllm_mem/catalogs.hpp"
#include "vllm_mem/estimate.hpp"
#include "vllm_mem/external_model.hpp"
#include "vllm_mem/json_limits.hpp"
#include "vllm_mem/version.hpp"
#include "vllm_mem/weights.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "vllm-mem: how much GPU memory a model needs when served with vLLM, and whether it starts"};
  app.set_version_flag("--version,-V", std::string(kVersion));
  app.require_subcommand(1);

  // serve
  std::string host = "127.0.0.1";
  int port = 8000;
  unsigned threads = 0;
  bool access_log = false;
  auto* serve = app.add_subcommand("serve", "run the HTTP API (and web page)");
  serve->add_option("--host", host, "address to listen on")->capture_default_str();
  serve->add_option("--port,-p", port, "port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve->add_option("--threads", threads, "I/O threads (default: one per core)");
  serve->add_flag("--access-log", access_log, "log one line per request to stderr");
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto cat = load_embedded_catalogs();
  if (!cat) return fail("the embedded database is invalid: " + cat.err().message, 1);

  if (*serve) {
    model_lookup lookup;
    std::string hub_note;
    if (serve_hub || std::getenv("HF_ENDPOINT") != nullptr) {
      auto opts = hub::options_from_env(true);
      if (!opts) return fail(opts.err().message, 2);
      auto locator = std::make_shared<const hub::model_locator>(*opts);
      lookup = [locator](std::string_view id) { return locator->locate(id); };
      hub_note =
          "; Hub lookups via " + opts->endpoint + (opts->offline ? " (offline: caches only)" : "");
    }
    http::router router(*cat, lookup);
    http::server_options opt;
    opt.host = host;
    opt.port = static_cast<std::uint16_t>(port);
    opt.threads = threads;
    opt.access_log = access_log;
    http::server srv(router, opt);
    if (auto err = srv.start(); !err.empty()) return fail(err, 1);
    srv.handle_signals();
    std::fprintf(stderr, "vllm-mem %s serving on http://%s:%u (%zu models, %zu GPUs%s)\n",
                 std::string(kVersion).c_str(), host.c_str(), srv.port(),
                 cat->models.entries().size(), cat->gpus.entries().size(), hub_note.c_str());
    srv.wait();
    return 0;
  }

  if (*est) {
    json body = build_request(ef);
    if (int rc = add_model_files(ef, body); rc != 0) return rc;
    auto req = parse_estimate_request(body);
    if (!req) return fail(req.err().message, exit_code_for(req.err()));
    if (int rc = look_up_model(ef, *cat, *req); rc != 0) return rc;
    auto res = estimate(*req, cat->models, cat->gpus);
    if (!res) return fail(res.err().message, exit_code_for(res.err()));
    const json out = to_json(*res);
    if (ef.as_json) {
      std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      print_table(out);
    }
    return 0;
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
