// hub.cpp — local model folders, the Hugging Face cache, vllm-mem's cache and the Hub.
#include "hub.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <system_error>
#include <vector>

#include "http_get.hpp"
#include "vllm_mem/ingest/config_json.hpp"
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/ingest/safetensors.hpp"
#include "vllm_mem/util/json_limits.hpp"

namespace vllm_mem::hub {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::uint64_t kConfigMaxBytes = 1ULL << 20;         // config.json from the Hub
constexpr std::uint64_t kLocalConfigMaxBytes = 4ULL << 20;    // config.json on disk
constexpr std::uint64_t kApiMaxBytes = 8ULL << 20;            // /api/models/{id}
constexpr std::uint64_t kIndexMaxBytes = 16ULL << 20;         // model.safetensors.index.json
constexpr std::uint64_t kRemoteHeaderMaxBytes = 16ULL << 20;  // one safetensors header (Hub)
constexpr std::uint64_t kLocalHeaderMaxBytes = 100ULL << 20;  // the format's own limit
constexpr std::size_t kMaxShards = 4096;
constexpr std::size_t kMaxRemoteShards = 512;
constexpr int kMaxRedirects = 5;

// Files from disk and the Hub are bigger than request bodies: allow long strings and many values,
// keep the depth bound and the duplicate-key check.
const json_limits kFileLimits{64, 1 << 20, 16000000};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

bool env_true(const char* name) {
  std::string v = env(name);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

error io_error(const std::string& message) {
  return make_error(error_code::invalid_argument, message, "");
}

// Printable ASCII only, bounded: text the Hub sends that ends up in our messages.
std::string sanitize(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (char ch : s) {
    if (out.size() >= max) break;
    out.push_back(ch >= 0x20 && ch < 0x7f ? ch : ' ');
  }
  return out;
}

std::string repo_folder(std::string_view id) {
  const auto slash = id.find('/');
  return "models--" + std::string(id.substr(0, slash)) + "--" + std::string(id.substr(slash + 1));
}

result<std::string> read_bytes(const fs::path& file, std::uint64_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return io_error(file.string() + " is not a readable file");
  const auto size = fs::file_size(file, ec);
  if (ec) return io_error("cannot read " + file.string() + ": " + ec.message());
  if (size > max_bytes) {
    return io_error(file.string() + " is larger than " + std::to_string(max_bytes >> 20) + " MiB");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return io_error("cannot open " + file.string());
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size)
    return io_error("cannot read " + file.string());
  return text;
}

// A config.json is written by Python: its NaN / Infinity / -Infinity read as null
// (config_json.hpp). Every other file is strict JSON.
enum class file_kind { strict, config };

result<json> parse_file_json(std::string_view text, const std::string& what,
                             file_kind kind = file_kind::strict) {
  auto j = kind == file_kind::config ? parse_config_json(text, kFileLimits)
                                     : parse_json_strict(text, kFileLimits);
  if (!j) return io_error(what + ": " + j.err().message);
  return std::move(*j);
}

std::uint64_t le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Adds the header of one local .safetensors file, reading only the length and the header.
status add_local_header(const fs::path& file, std::uint64_t num_layers, checkpoint_size& into) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return io_error("cannot read " + file.string() + ": " + ec.message());
  std::ifstream in(file, std::ios::binary);
  unsigned char len_bytes[8] = {0};
  if (!in || size < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8)) {
    return io_error(file.string() +
                    " is not a safetensors file (shorter than its 8-byte header length)");
  }
  const std::uint64_t n = le64(len_bytes);
  if (n < 2 || n > kLocalHeaderMaxBytes || n > size - 8) {
    return io_error(file.string() + ": header length " + std::to_string(n) +
                    " is not valid for a file of " + std::to_string(size) + " bytes");
  }
  std::string header(static_cast<std::size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n))) {
    return io_error("cannot read the header of " + file.string());
  }
  auto j = parse_file_json(header, file.string());
  if (!j) return j.err();
  return add_safetensors_header(*j, size - 8 - n, file.string(), num_layers, into);
}

std::uint64_t layers_of(const json& config) {
  auto c = convert_hf_config(config, "hf_config.");
  return c && c->spec.num_layers ? *c->spec.num_layers : 0;
}

