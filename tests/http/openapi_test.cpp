// openapi_test.cpp — GET /openapi.json (docs/openapi.json) against the real thing: it is OpenAPI
// 3.1 in the parts we use, with every $ref resolving; every route the router answers is
// documented and every documented operation is answered; real answers for representative
// requests (and every documented example) validate against the documented schemas
// (json_schema.hpp); the request fields the decoders accept are exactly the documented ones;
// documented defaults, enums and bounds are the decoders'.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "json_schema.hpp"
#include "router.hpp"
#include "test_support.hpp"
#include "vllm_mem/api/plan_json.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/version.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

const json& doc() {
  static const json d = [] {
    const auto r = api_get("/openapi.json");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "application/json");
    return json::parse(r.body);
  }();
  return d;
}

const schema_validator& validator() {
  static const schema_validator v(doc());
  return v;
}

const json& schema(const std::string& name) { return doc()["components"]["schemas"][name]; }

// Follows a $ref (of a response or a schema) to its target.
const json& deref(const json& j) {
  if (j.is_object() && j.contains("$ref")) {
    const json* t = validator().resolve(j["$ref"].get<std::string>());
    if (t) return *t;
    ADD_FAILURE() << "unresolved " << j["$ref"];
  }
  return j;
}

// Every property name a schema documents, through $ref and allOf.
std::set<std::string> property_names(const json& s) {
  std::set<std::string> out;
  const json& t = deref(s);
  if (t.contains("properties")) {
    for (auto it = t["properties"].begin(); it != t["properties"].end(); ++it) out.insert(it.key());
  }
  for (const auto& sub : t.contains("allOf") ? t["allOf"] : json::array()) {
    auto more = property_names(sub);
    out.insert(more.begin(), more.end());
  }
  return out;
}

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string header(const http::response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

http::response call(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& accept = "") {
  return api().handle({method, target, body, body.empty() ? "" : "application/json", accept});
}

// A concrete target for a documented path: path parameters filled in.
std::string concrete(const std::string& path) {
  if (path == "/models/{id}") return "/models/meta-llama/Llama-2-7b-hf";
  if (path == "/ui/{file}") return "/ui/favicon.svg";
  return path;
}

// Routes served by another part of the service (issue 9's server work adds GET /metrics to the
// router); documented here, and answered once that work is merged.
const std::set<std::string> kRoutedElsewhere = {"/metrics"};

bool has_web_pages() {
  for (const auto& f : embedded_files()) {
    if (f.name.rfind("web/dist/", 0) == 0) return true;
  }
  return false;
}

// Checks that an answer of `method path` has a documented status and that a JSON body validates
// against the documented schema for it.
void expect_documented(const std::string& method, const std::string& path, const http::response& r,
                       const std::string& what) {
  SCOPED_TRACE(what);
  const json& paths = doc()["paths"];
  const json* responses = nullptr;
  if (paths.contains(path) && paths[path].contains(lower(method)))
    responses = &paths[path][lower(method)]["responses"];
  json body_schema;
  if (responses == nullptr) {
    // An undocumented path or method: only the error envelope is promised.
    ASSERT_TRUE(r.status == 404 || r.status == 405) << r.status;
    body_schema = schema("Error");
  } else {
    const std::string code = std::to_string(r.status);
    ASSERT_TRUE(responses->contains(code))
        << method << " " << path << " answered " << code << ", which is not documented";
    const json& resp = deref((*responses)[code]);
    ASSERT_TRUE(resp.contains("content")) << code;
    const std::string ctype = r.content_type.substr(0, r.content_type.find(';'));
    if (ctype != "application/json") {
      bool listed = resp["content"].contains(ctype) || resp["content"].contains("*/*");
      EXPECT_TRUE(listed) << ctype;
      return;
    }
    ASSERT_TRUE(resp["content"].contains("application/json")) << code;
    body_schema = resp["content"]["application/json"]["schema"];
  }
  const json body = json::parse(r.text(), nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << r.text().substr(0, 200);
  const auto errors = validator().validate(body_schema, body);
  for (std::size_t i = 0; i < errors.size() && i < 10; ++i) ADD_FAILURE() << errors[i];
}

TEST(OpenApi, IsAnOpenApi31DocumentWhoseRefsAllResolve) {
  const json& d = doc();
  EXPECT_EQ(d["openapi"], "3.1.0");
  ASSERT_TRUE(d["info"].is_object());
  EXPECT_EQ(d["info"]["title"], "vllm-mem");
  EXPECT_EQ(d["info"]["version"], std::string(kVersion));  // the binary's, set by the router
  ASSERT_TRUE(d["paths"].is_object());
  ASSERT_TRUE(d["components"]["schemas"].is_object());
  // Every $ref anywhere resolves; every operation has an id (unique), a summary and responses.
  std::vector<std::string> unresolved;
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      if (j.contains("$ref") && !validator().resolve(j["$ref"].get<std::string>()))
        unresolved.push_back(j["$ref"].get<std::string>());
      for (const auto& [k, v] : j.items()) walk(v);
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(d);
  EXPECT_TRUE(unresolved.empty()) << json(unresolved).dump();
  std::set<std::string> ids;
  for (const auto& [path, item] : d["paths"].items()) {
    EXPECT_EQ(path.front(), '/');
    for (const auto& [method, op] : item.items()) {
      EXPECT_TRUE(method == "get" || method == "post") << path << " " << method;
      ASSERT_TRUE(op.contains("operationId")) << path;
      EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second) << op["operationId"];
      EXPECT_TRUE(op["summary"].is_string()) << path;
      EXPECT_FALSE(op["responses"].empty()) << path;
      for (const auto& p : op.contains("parameters") ? op["parameters"] : json::array()) {
        if (p["in"] == "path") {
          EXPECT_NE(path.find("{" + p["name"].get<std::string>() + "}"), std::string::npos);
        }
      }
    }
  }
  // The error envelope is closed and every documented error answers with it.
  for (const auto& [name, resp] : d["components"]["responses"].items()) {
    EXPECT_EQ(resp["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error")
        << name;
  }
  EXPECT_EQ(schema("Error")["additionalProperties"], false);
}

TEST(OpenApi, IsServedOnceAndEqualsTheDataFileButForTheVersion) {
  std::ifstream in(std::string(VLLM_MEM_SOURCE_DIR) + "/docs/openapi.json");
  std::stringstream ss;
  ss << in.rdbuf();
  json file = json::parse(ss.str());
  file["info"]["version"] = std::string(kVersion);
  EXPECT_EQ(file, doc());
  const auto a = call("GET", "/openapi.json");
  const auto b = call("GET", "/openapi.json");
  EXPECT_EQ(a.body, b.body);
  http::response reused;
  api().handle({"GET", "/openapi.json", "", "", ""}, reused);
  EXPECT_FALSE(reused.prerendered.empty()) << "rendered once, at construction";
  EXPECT_EQ(call("POST", "/openapi.json", "{}").status, 405);
}

TEST(OpenApi, DocsPageHasTheViewersPolicyAndNoOtherOrigin) {
  if (!has_web_pages()) GTEST_SKIP() << "built without web/dist";
  const auto r = call("GET", "/docs");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(r, "Content-Security-Policy"),
            "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'; object-src 'none'");
  EXPECT_EQ(r.body.find("http"), std::string::npos) << "no absolute URL";
  // Its script and stylesheet are embedded, content-hashed files.
  const std::regex asset(R"re((?:src|href)="/ui/(docs-[A-Z0-9]+\.(?:js|css))")re");
  int found = 0;
  for (std::sregex_iterator it(r.body.begin(), r.body.end(), asset), end; it != end; ++it) {
    const auto a = call("GET", "/ui/" + (*it)[1].str());
    EXPECT_EQ(a.status, 200) << (*it)[1];
    EXPECT_EQ(header(a, "Cache-Control"), "public, max-age=31536000, immutable");
    ++found;
  }
  EXPECT_EQ(found, 2);
  EXPECT_EQ(call("GET", "/docs/").body, r.body);
}

// The routes router.cpp answers, read from its source: exact paths and path prefixes.
struct routes {
  std::set<std::string> exact, prefixes;
};
routes routes_in_source() {
  std::ifstream in(std::string(VLLM_MEM_SOURCE_DIR) + "/src/http/router.cpp");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string src = ss.str();
  routes out;
  const std::regex exact(R"re(path == "(/[^"]*)")re"),
      prefix(R"re(path\.rfind\("(/[^"]*)", 0\))re");
  for (std::sregex_iterator it(src.begin(), src.end(), exact), end; it != end; ++it)
    out.exact.insert((*it)[1]);
  for (std::sregex_iterator it(src.begin(), src.end(), prefix), end; it != end; ++it)
    out.prefixes.insert((*it)[1]);
  return out;
}

TEST(OpenApi, EveryRouteIsDocumented) {
  const routes r = routes_in_source();
  ASSERT_GE(r.exact.size(), 12u) << "the route scan found too little; has router.cpp changed?";
  const json& paths = doc()["paths"];
  for (std::string p : r.exact) {
    if (p.size() > 1 && p.back() == '/') p.pop_back();  // "/ui/" and "/docs/" are "/ui", "/docs"
    EXPECT_TRUE(paths.contains(p)) << p << " is routed but not documented";
  }
  for (const auto& pre : r.prefixes) {
    bool found = false;
    for (const auto& [p, item] : paths.items()) {
      found = found || (p.rfind(pre, 0) == 0 && p.find('{') == pre.size());
    }
    EXPECT_TRUE(found) << pre << "{...} is routed but not documented";
  }
  // The endpoints GET / lists are documented with their method.
  const json root = json::parse(call("GET", "/").body);
  for (const auto& [entry, what] : root["endpoints"].items()) {
    const auto sp = entry.find(' ');
    const std::string method = lower(entry.substr(0, sp)), path = entry.substr(sp + 1);
    ASSERT_TRUE(paths.contains(path)) << entry;
    EXPECT_TRUE(paths[path].contains(method)) << entry;
  }
}

TEST(OpenApi, EveryDocumentedOperationIsAnswered) {
  for (const auto& [path, item] : doc()["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      const std::string target = concrete(path);
      std::string body;
      if (method == "post") {
        const json& ex = op["requestBody"]["content"]["application/json"]["examples"];
        ASSERT_FALSE(ex.empty()) << path << ": a POST operation needs an example";
        body = ex.begin().value()["value"].dump();
      }
      const auto r = call(method == "get" ? "GET" : "POST", target, body);
      if (kRoutedElsewhere.count(path) && r.status == 404) continue;
      // A build without web/dist (cmake without scripts/build-web.sh) has no pages.
      if (!has_web_pages() && r.status == 404 && (path == "/docs" || path.rfind("/ui", 0) == 0))
        continue;
      EXPECT_NE(r.status, 404) << method << " " << target << ": " << r.body.substr(0, 200);
      EXPECT_NE(r.status, 405) << method << " " << target;
      // Another method is a 405 naming the documented one.
      const auto wrong = call(method == "get" ? "POST" : "GET", target, "{}");
      EXPECT_EQ(wrong.status, 405) << target;
      EXPECT_EQ(lower(wrong.allow), method) << target;
      expect_documented(method == "get" ? "POST" : "GET", path, wrong, "wrong method " + target);
    }
  }
}

TEST(OpenApi, EveryDocumentedExampleIsAcceptedAndItsAnswerValidates) {
  int examples = 0;
  for (const auto& [path, item] : doc()["paths"].items()) {
    if (!item.contains("post")) continue;
    const json& content = item["post"]["requestBody"]["content"]["application/json"];
    for (const auto& [name, ex] : content["examples"].items()) {
      const auto req_errors = validator().validate(content["schema"], ex["value"]);
      EXPECT_TRUE(req_errors.empty()) << path << " " << name << ": " << json(req_errors).dump();
      const auto r = call("POST", path, ex["value"].dump());
      EXPECT_EQ(r.status, 200) << path << " " << name << ": " << r.body.substr(0, 300);
      expect_documented("POST", path, r, path + " example " + name);
      ++examples;
    }
  }
  EXPECT_GE(examples, 7);
  // The schema examples (shown by the viewer) are valid requests too.
  for (const char* name :
       {"EstimateRequest", "PlanRequest", "SolveRequest", "SweepRequest", "PlacementRequest"}) {
    for (const auto& ex : schema(name)["examples"]) {
      EXPECT_TRUE(validator().validate(schema(name), ex).empty()) << name;
    }
  }
}

struct api_case {
  std::string method, target, path;  // path: the documented path the target falls under
  json body;
  int status;
};

TEST(OpenApi, RealAnswersValidateAgainstTheDocumentedSchemas) {
  const json seed = schema("EstimateRequest")["examples"][0];
  const std::vector<api_case> cases = {
      {"GET", "/", "/", nullptr, 200},
      {"GET", "/healthz", "/healthz", nullptr, 200},
      {"GET", "/readyz", "/readyz", nullptr, 200},
      {"GET", "/gpus", "/gpus", nullptr, 200},
      {"GET", "/known-architectures", "/known-architectures", nullptr, 200},
      {"GET", "/known-architectures?family=qwen", "/known-architectures", nullptr, 200},
      {"GET", "/known-architectures?quantized=true&q=fp8", "/known-architectures", nullptr, 200},
      {"GET", "/known-architectures?quantized=maybe", "/known-architectures", nullptr, 400},
      {"GET", "/known-architectures?colour=red", "/known-architectures", nullptr, 400},
      {"GET", "/models/meta-llama/Llama-3.1-8B-Instruct-FP8", "/models/{id}", nullptr, 200},
      {"GET", "/models/deepseek-ai%2FDeepSeek-V3", "/models/{id}", nullptr, 200},
      {"GET", "/models/no-such/model", "/models/{id}", nullptr, 404},
      {"GET", "/openapi.json", "/openapi.json", nullptr, 200},
      {"POST", "/estimate-gpu-memory", "/estimate-gpu-memory", seed, 200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "meta-llama/Llama-3.1-70B-Instruct"},
        {"max_seq_len", 8192},
        {"gpu", "H100-80GB"},
        {"tensor_parallel_size", 4},
        {"quantization", "Q4"},
        {"kv_cache_dtype", "fp8"}},
       200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "mistralai/Mixtral-8x7B-Instruct-v0.1"},
        {"max_seq_len", 4096},
        {"gpu_memory_gib", 79.19},
        {"tensor_parallel_size", 2},
        {"pipeline_parallel_size", 2},
        {"enable_expert_parallel", true},
        {"vllm_version", "0.6.4"},
        {"vllm_engine", "v0"}},
       200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "deepseek-ai/DeepSeek-V3"},
        {"max_seq_len", 4096},
        {"gpu", "H200-141GB"},
        {"tensor_parallel_size", 8}},
       200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "google/gemma-3-27b-it"}, {"max_seq_len", 32768}, {"gpu", "L4"}},
       200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "gpt-4"}, {"max_seq_len", 2048}},
       200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "my-own-13b"}, {"max_seq_len", 2048}, {"params_billions", 13}},
       200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "meta-llama/Llama-3.1-8B"},
        {"max_seq_len", 4096},
        {"safetensors", {{"total_bytes", 16060522496ULL}}},
        {"gpu", "A100-80GB"},
        {"block_size", 32},
        {"enforce_eager", true}},
       200},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "x"},
        {"max_seq_len", 1024},
        {"hf_config",
         {{"model_type", "llama"},
          {"num_hidden_layers", 4},
          {"hidden_size", 512},
          {"num_attention_heads", 8},
          {"intermediate_size", 1024},
          {"vocab_size", 1000}}}},
       200},
      {"POST", "/estimate-gpu-memory", "/estimate-gpu-memory", json::object(), 400},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "x"}, {"max_seq_len", 2048}, {"max_seq_length", 1}},
       400},
      {"POST",
       "/estimate-gpu-memory",
       "/estimate-gpu-memory",
       {{"model_name", "x"}, {"max_seq_len", 2048}, {"gpu", "H900"}},
       400},
      {"POST",
       "/plan",
       "/plan",
       {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
        {"max_model_len", 8192},
        {"max_batch_size", 16},
        {"gpus", {"L4", "A100-40GB"}},
        {"budget_usd_per_hour", 5},
        {"prices", {{"L4", 0.8}}}},
       200},
      {"POST",
       "/plan",
       "/plan",
       {{"model_name", "meta-llama/Llama-3.1-405B-Instruct"},
        {"max_model_len", 131072},
        {"max_batch_size", 64},
        {"gpus", {"L4"}},
        {"max_gpus", 2}},
       200},
      {"POST", "/plan", "/plan", {{"model_name", "x"}, {"gpus", {"L4", "H900"}}}, 400},
      {"POST",
       "/solve",
       "/solve",
       {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
        {"gpu", "L4"},
        {"num_gpus", 2},
        {"solve", "min_gpu_memory_utilization"}},
       200},
      {"POST", "/solve", "/solve", {{"model_name", "Qwen/Qwen2.5-7B-Instruct"}}, 400},
      {"POST",
       "/sweep",
       "/sweep",
       {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
        {"context_lengths", {1024, 4096, 99999999}},
        {"batch_sizes", {1, 8}}},
       200},
      {"POST",
       "/sweep",
       "/sweep",
       {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
        {"gpu", "L4"},
        {"context_lengths", {1024, 32768, 99999999}},
        {"batch_sizes", {1, 64}}},
       200},
      {"POST",
       "/placement",
       "/placement",
       {{"models",
         {{{"model_name", "meta-llama/Llama-3.1-8B-Instruct"}, {"max_model_len", 8192}},
          {{"model_name", "Qwen/Qwen2.5-1.5B-Instruct"}, {"max_model_len", 4096}}}},
        {"pool", {{{"gpu", "L4"}, {"count", 1}}, {{"gpu", "A100-80GB"}}}}},
       200},
      {"POST",
       "/placement",
       "/placement",
       {{"models", {{{"model_name", "meta-llama/Llama-3.1-70B-Instruct"}}}}, {"gpu", "L4"}},
       200},
      {"POST", "/placement", "/placement", {{"models", json::array()}}, 400},
  };
  for (const auto& c : cases) {
    const std::string body = c.body.is_null() ? "" : c.body.dump();
    const auto r = call(c.method, c.target, body);
    const std::string what = c.method + " " + c.target + " " + body.substr(0, 120);
    EXPECT_EQ(r.status, c.status) << what << " -> " << r.body.substr(0, 300);
    expect_documented(c.method, c.path, r, what);
  }
  // Malformed JSON, an unknown path, a wrong method: the error envelope.
  expect_documented("POST", "/estimate-gpu-memory", call("POST", "/estimate-gpu-memory", "{"),
                    "malformed");
  expect_documented("GET", "/nowhere", call("GET", "/nowhere"), "unknown path");
  // A browser asking for / is redirected, as documented.
  const auto html = call("GET", "/", "", "text/html,application/xhtml+xml");
  EXPECT_EQ(html.status, 302);
  EXPECT_EQ(header(html, "Location"), "/ui");
  expect_documented("GET", "/", html, "redirect");
}

