// model_db.hpp — the model database: loading, indexing, and resolving the names users type.
//
// Contract: `model_db::load` parses the JSON texts of data/models/*.json (format in
// data/schema.md) strictly; any malformed entry is a data_error naming the file and entry.
// Lookups never scan: every id and alias is indexed at load time, case-insensitively, and so are
// the normalised forms used by `resolve` (organisation stripped, suffixes such as -hf, -Instruct,
// -chat, -it, -base removed, quantization suffixes such as -FP8-dynamic, -AWQ, -GPTQ-Int4,
// -quantized.w4a16, -bnb-4bit recognised). A loaded database is immutable and safe to share
// between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/architecture.hpp"
#include "vllm_mem/quantization.hpp"
#include "vllm_mem/result.hpp"

namespace vllm_mem {

struct published_params {
  std::optional<std::uint64_t> official_total;
  std::optional<std::uint64_t> official_active;
  std::string text;
  std::string status;  // official | nominal | unofficial
  std::string source;
  std::string convention;
  std::string exception;
};

struct model_entry {
  std::string id;
  std::vector<std::string> aliases;
  std::string display_name;
  std::string family;
  bool closed = false;
  std::optional<arch_spec> spec;   // as written in the data file
  std::optional<model_arch> arch;  // resolved (open models)
  published_params params;
  std::vector<std::string> source;
  std::string verification;
  std::string notes;
  std::string file;    // data file it came from
  nlohmann::json raw;  // the entry as written (for GET /models/{id})
};

enum class match_kind : std::uint8_t {
  exact,           // id or alias, case-insensitive
  suffix_variant,  // -hf/-Instruct/-chat/-it/-base variant of a known model
  reupload,        // another organisation's copy of a known model
  quantized,       // a quantized checkpoint name resolved to its base model + quantization
};
const char* match_kind_name(match_kind k);

struct model_match {
  const model_entry* entry = nullptr;
  match_kind kind = match_kind::exact;
  std::optional<quant_spec> quant_from_name;  // for match_kind::quantized
  std::string quant_suffix;                   // the suffix that named it ("FP8-dynamic")
};

// A quantization named by a checkpoint's suffix, and the name without it.
struct quant_suffix_match {
  std::string base_name;
  std::string suffix;
  quant_spec quant;
};
std::optional<quant_suffix_match> strip_quant_suffix(std::string_view name);

class model_db {
 public:
  struct source_file {
    std::string name;
    std::string_view text;
  };
  static result<model_db> load(const std::vector<source_file>& files);

  const std::vector<model_entry>& entries() const { return *entries_; }
  const model_entry* find_exact(std::string_view name) const;
  std::optional<model_match> resolve(std::string_view name) const;

 private:
  std::shared_ptr<std::vector<model_entry>> entries_;
  std::shared_ptr<std::unordered_map<std::string, std::size_t>> exact_;  // lower id/alias
  std::shared_ptr<std::unordered_map<std::string, std::size_t>>
      normalized_;  // org + suffixes stripped
  std::shared_ptr<std::unordered_map<std::string, std::size_t>> basename_;  // org stripped
};

// Lower-cased, organisation stripped, trailing variant suffixes removed ("Meta-Llama-3-8B-Instruct"
// -> "llama-3-8b"). Used to match variants; not a display name.
std::string normalize_model_name(std::string_view name);

}  // namespace vllm_mem