bool starts_with(std::string_view s, std::string_view p) { return s.rfind(p, 0) == 0; }

// scheme://host[:port] of a URL, lower-cased; empty when it has none.
std::string origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto host_end = url.find_first_of("/?#", scheme_end + 3);
  std::string o(url.substr(0, host_end));
  std::transform(o.begin(), o.end(), o.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return o;
}

std::atomic<unsigned> g_tmp_counter{0};

status write_atomically(const fs::path& file, std::string_view text) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return io_error("cannot create " + file.parent_path().string() + ": " + ec.message());
  const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid()) + "." +
                       std::to_string(g_tmp_counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) {
      fs::remove(tmp, ec);
      return io_error("cannot write " + tmp.string());
    }
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error("cannot write " + file.string());
  }
  return ok_status();
}

// GETs a URL of the endpoint, following redirects only within the endpoint's origin.
http_get_response get_same_origin(
    const hub_options& o, std::string url, std::size_t max_bytes,
    std::optional<std::pair<std::uint64_t, std::uint64_t>> range = {}) {
  const std::string origin = origin_of(o.endpoint);
  for (int hop = 0;; ++hop) {
    http_get_request req;
    req.url = url;
    req.token = o.token;
    req.range = range;
    req.max_bytes = max_bytes;
    req.connect_timeout_ms = o.connect_timeout_ms;
    req.total_timeout_ms = o.total_timeout_ms;
    http_get_response res = http_get(req);
    const bool redirect = res.transport_ok && res.status >= 300 && res.status < 400 &&
                          res.status != 304 && !res.location.empty();
    if (!redirect || hop >= kMaxRedirects) return res;
    std::string next = res.location;
    if (starts_with(next, "/") && !starts_with(next, "//")) next = origin + next;
    if (origin_of(next) != origin) return res;  // another host (e.g. a CDN): not followed
    url = next;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

result<hub_options> options_from_env(bool enable_network) {
  hub_options o;
  const std::string endpoint = env("HF_ENDPOINT");
  if (!endpoint.empty()) {
    o.endpoint = endpoint;
    while (o.endpoint.size() > 1 && o.endpoint.back() == '/') o.endpoint.pop_back();
    if (!(starts_with(o.endpoint, "http://") || starts_with(o.endpoint, "https://")) ||
        origin_of(o.endpoint).size() <= std::string("https://").size()) {
      return make_error(
          error_code::invalid_argument,
          "HF_ENDPOINT must be an http:// or https:// URL, got '" + sanitize(endpoint, 80) + "'",
          "HF_ENDPOINT");
    }
  }
  o.network = enable_network || !endpoint.empty();
  o.offline = env_true("HF_HUB_OFFLINE");
  o.token = env("HF_TOKEN");
  const std::string home = env("HOME");
  std::string xdg = env("XDG_CACHE_HOME");
  if (xdg.empty()) xdg = (home.empty() ? std::string("/tmp") : home) + "/.cache";
  std::string hf_home = env("HF_HOME");
  if (hf_home.empty()) hf_home = xdg + "/huggingface";
  std::string hub_cache = env("HF_HUB_CACHE");
  if (hub_cache.empty()) hub_cache = env("HUGGINGFACE_HUB_CACHE");
  if (hub_cache.empty()) hub_cache = hf_home + "/hub";
  o.hf_cache = hub_cache;
  std::string own = env("VLLM_MEM_CACHE");
  o.cache_dir = own.empty() ? fs::path(hf_home) / "vllm-mem" : fs::path(own);
  return o;
}

namespace {
result<json> read_file_json(const fs::path& file, std::uint64_t max_bytes, file_kind kind) {
  auto text = read_bytes(file, max_bytes);
  if (!text) return text.err();
  return parse_file_json(*text, file.string(), kind);
}
}  // namespace

result<json> read_json_file(const fs::path& file, std::uint64_t max_bytes) {
  return read_file_json(file, max_bytes, file_kind::strict);
}

result<json> read_config_file(const fs::path& file) {
  return read_file_json(file, kLocalConfigMaxBytes, file_kind::config);
}

result<external_model> read_model_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return io_error(dir.string() + " is not a directory");
  if (!fs::exists(dir / "config.json", ec)) {
    return io_error(dir.string() + " has no config.json (a Hugging Face model folder has one)");
  }
  auto config = read_config_file(dir / "config.json");
  if (!config) return config.err();
  external_model m;
  m.config = std::move(*config);
  m.origin = dir.string();
  const std::uint64_t layers = layers_of(m.config);

  const fs::path index_file = dir / "model.safetensors.index.json";
  std::vector<fs::path> files;
  std::optional<checkpoint_size> from_index;
  if (fs::exists(index_file, ec)) {
    auto index = read_json_file(index_file, kIndexMaxBytes);
    if (!index) return index.err();
    auto names = safetensors_index_files(*index, index_file.string());
    if (!names) return names.err();
    bool all = !names->empty() && names->size() <= kMaxShards;
    for (const auto& n : *names) {
      all = all && fs::is_regular_file(dir / n, ec);
      files.push_back(dir / n);
    }
    if (!all) {
      // Not every shard is here (a partial download): the index's total serves.
      auto c = checkpoint_size_from_index(*index, index_file.string());
      if (!c) return c.err();
      m.safetensors = *c;
      return m;
    }
  } else {
    std::vector<fs::path> consolidated;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const fs::path& p = it->path();
      std::error_code ec2;
      if (p.extension() != ".safetensors" || !fs::is_regular_file(p, ec2)) continue;
      (starts_with(p.filename().string(), "consolidated") ? consolidated : files).push_back(p);
      if (files.size() + consolidated.size() > kMaxShards) {
        return io_error(dir.string() + " holds more than " + std::to_string(kMaxShards) +
                        " .safetensors files");
      }
    }
    // Mistral repositories carry consolidated*.safetensors (their own format) beside the
    // Hugging Face shards; vLLM loads the latter.
    if (files.empty()) files = consolidated;
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) return m;  // no safetensors: the architecture's computed sizes serve
  checkpoint_size total;
  for (const auto& f : files) {
    if (auto s = add_local_header(f, layers, total); !s) return s.err();
  }
  m.safetensors = total;
  return m;
}

