// serve.cpp — `vllm-mem serve`: the HTTP API (and web page) until SIGTERM/SIGINT. Every server
// setting is a flag and an environment variable (server_options.hpp); a flag wins over its
// variable. The database is the built-in copy or a --data-dir laid out as the repository's data/.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../http/router.hpp"
#include "../http/server.hpp"
#include "../hub/hub.hpp"
#include "cli.hpp"
#include "vllm_mem/version.hpp"

namespace vllm_mem::cli {
namespace {

struct serve_flags {
  std::vector<std::string> setting_values;  // one per http::server_settings()
  std::vector<CLI::Option*> setting_flags;
  std::string data_dir;
  bool hub = false;
};

// One flag per server setting, its environment variable named in its help.
void add_setting_options(CLI::App* serve, serve_flags& f) {
  const auto& settings = http::server_settings();
  f.setting_values.resize(settings.size());
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const auto& s = settings[i];
    std::string name(s.flag);
    if (s.flag == "--port") name += ",-p";
    const std::string help = std::string(s.help) + " [env " + std::string(s.env) + "]";
    if (s.is_switch) {
      f.setting_flags.push_back(serve->add_flag(name, help));
      continue;
    }
    const std::string_view flag = s.flag;
    const char* type = flag == "--host"                                  ? "ADDRESS"
                       : flag == "--log-level"                           ? "LEVEL"
                       : flag.find("-bytes") != std::string_view::npos   ? "BYTES"
                       : flag.find("-timeout") != std::string_view::npos ? "SECONDS"
                                                                         : "N";
    f.setting_flags.push_back(serve->add_option(name, f.setting_values[i], help)->type_name(type));
  }
}

// The server's options from the flags and, for those not given, the environment; a bad value of
// either stops here, named (exit 2).
int read_settings(const serve_flags& f, http::server_options& opt) {
  const auto& settings = http::server_settings();
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const auto& s = settings[i];
    std::string text, source;
    if (f.setting_flags[i]->count() > 0) {
      text = s.is_switch ? "1" : f.setting_values[i];
      source = std::string(s.flag);
    } else if (const char* env = std::getenv(std::string(s.env).c_str())) {
      text = env;
      source = "environment variable " + std::string(s.env);
    } else {
      continue;
    }
    if (auto err = http::apply_setting(opt, s, text); !err.empty())
      return fail(source + ": " + err, exit_usage);
  }
  return exit_ok;
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
  std::string note;
  auto lookup = hub_lookup(serve_hub, note);
  if (!lookup) return fail(lookup.err().message, exit_usage);
  if (!data_dir.empty()) note += "; database from " + data_dir;
  // A closed stderr (a supervisor that went away) must not kill the server through SIGPIPE when it
  // logs; sockets never raise it (Asio sends with MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  http::router router(cat, *lookup);
  http::server srv(router, opt);
  // The handlers go in before the server answers anything: a SIGTERM right after the first
  // response (a supervisor's, a test's) must stop it gracefully, not kill it.
  srv.handle_signals();
  if (auto err = srv.start(); !err.empty()) return fail(err, exit_failure);
  const bool info = opt.level >= http::log_level::info;
  if (info) {
    std::fprintf(stderr, "vllm-mem %s serving on http://%s:%u (%zu models, %zu GPUs%s)\n",
                 std::string(kVersion).c_str(), opt.host.c_str(), srv.port(),
                 cat.models.entries().size(), cat.gpus.entries().size(), note.c_str());
  }
  srv.wait();
  if (info) std::fprintf(stderr, "vllm-mem: stopped\n");
  return exit_ok;
}

int run_serve(serve_flags& f) {
  http::server_options opt;
  if (int rc = read_settings(f, opt); rc != exit_ok) return rc;
  if (f.data_dir.empty()) {
    if (const char* env = std::getenv("VLLM_MEM_DATA_DIR")) f.data_dir = env;
  }
  std::string load_err;
  auto served = f.data_dir.empty() ? load_embedded_catalogs() : load_data_dir(f.data_dir, load_err);
  if (!load_err.empty()) return fail(load_err, exit_failure);
  if (!served) {
    return fail((f.data_dir.empty() ? "the embedded database is invalid: "
                                    : "the database in " + f.data_dir + " is invalid: ") +
                    served.err().message,
                exit_failure);
  }
  return serve_api(*served, opt, f.hub, f.data_dir);
}

}  // namespace

result<model_lookup> hub_lookup(bool on, std::string& note) {
  if (!on && std::getenv("HF_ENDPOINT") == nullptr) return model_lookup{};
  auto opts = hub::options_from_env(true);
  if (!opts) return opts.err();
  auto locator = std::make_shared<const hub::model_locator>(*opts);
  note = "; Hub lookups via " + opts->endpoint + (opts->offline ? " (offline: caches only)" : "");
  return model_lookup{[locator](std::string_view id) { return locator->locate(id); }};
}

serve_command add_serve(CLI::App& app) {
  auto f = std::make_shared<serve_flags>();
  CLI::App* serve = app.add_subcommand("serve", "run the HTTP API (and web page)");
  add_setting_options(serve, *f);
  serve->add_option("--data-dir", f->data_dir,
                    "serve the model database and GPU catalog from DIR (models/*.json, gpus.json, "
                    "laid out as the repository's data/) instead of the built-in copy [env "
                    "VLLM_MEM_DATA_DIR]");
  serve->add_flag("--hub", f->hub,
                  "resolve models that are not in the database through the Hugging Face cache "
                  "and Hub (also on when HF_ENDPOINT is set; see docs/hub.md)");
  return {serve, [f] { return run_serve(*f); }};
}

}  // namespace vllm_mem::cli
