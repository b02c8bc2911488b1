// mcp.cpp — the Model Context Protocol (JSON-RPC 2.0) over the router (mcp.hpp). Message shapes
// follow the MCP specification (revision 2025-11-25 and the earlier ones it lists as compatible):
// lifecycle (initialize, notifications/initialized, ping), tools (tools/list, tools/call) and the
// streamable HTTP transport.
#include "mcp.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "vllm_mem/api/vllm_command.hpp"
#include "vllm_mem/util/json_limits.hpp"
#include "vllm_mem/version.hpp"

namespace vllm_mem::http {

using json = nlohmann::json;

namespace {

// JSON-RPC 2.0 error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;

enum class tool_kind : std::uint8_t { post_body, get_query, get_model, parse_command };

struct tool_def {
  const char* name;
  const char* title;
  const char* description;
  tool_kind kind;
  const char* path;    // the endpoint it runs
  const char* schema;  // components.schemas entry for post_body tools
};

constexpr std::array<tool_def, 9> kTools{{
    {"estimate_gpu_memory", "Estimate GPU memory",
     "GPU memory a model needs when served with vLLM: weights, activations, KV cache, CUDA "
     "overhead (decimal GB); with a `gpu`, what vLLM prints at startup (GiB), whether it starts "
     "(verdict fits / marginal / does_not_fit, margin and uncertainty) and what to change. "
     "Accepts `vllm_command` (a `vllm serve ...` line) instead of the fields.",
     tool_kind::post_body, "/estimate-gpu-memory", "EstimateRequest"},
    {"plan_deployment", "Plan a deployment",
     "Ranked GPU setups for a model and workload: GPU type and count, tensor/pipeline parallel "
     "sizes, whether it starts, the limiting factor, the `vllm serve` command and the cost.",
     tool_kind::post_body, "/plan", "PlanRequest"},
    {"solve", "Solve one GPU setup",
     "For one GPU setup: the largest max_model_len, the largest concurrency, the smallest "
     "gpu_memory_utilization and the fewest GPUs that still start.",
     tool_kind::post_body, "/solve", "SolveRequest"},
    {"sweep", "Sweep context and batch",
     "Memory and KV cache capacity versus context length and batch size, for charts.",
     tool_kind::post_body, "/sweep", "SweepRequest"},
    {"place_models", "Place several models",
     "Several models on a pool of GPUs: which GPU each runs on, with its vLLM flags.",
     tool_kind::post_body, "/placement", "PlacementRequest"},
    {"list_models", "List known models",
     "The model database: every model the calculator knows by name, with its architecture "
     "(filters: family, a substring q, quantized).",
     tool_kind::get_query, "/known-architectures", nullptr},
    {"get_model", "Show one model",
     "One database entry: its source, verification, parameter counts and KV bytes per token.",
     tool_kind::get_model, "/models/", nullptr},
    {"list_gpus", "List GPUs",
     "The GPU catalog: memory as CUDA reports it, bandwidth, fp8 support, cheapest price.",
     tool_kind::get_query, "/gpus", nullptr},
    {"parse_vllm_command", "Read a vllm serve command",
     "A `vllm serve ...` / `python -m vllm.entrypoints.openai.api_server ...` / `docker run ... "
     "vllm/vllm-openai ...` line as the request fields it sets, and the flags that do not "
     "change the estimate, each with the reason. An unknown flag is an error naming it.",
     tool_kind::parse_command, "", nullptr},
}};

const tool_def* find_tool(std::string_view name) {
  for (const auto& t : kTools) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

// Every "#/components/schemas/X" reference under `j`, rewritten to "#/$defs/X"; the names are
// collected in `refs`.
void rewrite_refs(json& j, std::set<std::string>& refs) {
  constexpr std::string_view kPrefix = "#/components/schemas/";
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "$ref" && it->is_string()) {
        const std::string ref = it->get<std::string>();
        if (ref.rfind(kPrefix, 0) == 0) {
          refs.insert(ref.substr(kPrefix.size()));
          *it = "#/$defs/" + ref.substr(kPrefix.size());
        }
      } else {
        rewrite_refs(*it, refs);
      }
    }
  } else if (j.is_array()) {
    for (auto& x : j) rewrite_refs(x, refs);
  }
}

