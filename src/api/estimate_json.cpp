// api/estimate_json.cpp — the /estimate-gpu-memory response body.
#include "vllm_mem/api/estimate_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/util/json_writer.hpp"

namespace vllm_mem {

using json = nlohmann::json;

void append_json(std::string& out, const estimate_result& e) {
  // Keys in byte order: the order nlohmann's std::map objects print (json_writer.hpp).
  const seed_components& c = e.bytes;
  const double model_params_gb = bytes_to_gb(c.model_params);
  const double activation_gb = bytes_to_gb(c.activation);
  const double min_kv_gb = bytes_to_gb(c.min_kv_cache);
  const double max_kv_gb = bytes_to_gb(c.max_kv_cache);
  const double overhead_gb = bytes_to_gb(c.cuda_overhead);
  json_writer w(out);
  w.begin_object();
  w.key("activation_memory_gb").f64(activation_gb);
  w.key("architecture_used");
  write_json(w, e.model.arch);
  if (e.checkpoint) {
    // Rare (a request with the checkpoint's bytes): the safetensors module's DOM, as text.
    json ck = to_json(*e.checkpoint);
    ck["architecture_bytes"] = e.checkpoint_layout_bytes;
    w.key("checkpoint").raw(ck.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  w.key("components_breakdown").begin_object();
  w.key("activation").f64(activation_gb);
  w.key("cuda_overhead").f64(overhead_gb);
  w.key("max_kv_cache").f64(max_kv_gb);
  w.key("min_kv_cache").f64(min_kv_gb);
  w.key("model_params").f64(model_params_gb);
  w.end_object();
  w.key("components_bytes").begin_object();
  w.key("activation").u64(c.activation);
  w.key("cuda_overhead").u64(c.cuda_overhead);
  w.key("kv_cache_per_token").u64(e.kv_cache_bytes_per_token);
  w.key("max_kv_cache").u64(c.max_kv_cache);
  w.key("min_kv_cache").u64(c.min_kv_cache);
  w.key("model_params").u64(c.model_params);
  w.key("recommended").u64(c.recommended);
  w.key("total_max").u64(c.total_max);
  w.key("total_min").u64(c.total_min);
  w.end_object();
  w.key("cuda_overhead_gb").f64(overhead_gb);
  if (e.from_vllm_command) {
    w.key("ignored_flags").begin_array();
    for (const auto& f : e.ignored_flags) w.string(f);
    w.end_array();
  }
  w.key("max_kv_cache_memory_gb").f64(max_kv_gb);
  w.key("min_kv_cache_memory_gb").f64(min_kv_gb);
  w.key("model_match");
  e.model.match.empty() ? w.null() : w.string(e.model.match);
  w.key("model_name").string(e.model_name);
  if (!e.model_origin.empty()) w.key("model_origin").string(e.model_origin);
  w.key("model_params_memory_gb").f64(model_params_gb);
  w.key("model_source").string(e.model.source);
  w.key("num_gpus").u64(e.num_gpus);
  w.key("parameters").begin_object();
  w.key("active").u64(e.params.active);
  w.key("convention")
      .string(
          "active = all non-expert parameters + top-k routed experts, both embedding matrices "
          "counted");
  w.key("total").u64(e.params.total);
  w.end_object();
  w.key("pipeline_parallel_size").u64(e.deploy.pp);
  w.key("recommended_memory_gb").f64(bytes_to_gb(c.recommended));
  w.key("resolved_model_id");
  e.model.resolved_id.empty() ? w.null() : w.string(e.model.resolved_id);
  w.key("tensor_parallel_size").u64(e.deploy.tp);
  w.key("total_max_memory_gb").f64(bytes_to_gb(c.total_max));
  w.key("total_min_memory_gb").f64(bytes_to_gb(c.total_min));
  if (e.from_vllm_command) {
    // The canonical command back: it parses to the same estimate.
    w.key("vllm_command").string("vllm serve " + e.model_name + " " + e.vllm_args);
  }
  w.key("vllm_engine").string(e.deploy.profile.engine == engine_kind::v0 ? "v0" : "v1");
  if (e.has_gpu) {
    const startup_result& s = e.startup;
    auto gib = [](auto bytes) { return bytes_to_gib(static_cast<double>(bytes)); };
    w.key("vllm_startup").begin_object();
    w.key("activation_peak_gib").f64(gib(s.activation_logged_bytes));
    w.key("block_size").u64(e.deploy.block_size);
    w.key("calibrated").boolean(e.deploy.profile.calibrated);
    if (e.deploy.cpu_offload_bytes > 0) w.key("cpu_offload_gib").f64(gib(s.weights.cpu_offload));
    w.key("cuda_context_gib").f64(gib(s.cuda_context_bytes));
    w.key("cuda_graph_estimate_gib").f64(gib(s.cuda_graph_estimate_bytes));
    w.key("cuda_graph_gib").f64(gib(s.cuda_graph_bytes));
    w.key("cuda_graph_in_budget").boolean(s.cuda_graph_in_budget);
    if (e.deploy.spec.enabled()) w.key("draft_weights_gib").f64(gib(s.weights.draft));
    w.key("cuda_graphs_captured").u64(s.cuda_graphs);
    w.key("error");
    s.error.empty() ? w.null() : w.string(s.error);
    w.key("fits").boolean(s.fits);
    w.key("gpu");
    e.gpu_id.empty() ? w.null() : w.string(e.gpu_id);
    w.key("gpu_memory_utilization").f64(e.gpu_memory_utilization);
    w.key("interconnect").string(interconnect_name(e.deploy.interconnect));
    w.key("kv_cache_bytes").i64(s.kv_cache_bytes);
    w.key("kv_cache_gib").f64(gib(s.kv_cache_bytes));
    w.key("kv_cache_groups").u64(s.kv.groups);
    w.key("kv_cache_layer_groups").begin_array();
    for (const layer_group_info& g : s.kv.group_list) {
      w.begin_object();
      w.key("block_size").u64(g.block_size);
      // Per sequence: state layers and DeepSeek-V4's windowed caches (a fixed size per request).
      if (g.kind == layer_group_kind::state || g.bytes_per_sequence > 0) {
        w.key("bytes_per_sequence").u64(g.bytes_per_sequence);
      } else {
        w.key("bytes_per_token").u64(g.bytes_per_token);
      }
      if (g.compress_ratio > 0) w.key("compress_ratio").u64(g.compress_ratio);
      w.key("groups").u64(g.groups);
      w.key("kind").string(layer_group_kind_name(g.kind));
      w.key("layers").u64(g.layers);
      w.key("page_bytes").u64(g.page_bytes);
      if (g.kind == layer_group_kind::state) {
        w.key("state_bytes_per_layer").u64(g.state_bytes_per_layer);
        w.key("state_kind").string(g.state_kind);
      }
      w.end_object();
    }
    w.end_array();
    w.key("kv_cache_tokens").u64(s.kv_cache_tokens);
    w.key("kv_margin_gib").f64(gib(s.kv_margin_bytes));
    w.key("limiting_factor").string(limiting_factor_name(s.limit));
    if (e.deploy.lora.enabled) w.key("lora_weights_gib").f64(gib(s.weights.lora));
    w.key("margin_gib").f64(gib(s.margin_bytes));
    w.key("max_concurrency").f64(std::round(s.max_concurrency * 100.0) / 100.0);
    w.key("max_model_len").u64(e.deploy.max_model_len);
    w.key("max_model_len_fit").u64(s.max_model_len_fit);
    w.key("max_num_batched_tokens").u64(e.deploy.max_num_batched_tokens);
    w.key("max_num_seqs").u64(e.deploy.max_num_seqs);
    w.key("model_runner").string(model_runner_name(e.deploy.runner));
    w.key("non_torch_gib").f64(gib(s.non_torch_bytes));
    w.key("num_gpu_blocks").u64(s.num_gpu_blocks);
    if (e.deploy.spec.enabled()) {
      w.key("num_speculative_tokens").u64(e.deploy.spec.num_speculative_tokens);
    }
    w.key("process_footprint_gib")
        .f64(bytes_to_gib(
            static_cast<double>(s.requested_bytes + s.cuda_context_bytes) +
            static_cast<double>(s.cuda_graph_bytes -
                                std::min(s.cuda_graph_bytes, s.cuda_graph_estimate_bytes))));
    w.key("requested_memory_gib").f64(gib(s.requested_bytes));
    if (e.deploy.reserved_bytes > 0) w.key("reserved_memory_gib").f64(gib(e.deploy.reserved_bytes));
    if (e.deploy.spec.enabled()) {
      w.key("speculative_method").string(spec_method_name(e.deploy.spec.method));
    }
    w.key("state_bytes_per_sequence").u64(s.kv.state_bytes_per_sequence);
    w.key("total_gpu_memory_gib").f64(gib(s.total_bytes));
    w.key("uncertainty_gib").f64(gib(s.uncertainty_bytes));
    w.key("verdict").string(startup_verdict_name(s.verdict));
    w.key("verdict_advice");
    s.verdict_advice.empty() ? w.null() : w.string(s.verdict_advice);
    w.key("vllm_args").string(e.vllm_args);
    w.key("vllm_version").string(e.deploy.profile.version.text());
    w.key("weights_gib").f64(gib(s.weights.total()));
    w.end_object();
  }
  w.key("vllm_version").string(e.deploy.profile.version.text());
  w.key("warning");
  if (e.warnings.empty()) {
    w.null();
  } else {
    std::string joined;
    for (const auto& s : e.warnings) {
      if (!joined.empty()) joined += " | ";
      joined += s;
    }
    w.string(joined);
  }
  w.end_object();
}

json to_json(const estimate_result& e) {
  std::string text;
  append_json(text, e);
  return json::parse(text);
}

namespace {

const char* runner_rule_text(runner_rule r) {
  switch (r) {
    case runner_rule::v1_only:
      return "v1";
    case runner_rule::qwen3_dense:
      return "v2 for dense unquantized Qwen3, else v1";
    case runner_rule::whitelist_023:
      return "v2 for dense unquantized Qwen3, Llama, Mistral, else v1";
    case runner_rule::dense:
      return "v2 for dense (non-MoE, non-hybrid) models, else v1";
    case runner_rule::all:
      return "v2";
  }
  return "v1";
}

}  // namespace

json versions_json() {
  json rows = json::array();
  rows.push_back({{"range", "0.4-0.7"},
                  {"from", "0.4.0"},
                  {"engines", {"v0", "v1"}},
                  {"runner_default", "v0 (V0 engine); v1 with vllm_engine v1 from 0.7"},
                  {"budget_rule", "free_delta (<= 0.6.3), global (0.6.4), per_instance (>= 0.6.5)"},
                  {"cuda_graph_estimate_charged", false},
                  {"default_gpu_memory_utilization", 0.9},
                  {"calibrated", true},
                  {"rows_scored", "set 1 and set 2 (docs/accuracy.md)"}});
  rows.push_back({{"range", "0.8-0.19"},
                  {"from", "0.8.0"},
                  {"engines", {"v1", "v0"}},
                  {"runner_default", "v1 (v0 with vllm_engine v0, up to 0.10)"},
                  {"budget_rule", "global (< 0.9.2), per_instance (>= 0.9.2)"},
                  {"cuda_graph_estimate_charged", false},
                  {"default_gpu_memory_utilization", 0.9},
                  {"calibrated", true},
                  {"rows_scored", "set 1 and set 2 (docs/accuracy.md)"}});
  for (const auto& r : profile_rows()) {
    rows.push_back({{"range", r.range},
                    {"from", r.from.text()},
                    {"engines", {"v1"}},
                    {"runner_default", runner_rule_text(r.runner)},
                    {"budget_rule", budget_mode_name(r.budget)},
                    {"cuda_graph_estimate_charged", true},
                    {"mrv2_cuda_graph_estimate", r.mrv2_graph_estimate},
                    {"kv_tokens_report", r.tokens == kv_tokens_report::blocks_per_group
                                             ? "(blocks // groups) * block_size"
                                             : "int(concurrency * max_model_len)"},
                    {"default_gpu_memory_utilization", r.default_utilization},
                    {"calibrated", r.calibrated},
                    {"rows_scored", r.set3_rows}});
  }
  return json{{"default_version", std::string(kDefaultVersion)},
              {"newest_profile", std::string(kNewestProfileVersion)},
              {"newest_calibrated", std::string(kNewestCalibratedVersion)},
              {"versions", rows}};
}

}  // namespace vllm_mem
