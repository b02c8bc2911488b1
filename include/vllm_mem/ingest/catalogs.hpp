// ingest/catalogs.hpp — the data the calculator serves from: the model database and the GPU
// catalog, built from the copies of data/ embedded in the binary (or from texts a caller supplies).
//
// Contract: `load_embedded_catalogs` parses the embedded data once; failures are data errors
// naming the file. The returned object is immutable and safe to share between threads.
#pragma once

#include <string_view>
#include <vector>

#include "vllm_mem/ingest/gpu_catalog.hpp"
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

struct embedded_file {
  std::string_view name;  // path relative to the repository, e.g. "data/models/llama.json"
  std::string_view text;
};

// Generated at build time by cmake/EmbedData.cmake.
const std::vector<embedded_file>& embedded_files();

struct catalogs {
  model_db models;
  gpu_catalog gpus;
};

result<catalogs> load_catalogs(const std::vector<embedded_file>& files);
result<catalogs> load_embedded_catalogs();

}  // namespace vllm_mem
