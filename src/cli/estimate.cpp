// estimate.cpp — `vllm-mem estimate`: the flags become the API's estimate request; the answer is
// the API's body (--json) or a table of it. --hf-config / --model-dir add the model's files, and a
// Hugging Face id is looked up in the caches (and on the Hub with --hub) before the database.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "../hub/hub.hpp"
#include "cli.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/api/external_model.hpp"
#include "vllm_mem/estimate/estimate.hpp"

namespace vllm_mem::cli {
namespace {

void print_table(json& r) {
  auto row = [](const std::string& k, const std::string& v) {
    std::printf("  %-34s %s\n", k.c_str(), v.c_str());
  };
  std::printf("%s  (model_source: %s%s)\n", r["model_name"].get<std::string>().c_str(),
              r["model_source"].get<std::string>().c_str(),
              r["resolved_model_id"].is_string()
                  ? (", " + r["resolved_model_id"].get<std::string>()).c_str()
                  : "");
  // The architecture in one line; fields a layout does not have (a dense FFN in an all-MoE
  // model, head_dim under MLA) are left out rather than read as numbers.
  const json a = r["architecture_used"];
  auto count = [&a](const char* key) {
    const auto it = a.find(key);
    return it != a.end() && it->is_number_unsigned() ? std::to_string(it->get<std::uint64_t>())
                                                     : std::string();
  };
  std::string arch = count("num_layers") + " layers, hidden " + count("hidden_size") + ", " +
                     count("num_heads") + " heads (" + count("num_kv_heads") + " KV)";
  if (const auto lora = a.find("kv_lora_rank"); lora != a.end() && lora->is_number()) {
    arch += ", MLA latent " + count("kv_lora_rank") + " + rope " + count("qk_rope_head_dim");
  } else if (!count("head_dim").empty()) {
    arch += " x " + count("head_dim");
  }
  if (!count("num_experts").empty()) {
    arch += ", " + count("num_experts") + " experts (top " + count("num_experts_per_tok") +
            ") of " + count("moe_intermediate_size");
  }
  if (!count("intermediate_size").empty()) arch += ", FFN " + count("intermediate_size");
  arch += ", vocab " + count("vocab_size");
  std::printf("  architecture: %s\n", arch.c_str());
  std::printf("  parameters: %.3f B total, %.3f B active; %llu GPU(s)\n",
              static_cast<double>(r["parameters"]["total"].get<std::uint64_t>()) / 1e9,
              static_cast<double>(r["parameters"]["active"].get<std::uint64_t>()) / 1e9,
              r["num_gpus"].get<unsigned long long>());
  if (r.contains("vllm_startup")) {
    json& v = r["vllm_startup"];
    // With pipeline parallelism the memory lines are the first stage's GPU; the token count,
    // the concurrency and the start are the engine's (the tightest stage decides them).
    const bool stages = r["pipeline_parallel_size"].is_number() &&
                        r["pipeline_parallel_size"].get<std::uint64_t>() > 1;
    std::printf("\n  vLLM %s startup (%s engine), per GPU (GiB)%s\n",
                r["vllm_version"].get<std::string>().c_str(),
                r["vllm_engine"].get<std::string>().c_str(),
                stages ? " of the first pipeline stage; tokens and concurrency: the engine's" : "");
    row("total GPU memory", fixed(v["total_gpu_memory_gib"].get<double>()) + " GiB");
    row("requested (total x utilization)", fixed(v["requested_memory_gib"].get<double>()) + " GiB");
    if (const auto h = v.find("reserved_memory_gib"); h != v.end() && h->is_number())
      row("held by other processes", fixed(h->get<double>()) + " GiB (reserved_memory_gib)");
    row("Model loading took", fixed(v["weights_gib"].get<double>()) + " GiB");
    if (const auto h = v.find("draft_weights_gib"); h != v.end() && h->is_number())
      row("of which the drafter",
          fixed(h->get<double>()) + " GiB (" + v["speculative_method"].get<std::string>() + ", " +
              std::to_string(v["num_speculative_tokens"].get<std::uint64_t>()) +
              " speculative tokens)");
    if (const auto h = v.find("cpu_offload_gib"); h != v.end() && h->is_number())
      row("weights in host memory", fixed(h->get<double>()) + " GiB (--cpu-offload-gb)");
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
    // Sliding-window and state layers hold a window or a state per request, not every token:
    // vLLM's two figures then do not divide into each other (memory model §6.4).
    bool mixed = false;
    for (const auto& g : v["kv_cache_layer_groups"]) {
      const auto kind = g.find("kind");
      mixed = mixed || (kind != g.end() && *kind != "full_attention" && *kind != "indexer");
    }
    if (mixed)
      std::printf(
          "  %-34s %s\n", "",
          "(sliding-window or state layers: a request holds a window or a state there, so the "
          "token count is not concurrency x length)");
    row("starts", v["fits"].get<bool>() ? "yes" : "no");
    {
      // The verdict in words: the margin against the era's error bar (docs/accuracy.md).
      const std::string verdict = v["verdict"].get<std::string>();
      const bool within =
          std::abs(v["margin_gib"].get<double>()) <= v["uncertainty_gib"].get<double>();
      const std::string words = verdict == "fits" ? "fits"
                                : verdict == "marginal"
                                    ? (within ? "marginal (within the error bar)"
                                              : "marginal (the architecture is a guess)")
                                    : "does not fit";
      if (v["limiting_factor"] == "dtype") {
        row("verdict", "does not start: vLLM refuses this dtype for this model (below)");
      } else {
        row("verdict", words + ": margin " + fixed(v["margin_gib"].get<double>()) +
                           " GiB, error bar " + fixed(v["uncertainty_gib"].get<double>()) + " GiB");
      }
      if (v["verdict_advice"].is_string())
        row("to be safe", v["verdict_advice"].get<std::string>());
    }
    const std::uint64_t longest = v["max_model_len_fit"].get<std::uint64_t>();
    row("largest max_model_len that starts",
        longest > 0 ? std::to_string(longest)
                    : std::string("none: no length starts (see the limiting factor)"));
    row("limiting factor", v["limiting_factor"].get<std::string>());
    row("flags", v["vllm_args"].get<std::string>());
    if (v["error"].is_string())
      std::printf("\n  vLLM would fail: %s\n", v["error"].get<std::string>().c_str());
  }
  // The seed's figures: every sequence at full length, an upper bound rather than what vLLM
  // allocates; after vLLM's own figures so the verdict comes first.
  std::printf(
      "\n  seed estimate, per GPU (decimal GB): all max_batch_size sequences at full length, an "
      "upper bound\n");
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
  if (r.contains("checkpoint")) {
    json& c = r["checkpoint"];
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
  if (r.contains("ignored_flags")) {
    std::printf("\n  from: %s\n", r["vllm_command"].get<std::string>().c_str());
    for (const auto& f : r["ignored_flags"])
      std::printf("  not used: %s\n", f.get<std::string>().c_str());
  }
}

// --hf-config / --model-dir become the request's hf_config and safetensors fields; a plain
// --model ORG/NAME is looked up in the Hugging Face cache before the database, then in
// vllm-mem's cache and on the Hub when Hub access is on (docs/hub.md).
int add_model_files(const estimate_flags& f, json& body) {
  namespace fs = std::filesystem;
  if (!f.hf_config_file.empty()) {
    auto cfg = hub::read_config_file(f.hf_config_file);
    if (!cfg) return fail(cfg.err().message, exit_usage);
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
    if (!m) return fail(m.err().message, exit_usage);
    if (!body.contains("model_name")) {
      fs::path p(f.model_dir);
      std::string name = p.filename().string();
      if (name.empty()) name = p.parent_path().filename().string();
      body["model_name"] = name.empty() ? std::string("model") : name.substr(0, 256);
    }
    body["hf_config"] = m->config;
    if (m->safetensors) body["safetensors"] = to_json(*m->safetensors);
  }
  return exit_ok;
}

// Like vLLM, the CLI looks an id the database does not hold up on the Hub (the caches first).
// Asked for with --hub, a failed lookup is an error; by default it is tried (HF_ENDPOINT says
// where) with a short timeout and, when it fails, said on stderr and answered offline. --offline
// and HF_HUB_OFFLINE=1 keep it off the network.
int look_up_model(const estimate_flags& f, const catalogs& cat, estimate_request& req) {
  if (request_describes_model(req) || !valid_hub_model_id(req.model_name)) return exit_ok;
  const bool asked = f.hub;
  auto opts = hub::options_from_env(true);
  if (!opts) return fail(opts.err().message, exit_usage);
  if (f.offline) opts->offline = true;  // as HF_HUB_OFFLINE=1
  if (!asked) {
    opts->connect_timeout_ms = 2000;
    opts->total_timeout_ms = 8000;
  }
  const hub::model_locator locator(*opts);
  auto cached = locator.find_cached(req.model_name);
  if (!cached) return fail(cached.err());
  std::optional<external_model> found = std::move(*cached);
  const bool try_hub = asked ? opts->network : locator.network_allowed();
  if (!found && try_hub && !cat.models.resolve(req.model_name)) {
    auto fetched = locator.locate(req.model_name);  // says so when HF_HUB_OFFLINE forbids it
    if (fetched) {
      found = std::move(*fetched);
    } else if (asked) {
      return fail(fetched.err());
    } else {
      std::cerr << "note: " << fetched.err().message
                << "; answering from the database and the name (--offline skips the Hub)\n";
    }
  }
  if (found) {
    estimate_request with = req;
    if (auto s = attach_external_model(with, *found); !s) {
      // A cached config the calculator cannot read does not hide the database's entry.
      if (cat.models.resolve(req.model_name)) return exit_ok;
      return fail(s.err());
    }
    req = std::move(with);
  }
  return exit_ok;
}

// `vllm-mem estimate`: decode, look the model up, estimate, print.
int run_estimate(const estimate_flags& f, const catalogs& cat) {
  json body = build_request(f);
  if (std::string err; !add_vllm_command(f, body, err)) return fail(err, exit_usage);
  if (int rc = add_model_files(f, body); rc != 0) return rc;
  auto req = parse_estimate_request(body);
  if (!req) return fail(req.err());
  if (int rc = look_up_model(f, cat, *req); rc != 0) return rc;
  auto res = estimate(*req, cat.models, cat.gpus);
  if (!res) return fail(res.err());
  std::string text;
  append_json(text, *res);  // the API's response body, byte for byte
  return print_answer(text, f.as_json, print_table);
}

}  // namespace

command add_estimate(CLI::App& app) {
  auto f = std::make_shared<estimate_flags>();
  CLI::App* cmd = app.add_subcommand(
      "estimate", "estimate memory for a model and workload (same fields as the API)");
  add_estimate_options(cmd, *f);
  return {cmd, [f](const catalogs& cat) { return run_estimate(*f, cat); }};
}

}  // namespace vllm_mem::cli
