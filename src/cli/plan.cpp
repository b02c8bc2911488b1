// plan.cpp — `vllm-mem plan`, `solve`, `sweep` and `place`: the planner's four requests. plan,
// solve and sweep take the estimate's flags plus the planner's own (each the fields its request
// has); place reads the whole request from a JSON file. All four decode, run and print the same
// way (run_planner): the API's body with --json, else a table of it.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "vllm_mem/api/plan_json.hpp"
#include "vllm_mem/plan/placement.hpp"
#include "vllm_mem/plan/plan.hpp"
#include "vllm_mem/plan/solve.hpp"
#include "vllm_mem/plan/sweep.hpp"
#include "vllm_mem/util/json_limits.hpp"

namespace vllm_mem::cli {
namespace {

// Planner flags: the estimate's flag set plus the planner's own fields.
struct planner_flags {
  estimate_flags est;
  std::string gpus;         // comma-separated
  std::string prices_file;  // {"H100-80GB": 2.5, ...}
  std::string lists[2];     // context_lengths, batch_sizes (comma-separated)
  std::vector<std::string> solves;
  bool no_trades = false;
};

// The estimate's flags, then those of the planner's flags whose request field is in `fields`.
void add_planner_options(CLI::App* cmd, planner_flags& f, const std::vector<std::string>& fields) {
  add_estimate_options(cmd, f.est);
  add_field_options(cmd, f.est.values, field_group::planner, &fields);
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

void print_plan(json& p) {
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
        // max_num_seqs caps the concurrency, not memory: the setup holds what was asked.
        o["limiting_factor"] == "max_num_seqs" ? "none (holds all)"
                                               : o["limiting_factor"].get<std::string>().c_str(),
        fixed(o["max_concurrency"].get<double>()).c_str(),
        o["kv_cache_tokens"].get<unsigned long long>(), money(o["hourly_cost_usd"]).c_str(),
        o["trades_precision"].is_string() ? o["trades_precision"].get<std::string>().c_str() : "");
  }
  for (const auto& s : p["suggestions"])
    std::printf("\n  would fit (%s): %s", s["kind"].get<std::string>().c_str(),
                s["text"].get<std::string>().c_str());
  if (!p["suggestions"].empty()) std::printf("\n");
}

void print_solve(json& s) {
  const json& st = s["setup"];
  std::printf("%llux %s (tp %llu, pp %llu): %s\n\n", st["num_gpus"].get<unsigned long long>(),
              st["gpu_name"].get<std::string>().c_str(),
              st["tensor_parallel_size"].get<unsigned long long>(),
              st["pipeline_parallel_size"].get<unsigned long long>(),
              st["reason"].get<std::string>().c_str());
  for (auto it = s["solves"].begin(); it != s["solves"].end(); ++it) {
    json& v = it.value();
    std::printf("%-28s %s\n", it.key().c_str(),
                v["found"].get<bool>() ? v["value"].dump().c_str() : "none");
    std::printf("  %s\n", v["reason"].get<std::string>().c_str());
    // The longest context that starts at all (one request), beside the one that holds them all.
    if (v.contains("max_model_len_starts"))
      std::printf("  longest context that starts (one request at a time): %s\n",
                  v["max_model_len_starts"].dump().c_str());
    if (v["at_value"].is_object() && v["found"].get<bool>())
      std::printf("  %s\n", v["at_value"]["vllm_command"].get<std::string>().c_str());
  }
}

void print_placement(json& p) {
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

void print_sweep(json& s) {
  // starts: vLLM starts; fits: it also holds the batch at once (the API's notes say when).
  auto yes_no = [](const json& r, const char* key) {
    const auto it = r.find(key);
    return it == r.end() || !it->is_boolean() ? "-" : it->get<bool>() ? "yes" : "no";
  };
  auto table = [&yes_no](const json& rows, const char* axis) {
    std::printf("%-16s %-6s %-9s %-22s %12s %10s %10s %12s\n", axis, "starts", "fits",
                "limiting_factor", "kv_tokens", "max_conc", "kv_gib", "total_max_gb");
    for (const auto& r : rows) {
      std::printf(
          "%-16llu %-6s %-9s %-22s %12s %10s %10s %12s\n", r[axis].get<unsigned long long>(),
          yes_no(r, "starts"), yes_no(r, "fits"),
          !r.contains("limiting_factor") ? "-"
          : r["limiting_factor"] == "max_num_seqs"
              ? "none (holds all)"
              : r["limiting_factor"].get<std::string>().c_str(),
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
  for (const auto& n : s["notes"]) std::printf("\n%s\n", n.get<std::string>().c_str());
}

// Lists the flags of a vllm_command that did not change the answer (tables only).
void print_ignored(json& answer) {
  if (!answer.contains("ignored_flags")) return;
  for (const auto& f : answer["ignored_flags"])
    std::printf("  not used: %s\n", f.get<std::string>().c_str());
}

// Decodes, runs and prints one planner request; exit codes as for estimate.
template <class Parse, class Run>
int run_planner(const catalogs& cat, const json& body, bool as_json, Parse parse, Run run,
                table_printer print) {
  auto req = parse(body, cat.gpus);
  if (!req) return fail(req.err());
  auto res = run(*req, cat.models, cat.gpus);
  if (!res) return fail(res.err());
  json answer = to_json(*res);
  if constexpr (requires { req->setup.from_vllm_command; }) {
    answer = with_ignored_flags(req->setup, std::move(answer));
  } else if constexpr (requires { req->from_vllm_command; }) {
    answer = with_ignored_flags(*req, std::move(answer));
  }
  const int rc = print_answer(answer, as_json, print);
  if (!as_json) print_ignored(answer);
  return rc;
}

// plan, solve, sweep: a subcommand with the planner's flags for `fields`, whose request `parse`
// decodes and `run` answers.
template <class Parse, class Run>
command add_planner_command(CLI::App& app, const char* name, const char* help,
                            const std::vector<std::string>& fields, Parse parse, Run run,
                            table_printer print) {
  auto f = std::make_shared<planner_flags>();
  CLI::App* cmd = app.add_subcommand(name, help);
  add_planner_options(cmd, *f, fields);
  return {cmd, [f, parse, run, print](const catalogs& cat) {
            std::string err;
            auto body = build_planner_request(*f, err);
            if (!body || !add_vllm_command(f->est, *body, err)) return fail(err, exit_usage);
            return run_planner(cat, *body, f->est.as_json, parse, run, print);
          }};
}

struct place_flags {
  std::string file;  // the request, '-' for stdin
  bool as_json = false;
};

int run_place(const place_flags& f, const catalogs& cat) {
  std::string err;
  auto text = read_input(f.file, err);
  if (!text) return fail(err, exit_usage);
  auto body = parse_json_strict(*text);
  if (!body) return fail(f.file + ": " + body.err().message, exit_usage);
  return run_planner(cat, *body, f.as_json, parse_placement_request, place, print_placement);
}

}  // namespace

command add_plan(CLI::App& app) {
  return add_planner_command(
      app, "plan", "which GPU, how many, which vllm serve flags, at what cost (POST /plan)",
      plan_request_fields(), parse_plan_request, plan, print_plan);
}

command add_solve(CLI::App& app) {
  return add_planner_command(app, "solve",
                             "for one GPU setup: largest context, concurrency, smallest "
                             "utilization, fewest GPUs (POST /solve)",
                             {"num_gpus", "max_gpus", "gpus_per_node", "prices", "solve"},
                             parse_solve_request, solve, print_solve);
}

command add_sweep(CLI::App& app) {
  return add_planner_command(
      app, "sweep", "memory and KV capacity versus context length and batch size (POST /sweep)",
      {"num_gpus", "gpus_per_node", "context_lengths", "batch_sizes"}, parse_sweep_request, sweep,
      print_sweep);
}

command add_place(CLI::App& app) {
  auto f = std::make_shared<place_flags>();
  CLI::App* cmd = app.add_subcommand(
      "place", "several models on a GPU pool (POST /placement; the request as a JSON file)");
  cmd->add_option("request", f->file,
                  "JSON file ('-' for stdin): {\"models\": [...], \"gpu\": ..., \"num_gpus\": ...}")
      ->required();
  cmd->add_flag("--json", f->as_json, "print the API's JSON response body");
  return {cmd, [f](const catalogs& cat) { return run_place(*f, cat); }};
}

}  // namespace vllm_mem::cli
