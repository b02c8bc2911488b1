// main.cpp — the `vllm-mem` executable: serve, estimate, plan, solve, place, sweep, models,
// versions, validate, mcp, one file each (cli.hpp says what they share).
//
// A thin adapter: flags become the same JSON request the API takes, so the CLI and the API share
// one decoder, one estimate and one set of error messages. Exit codes: 0 ok, 1 data or runtime
// error, 2 bad input (usage), 3 validate: a target missed.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "vllm_mem/ingest/catalogs.hpp"
#include "vllm_mem/version.hpp"

int main(int argc, char** argv) {
  using namespace vllm_mem;
  CLI::App app{
      "vllm-mem: how much GPU memory a model needs when served with vLLM, and whether it starts"};
  app.set_version_flag("--version,-V", std::string(kVersion));
  app.require_subcommand(1);

  // In the order --help lists them.
  const cli::serve_command serve = cli::add_serve(app);
  const std::vector<cli::command> commands = {
      cli::add_estimate(app), cli::add_plan(app),     cli::add_solve(app),
      cli::add_sweep(app),    cli::add_place(app),    cli::add_models(app),
      cli::add_versions(app), cli::add_validate(app), cli::add_mcp(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*serve.app) return serve.run();  // serves the database it loads (--data-dir)
  auto cat = load_embedded_catalogs();
  if (!cat)
    return cli::fail("the embedded database is invalid: " + cat.err().message, cli::exit_failure);
  for (const auto& c : commands) {
    if (*c.app) return c.run(*cat);
  }
  return cli::exit_ok;
}
