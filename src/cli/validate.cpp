// validate.cpp — `vllm-mem validate CASES`: the startup model scored against real vLLM startup
// cases (api/accuracy.hpp), printed per case and summarised as text, Markdown or JSON. Exit 3 when
// a target is missed.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli.hpp"
#include "vllm_mem/api/accuracy.hpp"
#include "vllm_mem/util/json_limits.hpp"

namespace vllm_mem::cli {
namespace {

struct validate_flags {
  std::string cases_path;
  bool as_json = false, quiet = false, markdown = false;
};

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

// The report as JSON: the summary, one row per case, the targets missed.
void print_json_report(const accuracy_report& rep) {
  json rows = json::array();
  for (const auto& r : rep.rows) {
    rows.push_back({{"id", r.id},
                    {"model", r.model},
                    {"covered", r.covered},
                    {"miss", r.miss},
                    {"predicted", r.predicted},
                    {"expected", r.expected}});
  }
  std::cout << json{{"summary", to_json(rep.summary)},
                    {"rows", rows},
                    {"missed_targets", rep.missed_targets}}
                   .dump(1)
            << "\n";
}

// Every figure of every case the log holds, predicted next to logged.
void print_cases(const accuracy_report& rep) {
  const char* keys[] = {"weights_gib",  "activation_peak_gib", "non_torch_gib",   "cuda_graph_gib",
                        "kv_cache_gib", "kv_cache_tokens",     "max_concurrency", "fits"};
  for (const auto& r : rep.rows) {
    std::printf("%-8s %s\n", r.id.c_str(), r.model.c_str());
    if (!r.covered) {
      std::printf("         not covered: %s\n", r.miss.c_str());
      continue;
    }
    for (const char* k : keys) {
      if (!r.expected.contains(k)) continue;
      std::printf("         %-22s predicted %-14s logged %s\n", k, r.predicted[k].dump().c_str(),
                  r.expected[k].dump().c_str());
    }
  }
}

// The summary as text, then the targets missed (or that all were met).
void print_summary(const accuracy_report& rep) {
  const auto& s = rep.summary;
  auto f = [](const std::optional<double>& v) { return v ? fixed(*v, 3) : std::string("n/a"); };
  std::printf("\ncases %zu, coverage %s\n", s.cases, fixed(s.coverage, 3).c_str());
  std::printf("weights   rel. error  median %s  p90 %s  (n=%zu)\n", f(s.weights_rel_median).c_str(),
              f(s.weights_rel_p90).c_str(), s.weights_n);
  std::printf("KV tokens rel. error  median %s  p90 %s  (n=%zu)\n", f(s.tokens_rel_median).c_str(),
              f(s.tokens_rel_p90).c_str(), s.tokens_n);
  std::printf("activation abs. error median %s GiB  p90 %s GiB  (n=%zu)\n",
              f(s.activation_abs_median_gib).c_str(), f(s.activation_abs_p90_gib).c_str(),
              s.activation_n);
  std::printf("non-torch abs. error median %s GiB; CUDA graph abs. error median %s GiB\n",
              f(s.non_torch_abs_median_gib).c_str(), f(s.cuda_graph_abs_median_gib).c_str());
  std::printf("KV GiB abs. error     median %s  p90 %s\n", f(s.kv_gib_abs_median).c_str(),
              f(s.kv_gib_abs_p90).c_str());
  std::printf("fit/no-fit right      %s  (n=%zu)\n", f(s.fits_accuracy).c_str(), s.fits_n);
  if (!rep.missed_targets.empty()) {
    std::printf("MISSED targets:");
    for (const auto& m : rep.missed_targets) std::printf(" %s;", m.c_str());
    std::printf("\n");
    return;
  }
  std::printf("all targets met\n");
}

int run_validate(const validate_flags& f, const catalogs& cat) {
  std::string err;
  auto text = read_file(f.cases_path, err);
  if (!text) return fail(err, exit_failure);
  auto cases = parse_json_strict(*text, json_limits{64, 1 << 20, 10000000});
  if (!cases) return fail(f.cases_path + ": " + cases.err().message, exit_failure);
  auto rep = score_cases(*cases, cat);
  if (!rep) return fail(rep.err().message, exit_failure);
  if (f.as_json) {
    print_json_report(*rep);
  } else if (f.markdown) {
    print_markdown(*rep);
  } else {
    if (!f.quiet) print_cases(*rep);
    print_summary(*rep);
  }
  return rep->missed_targets.empty() ? exit_ok : exit_missed_targets;
}

}  // namespace

command add_validate(CLI::App& app) {
  auto f = std::make_shared<validate_flags>();
  CLI::App* validate =
      app.add_subcommand("validate", "score the startup model against real vLLM startup cases");
  validate
      ->add_option("cases", f->cases_path,
                   "cases file (e.g. ../shared/ground-truth/vllm-startup-cases.dev.json)")
      ->required();
  validate->add_flag("--json", f->as_json, "print the report as JSON");
  validate->add_flag("--quiet", f->quiet, "only the summary");
  validate->add_flag("--markdown", f->markdown, "print the per-case table and summary as Markdown");
  return {validate, [f](const catalogs& cat) { return run_validate(*f, cat); }};
}

}  // namespace vllm_mem::cli