// ---------------------------------------------------------------------------------------------

model_locator::model_locator(hub_options opt) : opt_(std::move(opt)) {
  while (opt_.endpoint.size() > 1 && opt_.endpoint.back() == '/') opt_.endpoint.pop_back();
}

result<std::optional<external_model>> model_locator::find_cached(std::string_view id) const {
  if (!valid_hub_model_id(id)) {
    return make_error(error_code::invalid_argument,
                      "'" + sanitize(id, 100) + "' is not a Hugging Face model id (ORG/NAME)",
                      "model_name");
  }
  std::error_code ec;
  // The Hugging Face cache: models--ORG--NAME/snapshots/<commit>/, the commit from refs/<rev>.
  const fs::path repo = opt_.hf_cache / repo_folder(id);
  if (fs::is_directory(repo / "snapshots", ec)) {
    fs::path snapshot;
    if (auto ref = read_bytes(repo / "refs" / opt_.revision, 256)) {
      std::string hash = *ref;
      while (!hash.empty() && std::isspace(static_cast<unsigned char>(hash.back())))
        hash.pop_back();
      const bool hex =
          !hash.empty() && hash.size() <= 64 && std::all_of(hash.begin(), hash.end(), [](char ch) {
            return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
          });
      if (hex && fs::exists(repo / "snapshots" / hash / "config.json", ec)) {
        snapshot = repo / "snapshots" / hash;
      }
    }
    if (snapshot.empty()) {
      fs::file_time_type newest{};
      for (auto it = fs::directory_iterator(repo / "snapshots", ec);
           !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::error_code ec2;
        const fs::path cfg = it->path() / "config.json";
        if (!fs::exists(cfg, ec2)) continue;
        const auto t = fs::last_write_time(cfg, ec2);
        if (ec2) continue;
        if (snapshot.empty() || t > newest) {
          snapshot = it->path();
          newest = t;
        }
      }
    }
    if (!snapshot.empty()) {
      auto m = read_model_dir(snapshot);
      if (!m) return m.err();
      m->origin = "Hugging Face cache " + snapshot.string();
      return std::optional<external_model>(std::move(*m));
    }
  }
  // vllm-mem's cache of what it fetched from the endpoint.
  const fs::path own = opt_.cache_dir / repo_folder(id);
  if (fs::exists(own / "config.json", ec)) {
    external_model m;
    auto config = read_config_file(own / "config.json");
    if (!config) return config.err();
    m.config = std::move(*config);
    if (fs::exists(own / "safetensors.json", ec)) {
      auto s = read_json_file(own / "safetensors.json", kConfigMaxBytes);
      if (!s) return s.err();
      auto c = parse_checkpoint_size(*s, (own / "safetensors.json").string());
      if (!c) return c.err();
      m.safetensors = *c;
    }
    m.origin = "vllm-mem cache " + own.string();
    return std::optional<external_model>(std::move(m));
  }
  return std::optional<external_model>();
}

