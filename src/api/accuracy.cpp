// api/accuracy.cpp — the same scoring as tools/score_accuracy.py, in process.
#include "vllm_mem/api/accuracy.hpp"

#include <algorithm>
#include <cmath>

#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/estimate/estimate.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

std::optional<double> pct(std::vector<double> xs, double q) {
  if (xs.empty()) return std::nullopt;
  std::sort(xs.begin(), xs.end());
  // Python's round() (half to even), as tools/score_accuracy.py uses.
  const double pos = std::nearbyint(q * static_cast<double>(xs.size() - 1));
  const std::size_t k = std::min(xs.size() - 1, static_cast<std::size_t>(std::max(0.0, pos)));
  return xs[k];
}

}  // namespace

namespace {
result<accuracy_report> score_checked(const json& cases, const catalogs& c);
}  // namespace

// A cases file is the user's: a field of another type than the cases' format (a numeric id, a
// text where a figure belongs) is that file's error, said as such, never a crash.
result<accuracy_report> score_cases(const json& cases, const catalogs& c) {
  try {
    return score_checked(cases, c);
  } catch (const json::exception& e) {
    return make_error(error_code::invalid_argument,
                      std::string("a case has a field of the wrong type (") + e.what() + ")");
  }
}

namespace {

result<accuracy_report> score_checked(const json& cases, const catalogs& c) {
  if (!cases.is_array())
    return make_error(error_code::invalid_argument, "the cases file must hold a JSON array");
  accuracy_report rep;
  std::vector<double> w_err, t_err, act_err, nt_err, cg_err, kvg_err;
  std::size_t fits_ok = 0, fits_n = 0, covered = 0;
  for (const auto& cs : cases) {
    if (!cs.is_object() || !cs.contains("request") || !cs.contains("expected")) {
      return make_error(error_code::invalid_argument, "every case needs 'request' and 'expected'");
    }
    case_row row;
    row.id = cs.value("id", "");
    row.expected = cs["expected"];
    row.model = cs["request"].value("model_name", "");
    auto req = parse_estimate_request(cs["request"]);
    std::optional<estimate_result> est;
    if (!req) {
      row.miss = req.err().message;
    } else {
      auto e = estimate(*req, c.models, c.gpus);
      if (!e) {
        row.miss = e.err().message;
      } else if (!e->has_gpu) {
        row.miss = "no GPU in the request";
      } else {
        est = std::move(*e);
      }
    }
    if (!est) {
      rep.rows.push_back(std::move(row));
      continue;
    }
    ++covered;
    row.covered = true;
    const json vs = to_json(*est)["vllm_startup"];
    row.predicted = vs;
    const json& e = row.expected;
    if (e.contains("weights_gib") && e["weights_gib"].get<double>() != 0) {
      w_err.push_back(std::fabs(vs["weights_gib"].get<double>() - e["weights_gib"].get<double>()) /
                      e["weights_gib"].get<double>());
    }
    if (e.contains("kv_cache_tokens") && e["kv_cache_tokens"].get<double>() != 0 &&
        e.value("fits", true)) {
      t_err.push_back(
          std::fabs(vs["kv_cache_tokens"].get<double>() - e["kv_cache_tokens"].get<double>()) /
          e["kv_cache_tokens"].get<double>());
    }
    const std::pair<const char*, std::vector<double>*> abs_keys[] = {
        {"activation_peak_gib", &act_err},
        {"non_torch_gib", &nt_err},
        {"cuda_graph_gib", &cg_err},
        {"kv_cache_gib", &kvg_err}};
    for (const auto& [key, acc] : abs_keys) {
      if (e.contains(key)) acc->push_back(std::fabs(vs[key].get<double>() - e[key].get<double>()));
    }
    if (e.contains("fits")) {
      ++fits_n;
      fits_ok += vs["fits"].get<bool>() == e["fits"].get<bool>() ? 1 : 0;
    }
    rep.rows.push_back(std::move(row));
  }
  accuracy_summary& s = rep.summary;
  s.cases = cases.size();
  s.coverage = s.cases ? static_cast<double>(covered) / static_cast<double>(s.cases) : 0.0;
  s.weights_n = w_err.size();
  s.weights_rel_median = pct(w_err, 0.5);
  s.weights_rel_p90 = pct(w_err, 0.9);
  s.tokens_n = t_err.size();
  s.tokens_rel_median = pct(t_err, 0.5);
  s.tokens_rel_p90 = pct(t_err, 0.9);
  s.activation_n = act_err.size();
  s.activation_abs_median_gib = pct(act_err, 0.5);
  s.activation_abs_p90_gib = pct(act_err, 0.9);
  s.non_torch_abs_median_gib = pct(nt_err, 0.5);
  s.cuda_graph_abs_median_gib = pct(cg_err, 0.5);
  s.kv_gib_abs_median = pct(kvg_err, 0.5);
  s.kv_gib_abs_p90 = pct(kvg_err, 0.9);
  s.fits_n = fits_n;
  if (fits_n) s.fits_accuracy = static_cast<double>(fits_ok) / static_cast<double>(fits_n);
  // Issue 3's targets.
  auto miss = [&](const char* name, std::optional<double> v, bool upper, double limit) {
    if (!v || (upper ? *v > limit : *v < limit)) {
      rep.missed_targets.push_back(std::string(name) + (upper ? " <= " : " >= ") +
                                   std::to_string(limit));
    }
  };
  miss("coverage", s.coverage, false, 0.95);
  miss("weights_rel_median", s.weights_rel_median, true, 0.01);
  miss("weights_rel_p90", s.weights_rel_p90, true, 0.03);
  miss("tokens_rel_median", s.tokens_rel_median, true, 0.03);
  miss("tokens_rel_p90", s.tokens_rel_p90, true, 0.10);
  miss("activation_abs_median_gib", s.activation_abs_median_gib, true, 0.35);
  miss("fits_accuracy", s.fits_accuracy, false, 1.0);
  return rep;
}

}  // namespace

json to_json(const accuracy_summary& s) {
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  return json{{"cases", s.cases},
              {"coverage", s.coverage},
              {"weights_n", s.weights_n},
              {"weights_rel_median", opt(s.weights_rel_median)},
              {"weights_rel_p90", opt(s.weights_rel_p90)},
              {"tokens_n", s.tokens_n},
              {"tokens_rel_median", opt(s.tokens_rel_median)},
              {"tokens_rel_p90", opt(s.tokens_rel_p90)},
              {"activation_n", s.activation_n},
              {"activation_abs_median_gib", opt(s.activation_abs_median_gib)},
              {"activation_abs_p90_gib", opt(s.activation_abs_p90_gib)},
              {"non_torch_abs_median_gib", opt(s.non_torch_abs_median_gib)},
              {"cuda_graph_abs_median_gib", opt(s.cuda_graph_abs_median_gib)},
              {"kv_gib_abs_median", opt(s.kv_gib_abs_median)},
              {"kv_gib_abs_p90", opt(s.kv_gib_abs_p90)},
              {"fits_n", s.fits_n},
              {"fits_accuracy", opt(s.fits_accuracy)}};
}

}  // namespace vllm_mem
