// ingest/catalogs.cpp — builds the model database and GPU catalog from data files.
#include "vllm_mem/ingest/catalogs.hpp"

namespace vllm_mem {

result<catalogs> load_catalogs(const std::vector<embedded_file>& files) {
  std::vector<model_db::source_file> model_files;
  std::string_view gpu_text;
  for (const auto& f : files) {
    if (f.name.rfind("data/models/", 0) == 0) model_files.push_back({std::string(f.name), f.text});
    if (f.name == "data/gpus.json") gpu_text = f.text;
  }
  if (model_files.empty())
    return make_error(error_code::invalid_argument, "no model database files (data/models/*.json)");
  if (gpu_text.empty())
    return make_error(error_code::invalid_argument, "no GPU catalog (data/gpus.json)");
  auto db = model_db::load(model_files);
  if (!db) return db.err();
  auto gpus = gpu_catalog::load(gpu_text);
  if (!gpus) return gpus.err();
  return catalogs{std::move(*db), std::move(*gpus)};
}

result<catalogs> load_embedded_catalogs() { return load_catalogs(embedded_files()); }

}  // namespace vllm_mem