// A components schema as a standalone JSON Schema: its references' targets under "$defs".
json standalone_schema(const json& schemas, const std::string& name) {
  std::set<std::string> refs;
  json root = schemas.value(name, json::object());
  rewrite_refs(root, refs);
  json defs = json::object();
  std::set<std::string> done;
  while (true) {
    std::set<std::string> todo;
    for (const auto& r : refs) {
      if (!done.count(r)) todo.insert(r);
    }
    if (todo.empty()) break;
    for (const auto& r : todo) {
      done.insert(r);
      json d = schemas.value(r, json::object());
      rewrite_refs(d, refs);
      defs[r] = std::move(d);
    }
  }
  root.erase("examples");
  root["type"] = "object";  // MCP requires an object schema at the top
  if (!defs.empty()) root["$defs"] = std::move(defs);
  root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  return root;
}

// The query parameters of a GET endpoint as an object schema.
json parameters_schema(const json& paths, const char* path) {
  json props = json::object();
  json required = json::array();
  const json* params = nullptr;
  if (auto p = paths.find(path); p != paths.end()) {
    if (auto get = p->find("get"); get != p->end()) {
      if (auto prm = get->find("parameters"); prm != get->end()) params = &*prm;
    }
  }
  if (params != nullptr && params->is_array()) {
    for (const auto& prm : *params) {
      if (!prm.is_object() || !prm.contains("name")) continue;
      json s = prm.value("schema", json::object());
      if (prm.contains("description")) s["description"] = prm["description"];
      props[prm["name"].get<std::string>()] = std::move(s);
      if (prm.value("required", false)) required.push_back(prm["name"]);
    }
  }
  json out{{"type", "object"}, {"properties", props}, {"additionalProperties", false}};
  if (!required.empty()) out["required"] = required;
  return out;
}

