// hub.hpp — finding a model's config.json and safetensors metadata outside the database: a local
// model folder, the Hugging Face cache, vllm-mem's own cache of Hub metadata, and the Hub itself.
//
// Contract (all the I/O of docs/hub.md lives here; the conversion is the core's):
//  * `options_from_env` reads HF_ENDPOINT (default https://huggingface.co), HF_TOKEN,
//    HF_HUB_OFFLINE, HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME / HOME (the Hugging Face cache,
//    default ~/.cache/huggingface/hub) and VLLM_MEM_CACHE (vllm-mem's cache, default
//    $HF_HOME/vllm-mem). The network is allowed when `enable_network` or HF_ENDPOINT is set, and
//    never with HF_HUB_OFFLINE=1.
//  * `read_model_dir` reads DIR/config.json and the checkpoint's bytes: the headers of the
//    .safetensors files (the shards of model.safetensors.index.json when it exists, else every
//    *.safetensors except consolidated*.safetensors beside HF-format files), reading only the
//    8-byte length and the header, never the tensors; metadata.total_size when the shards are
//    not all present; none when there are no safetensors.
//  * `model_locator` resolves an ORG/NAME id: the Hugging Face cache
//    (models--ORG--NAME/snapshots/<refs/main or newest>/), then vllm-mem's cache, then the
//    endpoint: /{id}/resolve/main/config.json (<= 1 MiB), the bytes per dtype from
//    /api/models/{id} (its safetensors parameter counts), else model.safetensors.index.json
//    (<= 16 MiB) and the shard headers by HTTP range requests (<= 16 MiB each), else
//    model.safetensors's header. What it fetched is stored in vllm-mem's cache and served from
//    there afterwards (also offline).
//  * HTTP: libcurl, connect timeout 5 s, total 20 s per request, HF_TOKEN as a bearer token,
//    redirects followed only to the endpoint's own scheme, host and port (the Hub sends large
//    files to a CDN on another host: such a header is not read, the API's counts serve instead).
//    Only URLs built from the endpoint and a validated id are ever requested.
//  * Errors say what to do: not_found (no such model; offline and not cached), forbidden
//    (gated or private: set HF_TOKEN), unavailable (the endpoint cannot be reached or answers
//    5xx), invalid_argument (malformed files, with the file named).
// A locator is immutable after construction and safe to use from many threads; cache writes are
// atomic (write to a temporary file, then rename).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vllm_mem/api/external_model.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem::hub {

struct hub_options {
  std::string endpoint = "https://huggingface.co";
  std::string token;
  bool network = false;  // may contact the endpoint
  bool offline = false;  // HF_HUB_OFFLINE=1: never contact it
  std::filesystem::path hf_cache;
  std::filesystem::path cache_dir;
  std::string revision = "main";
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 20000;
};

result<hub_options> options_from_env(bool enable_network);

// A JSON file no larger than `max_bytes`, parsed strictly (bounded depth, no duplicate keys).
result<nlohmann::json> read_json_file(const std::filesystem::path& file, std::uint64_t max_bytes);

// --hf-config FILE: a config.json (<= 4 MiB), read as Python writes it (NaN, Infinity and
// -Infinity read as null: ingest/config_json.hpp). Every config.json below is read so.
result<nlohmann::json> read_config_file(const std::filesystem::path& file);

// --model-dir DIR.
result<external_model> read_model_dir(const std::filesystem::path& dir);

class model_locator {
 public:
  explicit model_locator(hub_options opt);
  const hub_options& options() const { return opt_; }
  bool network_allowed() const { return opt_.network && !opt_.offline; }

  // The Hugging Face cache, then vllm-mem's cache; nullopt when neither holds the model.
  result<std::optional<external_model>> find_cached(std::string_view id) const;
  // From the endpoint, then stored in vllm-mem's cache.
  result<external_model> fetch(std::string_view id) const;
  // find_cached, then fetch (or an error saying why the network was not used).
  result<external_model> locate(std::string_view id) const;

 private:
  hub_options opt_;
};

}  // namespace vllm_mem::hub
