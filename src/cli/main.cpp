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
#include "cli.hpp"
#include "vllm_mem/api/accuracy.hpp"
#include "vllm_mem/api/json_limits.hpp"
#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/catalogs.hpp"
#include "vllm_mem/ingest/external_model.hpp"
#include "vllm_mem/model/weights.hpp"
#include "vllm_mem/plan/planner.hpp"
#include "vllm_mem/version.hpp"

namespace {

using json = nlohmann::json;
using namespace vllm_mem;
using namespace vllm_mem::cli;

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

  const command estimate_cmd = add_estimate(app);

  const command plan_cmd = add_plan(app);
  const command solve_cmd = add_solve(app);
  const command sweep_cmd = add_sweep(app);
  const command place_cmd = add_place(app);

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

  if (*estimate_cmd.app) return estimate_cmd.run(*cat);

  for (const command* c : {&plan_cmd, &solve_cmd, &sweep_cmd, &place_cmd}) {
    if (*c->app) return c->run(*cat);
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