json rpc_error(const json& id, int code, const std::string& message) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json rpc_result(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

std::string query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// JSON as text; a string with invalid UTF-8 (echoed from a client's bytes) is written with U+FFFD
// instead of throwing.
std::string to_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string number_text(const json& v) { return v.is_null() ? "n/a" : to_text(v); }

std::string string_or(const json& j, const char* key, const std::string& fallback) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A sentence or two an agent can relay without reading the JSON.
std::string summary_of(const tool_def& t, const json& a) {
  const std::string name(t.name);
  if (name == "estimate_gpu_memory") {
    std::string s =
        string_or(a, "model_name", "the model") + ": weights " +
        number_text(a.value("model_params_memory_gb", json())) + " GB, KV cache up to " +
        number_text(a.value("max_kv_cache_memory_gb", json())) + " GB, recommended " +
        number_text(a.value("recommended_memory_gb", json())) + " GB per GPU (decimal GB).";
    if (const auto vs = a.find("vllm_startup"); vs != a.end() && vs->is_object()) {
      const json& v = *vs;
      s += " vLLM " + string_or(v, "vllm_version", "?") + " on " + string_or(v, "gpu", "the GPU") +
           ": " + string_or(v, "verdict", "?") + ", margin " +
           number_text(v.value("margin_gib", json())) + " GiB (uncertainty " +
           number_text(v.value("uncertainty_gib", json())) + " GiB), KV cache " +
           number_text(v.value("kv_cache_tokens", json())) + " tokens, " +
           number_text(v.value("max_concurrency", json())) + " sequences of " +
           number_text(v.value("max_model_len", json())) + " tokens at once.";
      if (const std::string advice = string_or(v, "verdict_advice", ""); !advice.empty())
        s += " " + advice;
      if (const std::string err = string_or(v, "error", ""); !err.empty())
        s += " vLLM would stop: " + err;
    }
    return s;
  }
  if (const std::string summary = string_or(a, "summary", ""); !summary.empty()) return summary;
  if (name == "solve" && a.contains("solves") && a["solves"].is_object()) {
    std::string s;
    for (const auto& [k, v] : a["solves"].items()) {
      if (!s.empty()) s += " ";
      s += k + ": " +
           (v.value("found", false) ? number_text(v.value("value", json()))
                                    : "none (" + string_or(v, "reason", "not found") + ")") +
           ".";
    }
    return s;
  }
  if (name == "sweep") {
    return "Largest max_model_len that fits: " + number_text(a.value("max_model_len_fit", json())) +
           " tokens; largest concurrency that fits: " +
           number_text(a.value("max_concurrency_fit", json())) + ".";
  }
  if (name == "list_models") return std::to_string(a.size()) + " models.";
  if (name == "list_gpus" && a.contains("gpus"))
    return std::to_string(a["gpus"].size()) + " GPUs in the catalog.";
  if (name == "parse_vllm_command") {
    return "Sets " + std::to_string(a["fields"].size()) + " request fields; " +
           std::to_string(a["ignored_flags"].size()) + " flags do not change the estimate.";
  }
  return string_or(a, "id", name) + ".";
}

json tool_result(const tool_def& t, json structured) {
  const std::string text = summary_of(t, structured);
  return json{{"content", json::array({json{{"type", "text"}, {"text", text}},
                                       json{{"type", "text"}, {"text", to_text(structured)}}})},
              {"structuredContent", std::move(structured)},
              {"isError", false}};
}

json tool_error(const std::string& detail, json structured) {
  return json{{"content", json::array({json{{"type", "text"}, {"text", detail}}})},
              {"structuredContent", std::move(structured)},
              {"isError", true}};
}

json call_tool(const router& api, const tool_def& t, const json& args) {
  if (!args.is_object()) {
    return tool_error("'arguments' must be an object of the tool's fields",
                      json{{"detail", "'arguments' must be an object"}, {"field", nullptr}});
  }
  if (t.kind == tool_kind::parse_command) {
    const auto v = args.find("vllm_command");
    if (v == args.end() || !v->is_string() || args.size() != 1) {
      return tool_error("'vllm_command' (a string) is the only argument",
                        json{{"detail", "'vllm_command' (a string) is the only argument"},
                             {"field", "vllm_command"}});
    }
    auto cmd = parse_vllm_command(v->get<std::string>(), "vllm_command");
    if (!cmd) {
      return tool_error(cmd.err().message,
                        json{{"detail", cmd.err().message}, {"field", cmd.err().field}});
    }
    json ignored = json::array();
    for (const auto& f : cmd->ignored) ignored.push_back({{"flag", f.flag}, {"reason", f.reason}});
    return tool_result(t, json{{"fields", cmd->fields}, {"ignored_flags", ignored}});
  }
  request rq;
  rq.content_type = "application/json";
  rq.accept = "application/json";
  std::string target = t.path;
  std::string body;
  if (t.kind == tool_kind::post_body) {
    rq.method = "POST";
    body = to_text(args);
    rq.body = body;
  } else {
    rq.method = "GET";
    if (t.kind == tool_kind::get_model) {
      const auto id = args.find("id");
      if (id == args.end() || !id->is_string() || args.size() != 1) {
        return tool_error(
            "'id' (a model id string) is the only argument",
            json{{"detail", "'id' (a model id string) is the only argument"}, {"field", "id"}});
      }
      target += query_escape(id->get<std::string>());
    } else {
      char sep = '?';
      for (const auto& [k, v] : args.items()) {
        const std::string text = v.is_string() ? v.get<std::string>() : to_text(v);
        target += sep + query_escape(k) + "=" + query_escape(text);
        sep = '&';
      }
    }
  }
  rq.target = target;
  const response res = api.handle(rq);
  json answer = json::parse(res.body, nullptr, false);
  if (answer.is_discarded()) answer = json{{"detail", res.body}, {"field", nullptr}};
  if (res.status != 200) {
    std::string detail = string_or(answer, "detail", "the call failed");
    return tool_error(detail + " (HTTP " + std::to_string(res.status) + ")", std::move(answer));
  }
  if (!answer.is_object()) answer = json{{"result", std::move(answer)}};
  return tool_result(t, std::move(answer));
}

json initialize_result(const json& params) {
  const auto& versions = mcp_protocol_versions();
  std::string version = versions.front();
  if (params.is_object() && params.contains("protocolVersion") &&
      params["protocolVersion"].is_string()) {
    const std::string asked = params["protocolVersion"].get<std::string>();
    for (const auto& v : versions) {
      if (v == asked) version = asked;
    }
  }
  return json{
      {"protocolVersion", version},
      {"capabilities", {{"tools", {{"listChanged", false}}}}},
      {"serverInfo",
       {{"name", "vllm-mem"},
        {"title", "vLLM GPU memory calculator"},
        {"version", std::string(kVersion)}}},
      {"instructions",
       "Tools that answer how much GPU memory a model needs under vLLM and whether a setup "
       "starts. Start with estimate_gpu_memory (model_name, max_seq_len, and a gpu for the "
       "startup verdict) or pass a `vllm serve` line as vllm_command; plan_deployment picks "
       "GPUs. _gb fields are decimal GB, _gib fields GiB."}};
}

// One message; a null json when it needs no reply.
json reply_one(const router& api, const mcp_tools& tools, const json& m) {
  if (!m.is_object()) return rpc_error(nullptr, kInvalidRequest, "a message must be an object");
  const json id = m.contains("id") ? m["id"] : json();
  if (m.contains("id") && !id.is_string() && !id.is_number_integer()) {
    return rpc_error(nullptr, kInvalidRequest, "'id' must be a string or an integer");
  }
  // find, not value(): value() throws when the member is there with another type.
  if (const auto v = m.find("jsonrpc"); v == m.end() || !v->is_string() || *v != "2.0")
    return rpc_error(id, kInvalidRequest, "'jsonrpc' must be \"2.0\"");
  if (!m.contains("method")) return json();  // a response to us: nothing asked it
  if (!m["method"].is_string()) return rpc_error(id, kInvalidRequest, "'method' must be a string");
  const std::string method = m["method"].get<std::string>();
  const bool notification = !m.contains("id");
  if (notification) return json();  // notifications/initialized, notifications/cancelled, ...
  const json params = m.contains("params") ? m["params"] : json::object();
  if (!params.is_object()) return rpc_error(id, kInvalidParams, "'params' must be an object");
  if (method == "initialize") return rpc_result(id, initialize_result(params));
  if (method == "ping") return rpc_result(id, json::object());
  if (method == "tools/list") return rpc_result(id, json{{"tools", tools.list()}});
  if (method == "tools/call") {
    if (!params.contains("name") || !params["name"].is_string())
      return rpc_error(id, kInvalidParams, "tools/call needs 'name', a tool's name");
    const tool_def* t = find_tool(params["name"].get<std::string>());
    if (t == nullptr) {
      return rpc_error(
          id, kInvalidParams,
          "unknown tool '" + params["name"].get<std::string>() + "' (tools/list names them)");
    }
    return rpc_result(id, call_tool(api, *t, params.value("arguments", json::object())));
  }
  return rpc_error(id, kMethodNotFound, "method '" + method + "' is not supported");
}

// The host part of an Origin ("http://localhost:8000" -> "localhost:8000").
std::string_view origin_host(std::string_view origin) {
  const auto scheme = origin.find("://");
  if (scheme == std::string_view::npos) return origin;
  std::string_view rest = origin.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

bool loopback_host(std::string_view host_port) {
  std::string_view host = host_port;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

// A message or a batch; a null json when nothing is due.
json reply_json(const router& api, const mcp_tools& tools, std::string_view message) {
  auto parsed = parse_json_strict(message);
  if (!parsed) return rpc_error(nullptr, kParseError, parsed.err().message);
  const json& m = *parsed;
  if (!m.is_array()) return reply_one(api, tools, m);
  if (m.empty()) return rpc_error(nullptr, kInvalidRequest, "an empty batch");
  json replies = json::array();
  for (const auto& one : m) {
    json r = reply_one(api, tools, one);
    if (!r.is_null()) replies.push_back(std::move(r));
  }
  return replies.empty() ? json() : replies;
}

}  // namespace

const std::vector<std::string>& mcp_protocol_versions() {
  static const std::vector<std::string> kVersions{"2025-11-25", "2025-06-18", "2025-03-26",
                                                  "2024-11-05"};
  return kVersions;
}

mcp_tools::mcp_tools(const std::vector<embedded_file>& files) {
  json doc;
  for (const auto& f : files) {
    if (f.name == "docs/openapi.json") doc = json::parse(f.text, nullptr, false);
  }
  const json schemas = doc.is_object() && doc.contains("components")
                           ? doc["components"].value("schemas", json::object())
                           : json::object();
  const json paths = doc.is_object() ? doc.value("paths", json::object()) : json::object();
  for (const auto& t : kTools) {
    json schema;
    switch (t.kind) {
      case tool_kind::post_body:
        schema = standalone_schema(schemas, t.schema);
        break;
      case tool_kind::get_query:
        schema = parameters_schema(paths, t.path);
        break;
      case tool_kind::get_model:
        schema = parameters_schema(paths, "/models/{id}");
        break;
      case tool_kind::parse_command:
        schema = json{{"type", "object"},
                      {"properties",
                       {{"vllm_command",
                         {{"type", "string"},
                          {"maxLength", 16384},
                          {"description",
                           "The command line, e.g. \"vllm serve Qwen/Qwen3-8B --max-model-len "
                           "32k -tp 2\"."}}}}},
                      {"required", json::array({"vllm_command"})},
                      {"additionalProperties", false}};
        break;
    }
    tools_.push_back(json{{"name", t.name},
                          {"title", t.title},
                          {"description", t.description},
                          {"inputSchema", std::move(schema)},
                          {"annotations",
                           {{"readOnlyHint", true},
                            {"destructiveHint", false},
                            {"idempotentHint", true},
                            {"openWorldHint", false}}}});
  }
}

std::string mcp_reply(const router& api, const mcp_tools& tools, std::string_view message) {
  const json r = reply_json(api, tools, message);
  return r.is_null() ? std::string() : to_text(r);
}

response mcp_http(const router& api, const mcp_tools& tools, const request& r) {
  response out;
  if (r.method != "POST") {
    out.status = 405;
    out.allow = "POST";
    out.body = error_body(
        "method " + std::string(r.method) +
            " is not allowed on /mcp: this server answers POST only (no event stream, no session)",
        "");
    return out;
  }
  // A browser page of another site must not reach a server on this machine (DNS rebinding).
  if (!r.origin.empty() && origin_host(r.origin) != r.host &&
      !loopback_host(origin_host(r.origin))) {
    out.status = 403;
    out.body = error_body("Origin '" + std::string(r.origin) + "' is not allowed on /mcp", "");
    return out;
  }
  if (!r.mcp_protocol_version.empty()) {
    const auto& v = mcp_protocol_versions();
    if (std::find(v.begin(), v.end(), r.mcp_protocol_version) == v.end()) {
      out.status = 400;
      out.body = error_body("MCP-Protocol-Version '" + std::string(r.mcp_protocol_version) +
                                "' is not supported (supported: " + v.front() + " and earlier)",
                            "");
      return out;
    }
  }
  const json reply = reply_json(api, tools, r.body);
  if (reply.is_null()) {
    out.status = 202;  // notifications and responses: accepted, nothing to answer
    return out;
  }
  // A body that is not a JSON-RPC message at all is a client error at the HTTP level too.
  if (reply.is_object() && reply.contains("error") && reply.value("id", json()).is_null())
    out.status = 400;
  out.body = to_text(reply);
  return out;
}

}  // namespace vllm_mem::http