TEST(OpenApi, EveryDatabaseEntryValidates) {
  const auto all = call("GET", "/known-architectures");
  expect_documented("GET", "/known-architectures", all, "all models");
  const json models = json::parse(all.body);
  ASSERT_GE(models.size(), 100u);
  for (const auto& [id, summary] : models.items()) {
    const auto r = call("GET", "/models/" + id);
    EXPECT_EQ(r.status, 200) << id;
    expect_documented("GET", "/models/{id}", r, id);
  }
}

// ---------------------------------------------------------------------------------------------
// Request fields: the decoders' and the document's, both ways.

TEST(OpenApi, EstimateFieldsAreExactlyTheDecodersFields) {
  EXPECT_EQ(property_names(schema("EstimateFields")), as_set(estimate_request_fields()));
  EXPECT_EQ(property_names(schema("EstimateRequest")), as_set(estimate_request_fields()));
  EXPECT_EQ(property_names(schema("ArchitectureFields")), as_set(arch_keys()));
  // The plan's own fields are the second part of PlanRequest.
  EXPECT_EQ(property_names(schema("PlanRequest")["allOf"][1]), as_set(plan_request_fields()));
  // The seed's required fields and defaults (../shared/spec/seed-api.en.md).
  // Without a vllm_command (which supplies both), model_name and max_seq_len are required.
  const json& either = schema("EstimateRequest")["allOf"].back()["anyOf"];
  EXPECT_EQ(either[0]["required"], json({"model_name", "max_seq_len"}));
  EXPECT_EQ(either[1]["required"], json({"vllm_command"}));
  const json& f = schema("EstimateFields")["properties"];
  EXPECT_EQ(f["dtype"]["default"], "float16");
  EXPECT_EQ(f["max_batch_size"]["default"], 32);
  EXPECT_EQ(f["gpu_memory_utilization"]["default"], 0.9);
  EXPECT_TRUE(f["quantization"]["default"].is_null());
  for (const char* seed_field :
       {"model_name", "max_seq_len", "dtype", "kv_cache_dtype", "max_batch_size", "max_model_len",
        "gpu_memory_utilization", "quantization", "params_billions", "architecture"}) {
    EXPECT_TRUE(f.contains(seed_field)) << seed_field;
  }
  for (const char* arch_field :
       {"num_layers", "hidden_size", "num_heads", "head_dim", "intermediate_size"}) {
    EXPECT_TRUE(schema("ArchitectureFields")["properties"].contains(arch_field)) << arch_field;
  }
}

