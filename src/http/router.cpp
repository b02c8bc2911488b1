// router.cpp — routes, request decoding and the error envelope.
#include "router.hpp"

#include "mcp.hpp"

#include <nlohmann/json.hpp>

#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/api/plan_json.hpp"
#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/config_json.hpp"
#include "vllm_mem/model/weights.hpp"
#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/util/text.hpp"
#include "vllm_mem/version.hpp"

namespace vllm_mem::http {

using json = nlohmann::json;

namespace {

response json_response(int status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response error_response(int status, std::string_view detail, std::string_view field) {
  return json_response(status, error_body(detail, field));
}

int status_for(const error& e) {
  switch (e.code) {
    case error_code::invalid_argument:
      return 400;
    case error_code::not_found:
      return 404;
    case error_code::unsupported:
      return 400;
    case error_code::out_of_range:
      return 400;
    case error_code::forbidden:
      return 403;
    case error_code::unavailable:
      return 424;  // Failed Dependency: the Hub could not be reached
    case error_code::internal:
      return 500;
  }
  return 500;
}

std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view query_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

json entry_summary(const model_entry& e) {
  json j;
  if (e.arch) {
    j = to_json(*e.arch);
    if (auto p = count_parameters(*e.arch)) {
      j["params_billions"] = std::round(static_cast<double>(p->total) / 1e7) / 100.0;
      if (e.arch->is_moe())
        j["active_params_billions"] = std::round(static_cast<double>(p->active) / 1e7) / 100.0;
    }
  } else if (e.closed) {
    j["closed"] = true;
    j["params_billions"] = e.params.official_total
                               ? json(static_cast<double>(*e.params.official_total) / 1e9)
                               : json(nullptr);
    j["params_status"] = e.params.status.empty() ? "unknown" : e.params.status;
  } else if (!e.unsupported.empty()) {
    j["unsupported"] = e.unsupported;
  } else {
    j["incomplete"] = true;
  }
  if (e.fill_from) {
    j["filled_from"] = {{"id", e.fill_from->id}, {"fields", e.fill_from->fields}};
  }
  j["id"] = e.id;
  j["family"] = e.family;
  j["source"] = e.source.empty() ? json(nullptr) : json(e.source.front());
  j["verification"] = e.verification;
  if (!e.params.text.empty()) j["published_params"] = e.params.text;
  if (e.arch && !e.arch->quantization.is_none()) j["quantized"] = true;
  return j;
}

// The page allows nothing but its own origin: no CDN, no inline script or style, no framing.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'";
// The API viewer at /docs (Swagger UI) also draws its icons from data: URIs in its stylesheet.
constexpr const char* kDocsContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'";

std::string_view content_type_for(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

// A browser's navigation asks for text/html first; API clients (curl's */*, fetch's
// application/json) keep getting the JSON document.
bool prefers_html(std::string_view accept) {
  while (!accept.empty() && accept.front() == ' ') accept.remove_prefix(1);
  return to_lower(std::string(accept.substr(0, 9))) == "text/html";
}

}  // namespace

bool is_content_hashed(std::string_view file_name) {
  const auto ext = file_name.rfind('.');
  if (ext == std::string_view::npos || ext == 0) return false;
  const std::string_view stem = file_name.substr(0, ext);
  const auto sep = stem.find_last_of("-.");
  if (sep == std::string_view::npos) return false;
  const std::string_view tail = stem.substr(sep + 1);
  bool upper = true, hex = true;  // esbuild's base32 hash / a lowercase hex digest
  for (const char ch : tail) {
    const bool d = ch >= '0' && ch <= '9';
    upper = upper && (d || (ch >= 'A' && ch <= 'Z'));
    hex = hex && (d || (ch >= 'a' && ch <= 'f'));
  }
  return tail.size() >= 8 && (upper || hex);
}

std::string error_body(std::string_view detail, std::string_view field) {
  json j;
  j["detail"] = std::string(detail);
  j["field"] = field.empty() ? json(nullptr) : json(std::string(field));
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) {
        out.push_back(s[i]);
        continue;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

router::router(const catalogs& c, model_lookup lookup, const std::vector<embedded_file>& files)
    : c_(c), lookup_(std::move(lookup)), mcp_(std::make_shared<const mcp_tools>(files)) {
  constexpr std::string_view kWebPrefix = "web/dist/";
  for (const auto& f : files) {
    if (f.name.substr(0, kWebPrefix.size()) == kWebPrefix)
      web_files_.emplace(std::string(f.name.substr(kWebPrefix.size())), f.text);
    if (f.name == "docs/openapi.json") {
      json doc = json::parse(f.text, nullptr, false);
      if (doc.is_object() && doc.contains("info") && doc["info"].is_object()) {
        doc["info"]["version"] = std::string(kVersion);
        openapi_body_ = doc.dump();
      }
    }
  }

  json root;
  root["name"] = "vllm-mem";
  root["version"] = std::string(kVersion);
  root["description"] =
      "Estimates the GPU memory a large language model needs when served with vLLM: weights, "
      "activations, KV cache and CUDA overhead, and (given a GPU) what vLLM prints at startup.";
  root["endpoints"] = {
      {"POST /estimate-gpu-memory", "memory estimate for a model and workload (the seed API)"},
      {"GET /known-architectures",
       "models in the database, keyed by name (?family=, ?q=, ?quantized=)"},
      {"GET /models/{id}",
       "one database entry with its source, parameter counts and KV bytes per token"},
      {"POST /plan",
       "ranked GPU setups for a model and workload: GPU type and count, parallel sizes, fits, "
       "limiting factor, vllm serve command, cost"},
      {"POST /solve",
       "reverse solves for one GPU setup: largest max_model_len, largest concurrency, smallest "
       "gpu_memory_utilization, fewest GPUs"},
      {"POST /placement", "several models on a GPU pool: which GPU each runs on, with its flags"},
      {"POST /sweep", "memory and KV capacity versus context length and batch size (arrays)"},
      {"GET /gpus", "the GPU catalog"},
      {"GET /versions", "the vLLM versions modelled: rules per range, runner, calibration"},
      {"GET /healthz", "liveness"},
      {"GET /readyz", "readiness (database loaded; 503 once the server is stopping)"},
      {"GET /metrics", "counters in Prometheus text format (answered by the server)"},
      {"GET /ui", "the calculator as a web page (a browser asking for GET / is sent there)"},
      {"POST /mcp",
       "the API as Model Context Protocol tools for agents (streamable HTTP; `vllm-mem mcp` "
       "speaks it over stdio)"},
      {"GET /openapi.json", "the OpenAPI 3.1 description of every endpoint, field and error"},
      {"GET /docs", "that description rendered as a page"},
      {"GET /", "this document"}};
  root["example_request"] = {{"model_name", "meta-llama/Llama-2-7b"},
                             {"max_seq_len", 2048},
                             {"dtype", "float16"},
                             {"max_batch_size", 32},
                             {"gpu_memory_utilization", 0.9},
                             {"quantization", nullptr},
                             {"params_billions", nullptr},
                             {"architecture",
                              {{"num_layers", 32},
                               {"hidden_size", 4096},
                               {"num_heads", 32},
                               {"head_dim", 128},
                               {"intermediate_size", 11008}}}};
  root["example_request_with_gpu"] = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
                                      {"max_seq_len", 8192},
                                      {"gpu", "H100-80GB"},
                                      {"vllm_version", std::string(kNewestCalibratedVersion)}};
  root["units"] =
      "_gb fields: decimal gigabytes (1e9 bytes); vllm_startup _gib fields: GiB (2^30 bytes); "
      "components_bytes: bytes";
  root_body_ = root.dump();

  json all = json::object();
  for (const auto& e : c_.models.entries()) all[e.id] = entry_summary(e);
  known_all_body_ = all.dump();

  json gpus = json::array();
  for (const auto& g : c_.gpus.entries()) {
    json j{{"id", g.id},
           {"name", g.name},
           {"aliases", g.aliases},
           {"vendor", g.vendor},
           {"memory_nominal_gb", g.memory_nominal_gb},
           {"cuda_total_gib", g.cuda_total_gib > 0 ? json(g.cuda_total_gib) : json(nullptr)},
           {"memory_bandwidth_gbps", g.memory_bandwidth_gbps},
           {"fp8_support", g.fp8_support}};
    const auto price = g.cheapest_price_per_gpu_hour();
    j["cheapest_usd_per_gpu_hour"] = price ? json(*price) : json(nullptr);
    gpus.push_back(j);
  }
  gpus_body_ = json{{"gpus", gpus}}.dump();
  versions_body_ = versions_json().dump();
}

response router::handle(const request& r) const {
  response out;
  handle(r, out);
  if (!out.prerendered.empty()) {
    out.body.assign(out.prerendered);
    out.prerendered = {};
  }
  return out;
}

void router::handle(const request& r, response& out) const {
  out.status = 200;
  out.content_type = "application/json";  // reuses the string's storage
  out.body.clear();
  out.allow.clear();
  out.headers.clear();
  out.prerendered = {};
  const std::string_view path = path_of(r.target);
  const bool get = r.method == "GET" || r.method == "HEAD";
  const bool post = r.method == "POST";
  auto method_not_allowed = [&](const char* allow) {
    out = error_response(405,
                         std::string("method ") + std::string(r.method) + " is not allowed on " +
                             std::string(path) + "; use " + allow,
                         "");
    out.allow = allow;
  };
  auto prerendered = [&](const std::string& body) { out.prerendered = body; };
  if (path == "/estimate-gpu-memory") {
    if (!post) return method_not_allowed("POST");
    return estimate(r.body, out);
  }
  if (path == "/plan" || path == "/solve" || path == "/placement" || path == "/sweep") {
    if (!post) return method_not_allowed("POST");
    out = planner(path, r.body);
    return;
  }
  if (path == "/mcp") {
    out = mcp_http(*this, *mcp_, r);
    return;
  }
  if (path == "/") {
    if (!get) return method_not_allowed("GET");
    response res = json_response(200, root_body_);
    if (prefers_html(r.accept)) {
      const std::string_view query = query_of(r.target);
      res = json_response(302, "{\"location\":\"/ui\"}");
      res.headers.emplace_back("Location", query.empty() ? "/ui" : "/ui?" + std::string(query));
    }
    res.headers.emplace_back("Vary", "Accept");
    out = std::move(res);
    return;
  }
  if (path == "/ui" || path == "/ui/") {
    if (!get) return method_not_allowed("GET");
    out = web_file("index.html");
    return;
  }
  if (path.rfind("/ui/", 0) == 0) {
    if (!get) return method_not_allowed("GET");
    out = web_file(path.substr(4));
    return;
  }
  if (path == "/openapi.json") {
    if (!get) return method_not_allowed("GET");
    if (openapi_body_.empty()) {
      out = error_response(404, "this binary was built without docs/openapi.json", "");
      return;
    }
    return prerendered(openapi_body_);
  }
  if (path == "/docs" || path == "/docs/") {
    if (!get) return method_not_allowed("GET");
    out = web_file("docs.html");
    return;
  }
  if (path == "/known-architectures") {
    if (!get) return method_not_allowed("GET");
    const std::string_view query = query_of(r.target);
    if (query.empty()) return prerendered(known_all_body_);
    out = known_architectures(query);
    return;
  }
  if (path == "/gpus") {
    if (!get) return method_not_allowed("GET");
    return prerendered(gpus_body_);
  }
  if (path == "/versions") {
    if (!get) return method_not_allowed("GET");
    return prerendered(versions_body_);
  }
  if (path == "/healthz") {
    if (!get) return method_not_allowed("GET");
    out.body = "{\"status\":\"ok\"}";
    return;
  }
  if (path == "/readyz") {
    if (!get) return method_not_allowed("GET");
    out.body = "{\"status\":\"ready\",\"models\":" + std::to_string(c_.models.entries().size()) +
               ",\"gpus\":" + std::to_string(c_.gpus.entries().size()) + "}";
    return;
  }
  if (path.rfind("/models/", 0) == 0 && path.size() > 8) {
    if (!get) return method_not_allowed("GET");
    out = model(url_decode(path.substr(8)));
    return;
  }
  out = error_response(
      404, "no such endpoint: " + std::string(path) + " (see GET / for the list of endpoints)", "");
}

response router::web_file(std::string_view name) const {
  const auto it = web_files_.find(name);
  if (it == web_files_.end()) {
    if (name == "index.html" || name == "docs.html")
      return error_response(404,
                            "this binary was built without its web page (web/dist); build it "
                            "with `make build`, which bundles the page first",
                            "");
    return error_response(404, "no such file: /ui/" + std::string(name), "");
  }
  response res;
  res.content_type = std::string(content_type_for(name));
  res.body = std::string(it->second);
  res.headers.emplace_back("Cache-Control", is_content_hashed(name)
                                                ? "public, max-age=31536000, immutable"
                                                : "no-cache");
  res.headers.emplace_back("Content-Security-Policy", name == "docs.html"
                                                          ? kDocsContentSecurityPolicy
                                                          : kContentSecurityPolicy);
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return res;
}

void router::estimate(std::string_view body, response& out) const {
  // hf_config is a config.json as Python writes it: NaN / Infinity there read as null
  // (config_json.hpp); the rest of the body stays strict.
  const auto relaxed = python_nonfinite_to_null(body, "hf_config");
  auto parsed = parse_json_strict(relaxed ? std::string_view(*relaxed) : body);
  if (!parsed) {
    out = error_response(400, parsed.err().message, parsed.err().field);
    return;
  }
  auto req = parse_estimate_request(*parsed);
  if (!req) {
    out = error_response(400, req.err().message, req.err().field);
    return;
  }
  if (lookup_ && !request_describes_model(*req) && valid_hub_model_id(req->model_name) &&
      !c_.models.resolve(req->model_name)) {
    auto found = lookup_(req->model_name);
    if (!found) {
      out = error_response(status_for(found.err()), found.err().message, found.err().field);
      return;
    }
    if (auto s = attach_external_model(*req, *found); !s) {
      out = error_response(status_for(s.err()), s.err().message, s.err().field);
      return;
    }
  }
  auto est = vllm_mem::estimate(*req, c_.models, c_.gpus);
  if (!est) {
    out = error_response(status_for(est.err()), est.err().message, est.err().field);
    return;
  }
  append_json(out.body, *est);
}

response router::planner(std::string_view path, std::string_view body) const {
  auto parsed = parse_json_strict(body);
  if (!parsed) return error_response(400, parsed.err().message, parsed.err().field);
  auto fail = [](const error& e) { return error_response(status_for(e), e.message, e.field); };
  auto ok = [](const json& j) {
    return json_response(200, j.dump(-1, ' ', false, json::error_handler_t::replace));
  };
  const auto& m = c_.models;
  const auto& g = c_.gpus;
  if (path == "/plan") {
    auto req = parse_plan_request(*parsed, g);
    if (!req) return fail(req.err());
    auto res = plan(*req, m, g);
    return res ? ok(with_ignored_flags(*req, to_json(*res))) : fail(res.err());
  }
  if (path == "/solve") {
    auto req = parse_solve_request(*parsed, g);
    if (!req) return fail(req.err());
    auto res = solve(*req, m, g);
    return res ? ok(with_ignored_flags(req->setup, to_json(*res))) : fail(res.err());
  }
  if (path == "/placement") {
    auto req = parse_placement_request(*parsed, g);
    if (!req) return fail(req.err());
    auto res = place(*req, m, g);
    return res ? ok(to_json(*res)) : fail(res.err());
  }
  auto req = parse_sweep_request(*parsed, g);
  if (!req) return fail(req.err());
  auto res = sweep(*req, m, g);
  return res ? ok(with_ignored_flags(req->setup, to_json(*res))) : fail(res.err());
}

response router::known_architectures(std::string_view query) const {
  std::string family, q;
  std::optional<bool> quantized;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const auto amp = query.find('&', pos);
    const std::string_view part =
        query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    const auto eq = part.find('=');
    const std::string key = url_decode(part.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1));
    if (key == "family") {
      family = value;
    } else if (key == "q") {
      q = value;
    } else if (key == "quantized") {
      if (value == "true" || value == "1") {
        quantized = true;
      } else if (value == "false" || value == "0") {
        quantized = false;
      } else {
        return error_response(400, "filter 'quantized' must be true or false, got '" + value + "'",
                              "quantized");
      }
    } else if (!key.empty()) {
      return error_response(
          400, "unknown query parameter '" + key + "'; use family, q or quantized", key);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  json out = json::object();
  const std::string fam = to_lower(family), needle = to_lower(q);
  for (const auto& e : c_.models.entries()) {
    if (!fam.empty() && to_lower(e.family).find(fam) == std::string::npos) continue;
    if (!needle.empty()) {
      bool hit = to_lower(e.id).find(needle) != std::string::npos;
      for (const auto& a : e.aliases) hit = hit || to_lower(a).find(needle) != std::string::npos;
      if (!hit) continue;
    }
    if (quantized) {
      const bool is_q = e.arch && !e.arch->quantization.is_none();
      if (is_q != *quantized) continue;
    }
    out[e.id] = entry_summary(e);
  }
  return json_response(200, out.dump());
}

response router::model(std::string_view id) const {
  auto m = c_.models.resolve(id);
  if (!m) {
    return error_response(404,
                          "no model '" + std::string(id) +
                              "' in the database (not by id, alias, re-upload, variant or "
                              "quantized name); see GET /known-architectures",
                          "id");
  }
  const model_entry* e = m->entry;
  json j = e->raw;
  j["resolved"] = entry_summary(*e);
  if (m->kind != match_kind::exact || !iequals(id, e->id)) {
    j["match"] = {{"name", std::string(id)}, {"kind", match_kind_name(m->kind)}};
    if (m->quant_from_name) {
      j["match"]["quantization_from_name"] =
          std::string(quant_method_name(m->quant_from_name->method));
    }
  }
  if (e->arch) {
    if (auto p = count_parameters(*e->arch)) {
      j["parameter_count"] = {
          {"total", p->total},
          {"active", p->active},
          {"convention",
           "computed from the architecture (vision tower included when known); active = all "
           "non-expert parameters + the top-k routed experts, both embedding matrices counted "
           "(for dense models active = total)"}};
      if (e->arch->is_moe() && p->active >= p->embedding) {
        j["parameter_count"]["active_excluding_input_embedding"] = p->active - p->embedding;
      }
    }
    // Full-length basis at tensor parallel 1 with a 16-bit cache: layers x KV heads x head size
    // x (K and V, or one MLA latent) x 2 bytes (vllm-memory-model.md §6.1).
    const model_arch& a = *e->arch;
    j["kv_cache_bytes_per_token_16bit"] =
        a.num_layers * a.kv_heads_per_rank(1) * a.kv_head_size() * a.kv_entries_per_head() * 2;
  }
  if (e->params.official_total || e->params.official_active) {
    json pub{{"text", e->params.text}, {"status", e->params.status}, {"source", e->params.source}};
    pub["total"] = e->params.official_total ? json(*e->params.official_total) : json(nullptr);
    if (e->params.official_active) pub["active"] = *e->params.official_active;
    if (!e->params.convention.empty()) pub["convention"] = e->params.convention;
    j["published_parameter_count"] = pub;
  }
  return json_response(200, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace vllm_mem::http
