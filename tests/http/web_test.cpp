// web_test.cpp — GET /ui and its assets, the redirect of browsers from GET /, and the headers
// (content types, cache lifetimes, Content-Security-Policy), on a router given its own files.
#include <gtest/gtest.h>

#include "router.hpp"
#include "test_support.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

std::string header(const http::response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

const std::vector<embedded_file>& page_files() {
  static const std::vector<embedded_file> files = {
      {"data/gpus.json", "{}"},
      {"web/dist/index.html", "<!doctype html><title>page</title>"},
      {"web/dist/main-YL4UDHWH.js", "console.log(1)"},
      {"web/dist/main-OPQSQAWP.css", "body{}"},
      {"web/dist/favicon.svg", "<svg/>"}};
  return files;
}

const http::router& web() {
  static const http::router r(cats(), {}, page_files());
  return r;
}

http::response get(const http::router& r, const std::string& target,
                   const std::string& accept = "") {
  return r.handle({"GET", target, "", "", accept});
}

TEST(Web, UiServesThePageWithASelfOnlyPolicy) {
  for (const char* path : {"/ui", "/ui/", "/ui?model=Qwen%2FQwen3-8B&len=32768"}) {
    const auto r = get(web(), path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(r.body, "<!doctype html><title>page</title>");
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
    const std::string csp = header(r, "Content-Security-Policy");
    EXPECT_EQ(csp.rfind("default-src 'self';", 0), 0u) << csp;
    EXPECT_EQ(csp.find("http"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  }
}

TEST(Web, AssetsHaveTheirTypeAndHashedOnesAreCachedForever) {
  const auto js = get(web(), "/ui/main-YL4UDHWH.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  const auto css = get(web(), "/ui/main-OPQSQAWP.css");
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(header(css, "Cache-Control"), "public, max-age=31536000, immutable");
  const auto icon = get(web(), "/ui/favicon.svg");
  EXPECT_EQ(icon.content_type, "image/svg+xml");
  EXPECT_EQ(header(icon, "Cache-Control"), "no-cache");
}

TEST(Web, UnknownAssetsAndOtherMethodsAreClientErrors) {
  for (const char* path : {"/ui/missing.js", "/ui/../data/gpus.json", "/ui/%2e%2e/data/gpus.json",
                           "/ui/gpus.json", "/ui/dist/index.html"}) {
    const auto r = get(web(), path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_TRUE(json::parse(r.body).contains("detail")) << path;
  }
  const auto post = web().handle({"POST", "/ui", "{}", "application/json", ""});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.allow, "GET");
}

TEST(Web, ABinaryWithoutThePageSaysHowToBuildIt) {
  static const std::vector<embedded_file> none = {{"data/gpus.json", "{}"}};
  const http::router r(cats(), {}, none);
  const auto res = get(r, "/ui");
  EXPECT_EQ(res.status, 404);
  EXPECT_NE(json::parse(res.body)["detail"].get<std::string>().find("make build"),
            std::string::npos);
}

TEST(Web, BrowsersAreSentFromTheRootToTheUiAndApiClientsKeepJson) {
  const auto nav = get(web(), "/?model=x", "text/html,application/xhtml+xml,*/*;q=0.8");
  EXPECT_EQ(nav.status, 302);
  EXPECT_EQ(header(nav, "Location"), "/ui?model=x");
  EXPECT_EQ(header(nav, "Vary"), "Accept");
  EXPECT_EQ(header(get(web(), "/", " Text/HTML"), "Location"), "/ui");
  for (const char* accept : {"", "*/*", "application/json", "application/json, text/html"}) {
    const auto r = get(web(), "/", accept);
    EXPECT_EQ(r.status, 200) << accept;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(header(r, "Vary"), "Accept");
    EXPECT_TRUE(json::parse(r.body)["endpoints"].contains("GET /ui"));
  }
}

TEST(Web, ContentHashedNames) {
  for (const char* name :
       {"main-YL4UDHWH.js", "app.3f2a9c1b.css", "chunk-ABCDEFGH.js", "x-0123456789.js"})
    EXPECT_TRUE(http::is_content_hashed(name)) << name;
  for (const char* name :
       {"index.html", "favicon.svg", "uPlot.min.css", "main.js", "main-YL4UDHW.js",
        "main-YL4uDHWH.js", "style-defaults.css", "ABCDEFGHIJ.js", ".hidden", ""})
    EXPECT_FALSE(http::is_content_hashed(name)) << name;
}

}  // namespace
}  // namespace vllm_mem::testing
