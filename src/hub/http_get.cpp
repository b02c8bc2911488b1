// http_get.cpp — libcurl easy interface, one handle per request.
#include "http_get.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string_view>

#include "vllm_mem/version.hpp"

namespace vllm_mem::hub {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct body_sink {
  std::string* body;
  std::size_t max;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  const std::size_t n = size * count;
  if (sink->body->size() + n > sink->max) {
    sink->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, n);
  return n;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* res = static_cast<http_get_response*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string value = trim(line.substr(colon + 1)).substr(0, 2048);
  if (name == "location") res->location = value;
  if (name == "x-error-code") res->error_code = value;
  if (name == "x-error-message") res->error_message = value;
  if (name == "content-range") res->content_range = value;
  return n;
}

struct curl_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

http_get_response http_get(const http_get_request& r) {
  global_init();
  http_get_response res;
  std::unique_ptr<CURL, curl_deleter> curl(curl_easy_init());
  if (!curl) {
    res.transport_error = "libcurl could not create a handle";
    return res;
  }
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  body_sink sink{&res.body, r.max_bytes};
  std::unique_ptr<curl_slist, slist_deleter> headers;
  auto add_header = [&](const std::string& h) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (l != nullptr) {
      (void)headers.release();
      headers.reset(l);
    }
  };
  add_header("Accept: application/json, */*");
  if (!r.token.empty()) add_header("Authorization: Bearer " + r.token);
  const std::string user_agent = "vllm-mem/" + std::string(kVersion);
  std::string range;
  if (r.range) range = std::to_string(r.range->first) + "-" + std::to_string(r.range->second);

  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r.total_timeout_ms);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &res);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_bytes));
  if (!range.empty()) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());

  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    res.too_large = true;
    res.transport_ok = true;
    return res;
  }
  if (rc != CURLE_OK) {
    res.transport_error = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
    res.status = 0;
    return res;
  }
  res.transport_ok = true;
  return res;
}

}  // namespace vllm_mem::hub
