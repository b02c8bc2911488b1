// mcp.hpp — the API as Model Context Protocol tools, for agents (docs/mcp.md).
//
// Contract: `mcp_tools` holds the tool list, built once from docs/openapi.json (the same schemas
// the HTTP API documents, their `$ref`s gathered under `$defs` so each tool's inputSchema stands
// alone). `mcp_reply` answers one JSON-RPC 2.0 message or batch as MCP defines it (initialize,
// ping, tools/list, tools/call, notifications): a tool call runs through the router, so a tool
// answers exactly what its endpoint answers; a bad argument is a tool result with isError (the
// endpoint's `detail` as text), never a protocol failure. Returns the reply's text, empty when
// the message needs none (a notification or a response). Never throws.
// `mcp_http` is the streamable HTTP transport at POST /mcp: stateless (no session id), JSON
// answers (no event stream), 202 for messages that need no answer, 405 for GET and DELETE, and a
// 403 for a browser Origin other than this host's (DNS rebinding).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "router.hpp"

namespace vllm_mem::http {

class mcp_tools {
 public:
  explicit mcp_tools(const std::vector<embedded_file>& files = embedded_files());
  const nlohmann::json& list() const { return tools_; }  // the tools/list result's "tools"

 private:
  nlohmann::json tools_ = nlohmann::json::array();
};

// The MCP protocol revisions this server speaks, newest first.
const std::vector<std::string>& mcp_protocol_versions();

std::string mcp_reply(const router& api, const mcp_tools& tools, std::string_view message);

response mcp_http(const router& api, const mcp_tools& tools, const request& r);

}  // namespace vllm_mem::http