// Does the decoder know `field` (any answer but "unknown field")?
using decoder = std::function<result<bool>(const json&)>;
bool knows(const decoder& d, json body, const std::string& field) {
  body[field] = json::array({json::object({{"x", 1}})});  // wrong for every field
  auto r = d(body);
  return r || r.err().message.rfind("unknown field '" + field + "'", 0) != 0;
}

TEST(OpenApi, PlannerRequestFieldsAreExactlyTheDecodersFields) {
  const auto& g = cats().gpus;
  const std::map<std::string, decoder> decoders = {
      {"PlanRequest",
       [&](const json& b) -> result<bool> {
         auto r = parse_plan_request(b, g);
         if (!r) return r.err();
         return true;
       }},
      {"SolveRequest",
       [&](const json& b) -> result<bool> {
         auto r = parse_solve_request(b, g);
         if (!r) return r.err();
         return true;
       }},
      {"SweepRequest",
       [&](const json& b) -> result<bool> {
         auto r = parse_sweep_request(b, g);
         if (!r) return r.err();
         return true;
       }},
      {"PlacementRequest",
       [&](const json& b) -> result<bool> {
         auto r = parse_placement_request(b, g);
         if (!r) return r.err();
         return true;
       }},
  };
  // Every field name any request schema documents: the universe to check both ways.
  std::set<std::string> universe;
  for (const auto& [name, d] : decoders) {
    auto p = property_names(schema(name));
    universe.insert(p.begin(), p.end());
  }
  universe.insert("not_a_field");
  const json base = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"}, {"gpu", "L4"}};
  const json placement_base = {{"models", {{{"model_name", "Qwen/Qwen2.5-7B-Instruct"}}}},
                               {"gpu", "L4"}};
  for (const auto& [name, d] : decoders) {
    const auto documented = property_names(schema(name));
    const json& b = name == "PlacementRequest" ? placement_base : base;
    for (const auto& field : universe) {
      if (field == "gpu" || field == "model_name" || field == "models") continue;  // in base
      EXPECT_EQ(knows(d, b, field), documented.count(field) == 1) << name << " " << field;
    }
  }
  // A placement's models take the estimate's fields but not the ones the placement sets.
  const auto est = property_names(schema("PlacementModel"));
  for (const auto& field : est) {
    if (field == "model_name") continue;
    json b = placement_base;
    b["models"][0][field] = json::array({json::object({{"x", 1}})});
    auto r = parse_placement_request(b, g);
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.err().message.find("unknown field"), std::string::npos) << field;
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults, enums and bounds: the documented ones are the decoders'.

json without(json j, const std::string& key) {
  j.erase(key);
  return j;
}

json answer(const std::string& path, const json& body) {
  const auto r = call("POST", path, body.dump());
  EXPECT_EQ(r.status, 200) << path << " " << body.dump() << " -> " << r.body.substr(0, 300);
  json j = json::parse(r.body, nullptr, false);
  // The flags assumed name every flag given, also at its default value.
  if (j.contains("vllm_startup")) j["vllm_startup"].erase("vllm_args");
  return j;
}

TEST(OpenApi, DocumentedDefaultsAreTheCodesDefaults) {
  const json& f = schema("EstimateFields")["properties"];
  const json seed = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"}, {"max_seq_len", 4096}};
  json with_gpu = seed;
  with_gpu["gpu"] = "H100-80GB";
  int checked = 0;
  for (const auto& [field, s] : f.items()) {
    if (!s.contains("default")) continue;
    SCOPED_TRACE(field);
    json given = seed;
    given[field] = s["default"];
    EXPECT_EQ(answer("/estimate-gpu-memory", seed), answer("/estimate-gpu-memory", given));
    // With a GPU, an absent batch is vLLM's own default max_num_seqs, and an absent utilization
    // vLLM's own default for the startup (documented as such); the seed's figures keep 0.9.
    if (field == "gpu_memory_utilization") {
      json given_gpu = with_gpu;
      given_gpu[field] = s["default"];
      json a = answer("/estimate-gpu-memory", with_gpu);
      json b = answer("/estimate-gpu-memory", given_gpu);
      EXPECT_EQ(a["vllm_startup"]["gpu_memory_utilization"], 1.0);  // 0.34: the whole GPU
      EXPECT_EQ(b["vllm_startup"]["gpu_memory_utilization"], 0.9);
      a.erase("vllm_startup");
      b.erase("vllm_startup");
      EXPECT_EQ(a, b);
    } else if (field != "max_batch_size") {
      json given_gpu = with_gpu;
      given_gpu[field] = s["default"];
      EXPECT_EQ(answer("/estimate-gpu-memory", with_gpu),
                answer("/estimate-gpu-memory", given_gpu));
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
  // The version answered without one is the documented default.
  EXPECT_EQ(answer("/estimate-gpu-memory", with_gpu)["vllm_version"], f["vllm_version"]["default"]);
  // max_model_len defaults to max_seq_len.
  json len = with_gpu;
  len["max_model_len"] = 4096;
  EXPECT_EQ(answer("/estimate-gpu-memory", with_gpu), answer("/estimate-gpu-memory", len));

  // The planner's defaults.
  const json plan = {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
                     {"max_model_len", 8192},
                     {"gpus", {"L4", "A100-40GB"}}};
  const json solve = {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
                      {"max_model_len", 8192},
                      {"max_batch_size", 64},
                      {"gpu", "L4"},
                      {"solve", "min_gpus"}};
  const json sweep = {{"model_name", "Qwen/Qwen2.5-7B-Instruct"},
                      {"gpu", "L4"},
                      {"num_gpus", 2},
                      {"context_lengths", {4096}},
                      {"batch_sizes", {8}}};
  for (const auto& [path, name, body] :
       {std::tuple{"/plan", "PlanRequest", plan}, std::tuple{"/solve", "SolveRequest", solve},
        std::tuple{"/sweep", "SweepRequest", sweep}}) {
    const json& own = schema(name)["allOf"][1]["properties"];
    for (const auto& [field, s] : own.items()) {
      if (!s.contains("default")) continue;
      SCOPED_TRACE(std::string(path) + " " + field);
      json given = body;
      given[field] = s["default"];
      EXPECT_EQ(answer(path, body), answer(path, given));
      ++checked;
    }
  }
  const json place = {{"models", {{{"model_name", "Qwen/Qwen2.5-7B-Instruct"}}}}, {"gpu", "L4"}};
  json place_n = place;
  place_n["num_gpus"] = schema("PlacementRequest")["properties"]["num_gpus"]["default"];
  EXPECT_EQ(answer("/placement", place), answer("/placement", place_n));
  json pool = without(place, "gpu");
  pool["pool"] = {{{"gpu", "L4"}}};
  json pool_n = pool;
  pool_n["pool"][0]["count"] =
      schema("PlacementRequest")["properties"]["pool"]["items"]["properties"]["count"]["default"];
  EXPECT_EQ(answer("/placement", pool), answer("/placement", pool_n));
  EXPECT_EQ(answer("/placement", pool), answer("/placement", place));
  EXPECT_GE(checked, 16);
}

// The field an estimate body is rejected for, or "" when the decoder accepts it.
std::string rejected_field(const json& body) {
  auto r = parse_estimate_request(body);
  return r ? "" : r.err().field;
}
// The same through the whole estimate (rules checked when the architecture is resolved).
std::string rejected_by_estimate(const json& body) {
  const auto r = call("POST", "/estimate-gpu-memory", body.dump());
  if (r.status == 200) return "";
  const json e = json::parse(r.body);
  return e["field"].is_string() ? e["field"].get<std::string>() : "(none)";
}
using rejecter = std::function<std::string(const json&)>;

// For integer and number fields: the documented bounds are accepted and one step beyond them is
// a 400 naming the field.
// `rejected` checks the bounds, `enum_rejected` the enum values.
void check_bounds(const json& base, const std::string& prefix, const json& props,
                  const std::function<json(json, const std::string&, const json&)>& put,
                  const rejecter& rejected = rejected_field,
                  const rejecter& enum_rejected = rejected_field) {
  for (const auto& [field, s0] : props.items()) {
    const json& s = deref(s0);
    const std::string f = prefix + field;
    SCOPED_TRACE(f);
    const bool whole = s.value("type", json()) == "integer";
    if (s.contains("minimum")) {
      const double lo = s["minimum"].get<double>();
      EXPECT_EQ(rejected(put(base, field, s["minimum"])), "");
      const json below = whole     ? json(static_cast<std::int64_t>(lo) - 1)
                         : lo == 0 ? json(-0.001)
                                   : json(lo * 0.999);
      if (!(whole && lo == -1)) {
        EXPECT_EQ(rejected(put(base, field, below)), f);
      }
    }
    if (s.contains("exclusiveMinimum")) {
      EXPECT_EQ(rejected(put(base, field, s["exclusiveMinimum"])), f);
    }
    if (s.contains("maximum")) {
      const double hi = s["maximum"].get<double>();
      EXPECT_EQ(rejected(put(base, field, s["maximum"])), "");
      const json above = whole ? json(static_cast<std::uint64_t>(hi) + 1) : json(hi * 1.001);
      EXPECT_EQ(rejected(put(base, field, above)), f);
    }
    if (s.contains("enum")) {
      for (const auto& v : s["enum"]) EXPECT_EQ(enum_rejected(put(base, field, v)), "") << v;
      const json odd = s.value("type", json()) == "integer" ? json(3) : json("no-such-value");
      EXPECT_EQ(enum_rejected(put(base, field, odd)), f);
    }
  }
}

TEST(OpenApi, DocumentedEnumsAndBoundsAreTheDecoders) {
  const json base = {{"model_name", "x"}, {"max_seq_len", 2048}};
  json props = schema("EstimateFields")["properties"];
  // The pairs that exclude each other are checked alone.
  props.erase("max_num_seqs");
  props.erase("gpu_memory_gib");
  check_bounds(base, "", props, [](json b, const std::string& k, const json& v) {
    b[k] = v;
    return b;
  });
  check_bounds(json{{"model_name", "x"}, {"max_seq_len", 2048}}, "",
               json{{"max_num_seqs", schema("EstimateFields")["properties"]["max_num_seqs"]},
                    {"gpu_memory_gib", schema("EstimateFields")["properties"]["gpu_memory_gib"]}},
               [](json b, const std::string& k, const json& v) {
                 b[k] = v;
                 return b;
               });
  // The architecture's keys, inside `architecture` (mlp and norm are checked on resolving).
  const json model = {{"model_name", "meta-llama/Llama-3.1-8B-Instruct"}, {"max_seq_len", 2048}};
  check_bounds(
      model, "architecture.", schema("ArchitectureFields")["properties"],
      [](json b, const std::string& k, const json& v) {
        b["architecture"][k] = v;
        return b;
      },
      rejected_field, rejected_by_estimate);
  // The planners' own fields, through their decoders.
  const auto& g = cats().gpus;
  const std::map<std::string, std::pair<json, rejecter>> planners = {
      {"PlanRequest",
       {{{"model_name", "x"}, {"max_model_len", 2048}},
        [&](const json& b) {
          auto r = parse_plan_request(b, g);
          return r ? std::string() : r.err().field;
        }}},
      {"SolveRequest",
       {{{"model_name", "x"}, {"max_model_len", 2048}, {"gpu", "L4"}},
        [&](const json& b) {
          auto r = parse_solve_request(b, g);
          return r ? std::string() : r.err().field;
        }}},
      {"SweepRequest",
       {{{"model_name", "x"}, {"max_model_len", 2048}},
        [&](const json& b) {
          auto r = parse_sweep_request(b, g);
          return r ? std::string() : r.err().field;
        }}},
  };
  for (const auto& [name, how] : planners) {
    check_bounds(
        how.first, "", schema(name)["allOf"][1]["properties"],
        [](json b, const std::string& k, const json& v) {
          b[k] = v;
          return b;
        },
        how.second, how.second);
  }
  const rejecter place = [&](const json& b) {
    auto r = parse_placement_request(b, g);
    return r ? std::string() : r.err().field;
  };
  const json place_base = {{"models", {{{"model_name", "x"}, {"max_model_len", 2048}}}},
                           {"gpu", "L4"}};
  check_bounds(
      place_base, "", json{{"num_gpus", schema("PlacementRequest")["properties"]["num_gpus"]}},
      [](json b, const std::string& k, const json& v) {
        b[k] = v;
        return b;
      },
      place, place);
  // The solve names.
  for (const auto& n :
       schema("SolveRequest")["allOf"][1]["properties"]["solve"]["anyOf"][0]["enum"]) {
    auto r = parse_solve_request({{"model_name", "x"}, {"gpu", "L4"}, {"solve", n}}, cats().gpus);
    EXPECT_TRUE(r) << n << ": " << (r ? "" : r.err().message);
  }
}

}  // namespace
}  // namespace vllm_mem::testing
