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

  const command models_cmd = add_models(app);
  const command validate_cmd = add_validate(app);

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

  for (const command* c :
       {&estimate_cmd, &plan_cmd, &solve_cmd, &sweep_cmd, &place_cmd, &models_cmd, &validate_cmd}) {
    if (*c->app) return c->run(*cat);
  }
  return 0;
}
