// mcp.cpp — `vllm-mem mcp`: the Model Context Protocol over stdio (docs/mcp.md). One JSON-RPC
// message per line on stdin, one answer per line on stdout, nothing else on stdout; a line longer
// than the limit is answered with a parse error and skipped. Ends at the end of stdin.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "../http/mcp.hpp"
#include "../http/router.hpp"
#include "cli.hpp"

namespace vllm_mem::cli {
namespace {

constexpr std::size_t kMaxLineBytes = 8u << 20;

struct mcp_flags {
  bool hub = false;
};

int run_mcp(const catalogs& cat, const mcp_flags& f) {
  std::string note;
  auto lookup = hub_lookup(f.hub, note);
  if (!lookup) return fail(lookup.err().message, exit_usage);
  const http::router api(cat, *lookup);
  const http::mcp_tools tools;
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::string reply;
    if (line.size() > kMaxLineBytes) {
      reply = R"({"error":{"code":-32700,"message":"a message longer than 8 MiB"},"id":null,)"
              R"("jsonrpc":"2.0"})";
    } else {
      reply = http::mcp_reply(api, tools, line);
    }
    if (reply.empty()) continue;
    std::cout << reply << '\n';
    std::cout.flush();
  }
  return exit_ok;
}

}  // namespace

command add_mcp(CLI::App& app) {
  auto f = std::make_shared<mcp_flags>();
  CLI::App* cmd = app.add_subcommand(
      "mcp", "the API as Model Context Protocol tools over stdio, for agents (docs/mcp.md)");
  cmd->add_flag("--hub", f->hub,
                "resolve models that are not in the database through the Hugging Face cache and "
                "Hub (also on when HF_ENDPOINT is set; see docs/hub.md)");
  return {cmd, [f](const catalogs& cat) { return run_mcp(cat, *f); }};
}

}  // namespace vllm_mem::cli
