// models.cpp — `vllm-mem models` (the database as GET /known-architectures lists it, filtered)
// and `vllm-mem models show ID` (GET /models/ID): the router answers, the CLI prints.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "../http/router.hpp"
#include "cli.hpp"
#include "vllm_mem/api/estimate_json.hpp"

namespace vllm_mem::cli {
namespace {

struct models_flags {
  std::string family, search, quantized;
  std::string show_id;
  bool as_json = false;
  CLI::App* show = nullptr;
};

// Appends `key`=`value` (percent-encoded) to the query string `query`; an empty value adds nothing.
void add_query(std::string& query, const char* key, const std::string& value) {
  if (value.empty()) return;
  std::string enc;
  for (char ch : value) {
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_') {
      enc.push_back(ch);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(ch));
      enc += buf;
    }
  }
  query += (query.empty() ? "?" : "&") + std::string(key) + "=" + enc;
}

// One line per model: id, family, size, layers, context (k tokens), and what is special about it.
void print_models(json& all) {
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
                m["family"].get<std::string>().c_str(), params.c_str(), layers.c_str(), ctx.c_str(),
                notes.c_str());
  }
  std::printf("%zu models\n", all.size());
}

int run_models(const models_flags& f, const catalogs& cat) {
  http::router router(cat);
  if (*f.show) {
    auto r = router.handle({"GET", "/models/" + f.show_id, "", "", ""});
    if (r.status != 200)
      return fail(json::parse(r.body)["detail"].get<std::string>(), exit_failure);
    std::cout << json::parse(r.body).dump(2) << "\n";
    return exit_ok;
  }
  std::string query;
  add_query(query, "family", f.family);
  add_query(query, "q", f.search);
  add_query(query, "quantized", f.quantized);
  auto r = router.handle({"GET", "/known-architectures" + query, "", "", ""});
  if (r.status != 200) return fail(json::parse(r.body)["detail"].get<std::string>(), exit_usage);
  json all = json::parse(r.body);
  if (f.as_json) {
    std::cout << all.dump(2) << "\n";
  } else {
    print_models(all);
  }
  return exit_ok;
}

}  // namespace

command add_models(CLI::App& app) {
  auto f = std::make_shared<models_flags>();
  CLI::App* models = app.add_subcommand("models", "list the model database");
  models->add_option("--family", f->family, "filter by family (substring)");
  models->add_option("--search,-q", f->search, "filter by name (substring)");
  models->add_option("--quantized", f->quantized,
                     "true: only quantized checkpoints; false: only unquantized ones");
  models->add_flag("--json", f->as_json, "print GET /known-architectures' JSON");
  f->show = models->add_subcommand("show", "one database entry");
  f->show->add_option("id", f->show_id, "model id")->required();
  f->show->add_flag("--json", f->as_json, "print JSON (default for show)");
  return {models, [f](const catalogs& cat) { return run_models(*f, cat); }};
}

// `vllm-mem versions`: the vLLM versions modelled, as GET /versions lists them.
command add_versions(CLI::App& app) {
  CLI::App* versions = app.add_subcommand("versions", "the vLLM versions modelled (GET /versions)");
  return {versions, [](const catalogs&) {
            std::cout << versions_json().dump(2) << "\n";
            return exit_ok;
          }};
}

}  // namespace vllm_mem::cli
