// ingest/model_db.hpp — the model database: loading, indexing, and resolving the names users type.
//
// Contract: `model_db::load` parses the JSON texts of data/models/*.json (format in
// data/schema.md) strictly; any malformed entry is a data_error naming the file and entry. An
// entry's `fill_from` copies the listed missing architecture fields from another entry at load
// time (no chains, only fields absent in the entry and present in the other). An entry marked
// `unsupported` keeps its values but does not resolve (the calculator cannot model it).
// Lookups never scan: every id and alias is indexed at load time, case-insensitively, and so are
// the forms used by `resolve`: the name without its organisation (another organisation's
// re-upload), the name with variant tokens removed (-hf, -Instruct, -chat, -it, -base, -pt) and
// quantization suffixes (-FP8-dynamic, -AWQ, -GPTQ-Int4, -quantized.w4a16, -bnb-4bit, ...).
// Closed models match only by id or alias. When a normalised key is shared by several entries
// the winner is fixed at load time: the entry whose id carries no variant token (the exact base),
// then the smallest id. A loaded database is immutable and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_mem/model/architecture.hpp"
#include "vllm_mem/model/quantization.hpp"
#include "vllm_mem/util/result.hpp"

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

// `fill_from`: architecture fields this entry takes from another entry, and why the sources say
// the two share them.
struct fill_from_spec {
  std::string id;                   // the entry the fields come from
  std::vector<std::string> fields;  // canonical architecture keys
  std::string reason;
};

// `checkpoint`: the checkpoint's tensor bytes as its model.safetensors.index.json states them
// (metadata.total_size), and where that was read.
struct checkpoint_record {
  std::uint64_t total_size_bytes = 0;
  std::string source;
};

// A quantization named by a checkpoint's suffix, and the name without it.
struct quant_suffix_match {
  std::string base_name;
  std::string suffix;
  quant_spec quant;
};
std::optional<quant_suffix_match> strip_quant_suffix(std::string_view name);

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
  std::optional<fill_from_spec> fill_from;
  std::string unsupported;  // non-empty: why the calculator cannot model this architecture
  std::optional<checkpoint_record> checkpoint;
  // An open entry of a quantized repository that states no quantization: the scheme its id's
  // suffix names (found once, at load).
  std::optional<quant_suffix_match> quant_from_id;
  std::string file;    // data file it came from
  nlohmann::json raw;  // the entry as written (for GET /models/{id})
};

enum class match_kind : std::uint8_t {
  exact,           // id or alias, case-insensitive
  suffix_variant,  // -hf/-Instruct/-chat/-it/-base variant of a known model
  reupload,        // another organisation's copy of a known model
  quantized,       // a quantized checkpoint name resolved to its base model + quantization
  finetune,        // a fine-tune (-Math-, -Coder-) of a base entry, with any quantized suffix
  close_name,      // a misspelling of one database name (estimate/resolve.cpp)
};
const char* match_kind_name(match_kind k);

struct model_match {
  const model_entry* entry = nullptr;
  match_kind kind = match_kind::exact;
  std::optional<quant_spec> quant_from_name;  // for match_kind::quantized
  std::string quant_suffix;                   // the suffix that named it ("FP8-dynamic")
  std::string finetune_token{};               // for match_kind::finetune: "Coder", "Math"
  // The name differs from the entry's by variant tokens (-Instruct, -chat, -hf, ...), not only by
  // organisation or case: the variant's own config may differ in context fields.
  bool variant = false;
};

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
  std::optional<model_match> resolve_unquantized(std::string_view name) const;

  // Looked up by std::string_view (transparent hash): a lookup copies no name.
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using index = std::unordered_map<std::string, std::size_t, name_hash, std::equal_to<>>;
  std::shared_ptr<std::vector<model_entry>> entries_;
  std::shared_ptr<index> exact_;       // lower-cased id or alias
  std::shared_ptr<index> basename_;    // organisation stripped (open models)
  std::shared_ptr<index> normalized_;  // organisation and variant tokens stripped (open models)
};

// Lower-cased, organisation stripped, variant tokens (-hf, -instruct, -chat, -it, -base, -pt)
// removed wherever they stand, a leading "meta-" dropped ("Meta-Llama-3-8B-Instruct" ->
// "llama-3-8b", "Mistral-Nemo-Instruct-2407" -> "mistral-nemo-2407"). Used to match variants;
// not a display name.
std::string normalize_model_name(std::string_view name);

// True when the name (organisation stripped) contains a variant token.
bool has_variant_token(std::string_view name);

}  // namespace vllm_mem