result<external_model> model_locator::fetch(std::string_view id_view) const {
  const std::string id(id_view);
  if (!valid_hub_model_id(id)) {
    return make_error(error_code::invalid_argument,
                      "'" + sanitize(id, 100) + "' is not a Hugging Face model id (ORG/NAME)",
                      "model_name");
  }
  const std::string repo_url = opt_.endpoint + "/" + id;
  const std::string resolve = repo_url + "/resolve/" + opt_.revision + "/";

  // config.json decides whether the model exists and whether we may read it.
  const http_get_response cfg = get_same_origin(opt_, resolve + "config.json", kConfigMaxBytes);
  if (!cfg.transport_ok) {
    return make_error(error_code::unavailable,
                      "could not reach the Hugging Face Hub at " + opt_.endpoint + " (" +
                          sanitize(cfg.transport_error) +
                          "); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use "
                          "only cached models",
                      "model_name");
  }
  const std::string hub_says =
      cfg.error_message.empty() ? "" : " (the Hub says: " + sanitize(cfg.error_message) + ")";
  if (cfg.too_large) {
    return make_error(error_code::invalid_argument,
                      "the config.json of " + id + " is larger than 1 MiB", "model_name");
  }
  if ((cfg.status == 401 || cfg.status == 403) && cfg.error_code != "RepoNotFound") {
    return make_error(
        error_code::forbidden,
        "model '" + id + "' is gated or private on " + opt_.endpoint + hub_says + ": " +
            (opt_.token.empty()
                 ? "set HF_TOKEN to a token of an account that has accepted its terms at " +
                       repo_url
                 : "the token in HF_TOKEN has no access; accept the model's terms at " + repo_url +
                       " with that account") +
            ", or give 'hf_config' in the request",
        "model_name");
  }
  if (cfg.status == 401 || cfg.status == 404) {
    const bool no_file = cfg.error_code == "EntryNotFound";
    return make_error(
        error_code::not_found,
        no_file ? "model '" + id + "' on " + opt_.endpoint +
                      " has no config.json; give 'hf_config' or 'architecture'"
                : "model '" + id + "' was not found on " + opt_.endpoint +
                      " (nor in the database or the local caches); check the id "
                      "(ORG/NAME, as on its Hub page)" +
                      (opt_.token.empty() ? ", or set HF_TOKEN if it is private" : std::string()),
        "model_name");
  }
  if (cfg.status != 200) {
    const bool moved = cfg.status >= 300 && cfg.status < 400;
    return make_error(error_code::unavailable,
                      "the Hugging Face Hub at " + opt_.endpoint + " answered HTTP " +
                          std::to_string(cfg.status) + " for the config.json of " + id +
                          (moved ? " (a redirect to another host, not followed)" : hub_says),
                      "model_name");
  }
  auto config = parse_file_json(cfg.body, "the config.json of " + id + " from " + opt_.endpoint,
                                file_kind::config);
  if (!config) return config.err();

  external_model m;
  m.config = std::move(*config);
  m.origin = repo_url;
  const std::uint64_t layers = layers_of(m.config);

  // Exact bytes, best effort: the API's per-dtype counts, else the index and shard headers. The
  // whole phase gets one request's total timeout, however many shards there are.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(opt_.total_timeout_ms);
  auto budget = [&]() -> std::optional<hub_options> {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return std::nullopt;
    hub_options o = opt_;
    o.total_timeout_ms = std::min(opt_.total_timeout_ms, static_cast<long>(left));
    o.connect_timeout_ms = std::min(o.connect_timeout_ms, o.total_timeout_ms);
    return o;
  };
  http_get_response api;
  if (auto o = budget()) {
    api = get_same_origin(
        *o,
        opt_.endpoint + "/api/models/" + id +
            (opt_.revision == "main" ? std::string() : "/revision/" + opt_.revision),
        kApiMaxBytes);
  }
  if (api.transport_ok && api.status == 200 && !api.too_large) {
    if (auto info = parse_file_json(api.body, "the model info of " + id);
        info && info->is_object() && info->contains("safetensors")) {
      if (auto c = checkpoint_size_from_hub_counts((*info)["safetensors"], id)) m.safetensors = *c;
    }
  }
  auto remote_header = [&](const std::string& file, checkpoint_size& into) -> bool {
    const std::string url = resolve + file;
    auto o = budget();
    if (!o) return false;
    const http_get_response len = get_same_origin(*o, url, 8, std::make_pair(0ULL, 7ULL));
    if (!len.transport_ok || len.status != 206 || len.body.size() != 8) return false;
    const std::uint64_t n = le64(reinterpret_cast<const unsigned char*>(len.body.data()));
    if (n < 2 || n > kRemoteHeaderMaxBytes) return false;
    o = budget();
    if (!o) return false;
    const http_get_response h =
        get_same_origin(*o, url, static_cast<std::size_t>(n), std::make_pair(8ULL, 8 + n - 1));
    if (!h.transport_ok || h.status != 206 || h.body.size() != n) return false;
    auto j = parse_file_json(h.body, file);
    if (!j) return false;
    // Content-Range: bytes 8-N/TOTAL gives the file size, so offsets can be checked.
    std::uint64_t data_bytes = UINT64_MAX;
    const auto slash = h.content_range.rfind('/');
    if (slash != std::string::npos) {
      const std::string total = h.content_range.substr(slash + 1);
      if (!total.empty() && total.size() < 20 &&
          std::all_of(total.begin(), total.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        const std::uint64_t t = std::stoull(total);
        if (t >= 8 + n) data_bytes = t - 8 - n;
      }
    }
    return static_cast<bool>(add_safetensors_header(*j, data_bytes, file, layers, into));
  };
  if (auto o = budget(); o && !m.safetensors) {
    const http_get_response idx =
        get_same_origin(*o, resolve + "model.safetensors.index.json", kIndexMaxBytes);
    if (idx.transport_ok && idx.status == 200 && !idx.too_large) {
      if (auto index = parse_file_json(idx.body, "model.safetensors.index.json")) {
        auto names = safetensors_index_files(*index, "model.safetensors.index.json");
        checkpoint_size total;
        bool all = names && !names->empty() && names->size() <= kMaxRemoteShards;
        for (std::size_t i = 0; all && i < names->size(); ++i) {
          all = remote_header((*names)[i], total);
        }
        if (all) {
          m.safetensors = total;
        } else if (auto c = checkpoint_size_from_index(*index, "model.safetensors.index.json")) {
          m.safetensors = *c;
        }
      }
    } else if (idx.transport_ok && idx.status == 404) {
      checkpoint_size total;
      if (remote_header("model.safetensors", total)) m.safetensors = total;
    }
  }

  // Store what was fetched; a failed write only costs a fetch next time.
  const fs::path own = opt_.cache_dir / repo_folder(id);
  if (write_atomically(own / "config.json", cfg.body)) {
    if (m.safetensors)
      (void)write_atomically(own / "safetensors.json", to_json(*m.safetensors).dump());
  }
  return m;
}

result<external_model> model_locator::locate(std::string_view id) const {
  auto cached = find_cached(id);
  if (!cached) return cached.err();
  if (*cached) return std::move(**cached);
  const std::string name(id);
  if (opt_.offline) {
    return make_error(error_code::not_found,
                      "model '" + name +
                          "' is not in the database or the local caches, and HF_HUB_OFFLINE=1 "
                          "forbids fetching it from " +
                          opt_.endpoint +
                          "; unset HF_HUB_OFFLINE once to cache it, or give 'hf_config'",
                      "model_name");
  }
  if (!opt_.network) {
    return make_error(error_code::not_found,
                      "model '" + name +
                          "' is not in the database or the local caches, and Hub access is off; "
                          "set HF_ENDPOINT or use --hub to fetch its config.json",
                      "model_name");
  }
  return fetch(id);
}

}  // namespace vllm_mem::hub
