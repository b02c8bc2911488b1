// cli.hpp — what the subcommands of `vllm-mem` share: exit codes and the error path, the
// request flags (the estimate's, which plan, solve and sweep extend), output formatting, and the
// one shape every subcommand has (`command`: its CLI11 subcommand and what runs when it is given).
//
// Each subcommand lives in its own file (serve.cpp, estimate.cpp, plan.cpp for plan, solve, sweep
// and place, models.cpp, validate.cpp) and exposes one `add_*` function; main.cpp adds them in the
// order --help lists them and runs the one given. The flags' values live in the state each `add_*`
// function allocates, owned by the command's `run`, so they outlive the parse.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "vllm_mem/api/external_model.hpp"
#include "vllm_mem/ingest/catalogs.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem::cli {

using json = nlohmann::json;

// Exit codes of every subcommand (CLI11's own parse errors keep CLI11's codes).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;         // data or runtime error
inline constexpr int exit_usage = 2;           // bad input
inline constexpr int exit_missed_targets = 3;  // validate: the predictions miss a target

// Prints "error: <message>" on stderr and returns `code`.
int fail(const std::string& message, int code);
// The same for a typed error: bad input (invalid_argument) exits 2, any other error 1.
int fail(const error& e);

// A subcommand as main.cpp sees it: the CLI11 subcommand, and what runs when it was given (the
// embedded database loaded; serve, which may load another, is main's one exception).
struct command {
  CLI::App* app = nullptr;
  std::function<int(const catalogs&)> run;
};

// --- the request flags -------------------------------------------------------------------------

// The raw values of the flags given, in order, as (request field, text); the body is built from
// them after the parse (build_request).
using field_values = std::vector<std::pair<std::string, std::string>>;

// The flags that set one request field each, in one table (cli.cpp): the estimate request's
// (architecture fields as "architecture.<name>"), and the planner's own, which plan, solve and
// sweep add to them.
enum class field_group { estimate, planner };

// Adds an option for each flag of `group` (with `only`, each whose field is in it) that appends
// (field, value) to `values` when given.
void add_field_options(CLI::App* cmd, field_values& values, field_group group,
                       const std::vector<std::string>* only = nullptr);

// The estimate's flags (the API's estimate request), which plan, solve and sweep take too.
struct estimate_flags {
  field_values values;  // field -> raw flag value
  std::string hf_config_file;
  std::string model_dir;
  std::vector<std::string> command_words;  // `-- vllm serve ...`: the words after --
  std::string command_file;                // --from-command FILE ('-': stdin)
  bool hub = false;      // --hub: look unknown ids up on the Hub, and a failed lookup is an error
  bool offline = false;  // --offline: never contact the Hub (as HF_HUB_OFFLINE=1)
  bool as_json = false;
};

void add_estimate_options(CLI::App* cmd, estimate_flags& f);

// The request body the flags describe (without --hf-config / --model-dir, which estimate reads).
json build_request(const estimate_flags& f);

// The vllm_command of `-- vllm serve ...` or --from-command FILE into `body`, flags given beside
// it winning (vllm_command.hpp merge_vllm_command). False with `err` set when the file cannot be
// read; the command itself is checked by the request decoder.
bool add_vllm_command(const estimate_flags& f, json& body, std::string& err);

// A flag value becomes a JSON number when it reads as one, else a string (the request decoder
// then reports a wrong type with the API's own message).
json flag_value(const std::string& s);

// "a, b,c" -> {"a", "b", "c"}: spaces dropped, empty items skipped.
std::vector<std::string> split_commas(const std::string& s);

// The bytes of the file at `path`, or nullopt with `err` set to "cannot read <path>".
std::optional<std::string> read_file(const std::string& path, std::string& err);
// The same, with "-" for standard input (place FILE, --from-command FILE).
std::optional<std::string> read_input(const std::string& path, std::string& err);

// --- output ------------------------------------------------------------------------------------

// `v` with `decimals` digits after the point ("%.*f").
std::string fixed(double v, int decimals = 2);

// Prints a subcommand's answer: with --json (`as_json`) the API's response body on one line, as
// the HTTP API sends it; otherwise the subcommand's table of it. Returns exit_ok.
using table_printer = void (*)(json& body);  // mutable: a missing key reads as null
int print_answer(const json& body, bool as_json, table_printer table);
// The same for a body written as text by the API's writer (estimate's append_json).
int print_answer(const std::string& body, bool as_json, table_printer table);

// --- the subcommands, in the order --help lists them -------------------------------------------

// serve runs apart: it loads the database it serves (--data-dir, or the embedded one) itself.
struct serve_command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};
serve_command add_serve(CLI::App& app);
// The Hub lookup of `serve --hub` and `mcp --hub` (on, or HF_ENDPOINT set; else none); `note`
// gets what the start-up line says of it.
result<model_lookup> hub_lookup(bool on, std::string& note);
command add_mcp(CLI::App& app);
command add_estimate(CLI::App& app);
command add_plan(CLI::App& app);
command add_solve(CLI::App& app);
command add_sweep(CLI::App& app);
command add_place(CLI::App& app);
command add_models(CLI::App& app);
command add_versions(CLI::App& app);
command add_validate(CLI::App& app);

}  // namespace vllm_mem::cli
