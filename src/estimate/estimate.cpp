// estimate/estimate.cpp — the seed API's estimate on top of the startup model.
#include "vllm_mem/estimate/estimate.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "vllm_mem/api/json_writer.hpp"
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/ingest/name_estimate.hpp"
#include "vllm_mem/util/checked_math.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr std::uint64_t kMaxTokens = 1ULL << 31;
constexpr std::uint64_t kMaxBatch = 1ULL << 20;

error bad(std::string_view field, std::string message) {
  return make_error(error_code::invalid_argument, std::move(message), std::string(field));
}

// Messages are built only on the error paths: decoding a valid request allocates nothing but the
// values it keeps.
result<std::uint64_t> positive_int(const json& v, std::string_view field, std::uint64_t max,
                                   const char* what = "a positive integer") {
  if (v.is_number_float()) {
    const double x = v.get<double>();
    if (std::isfinite(x) && x == std::floor(x) && x >= 1 && x <= static_cast<double>(max)) {
      return static_cast<std::uint64_t>(x);  // 2048.0 is accepted as 2048
    }
    return bad(field, "'" + std::string(field) + "' must be " + what + ", got " + v.dump());
  }
  if (!v.is_number_integer()) {
    return bad(field,
               "'" + std::string(field) + "' must be " + std::string(what) + ", got " + v.dump());
  }
  if (!v.is_number_unsigned() && v.get<std::int64_t>() <= 0) {
    return bad(field, "'" + std::string(field) + "' must be " + std::string(what) + " (> 0), got " +
                          v.dump());
  }
  const std::uint64_t x = v.get<std::uint64_t>();
  if (x == 0) {
    return bad(field,
               "'" + std::string(field) + "' must be " + std::string(what) + " (> 0), got 0");
  }
  if (x > max) {
    return bad(field, "'" + std::string(field) + "' must be at most " + std::to_string(max) +
                          ", got " + v.dump());
  }
  return x;
}

// The string held by `v` (a view into the request document).
result<std::string_view> string_field(const json& v, std::string_view field) {
  if (!v.is_string()) {
    return bad(field,
               "'" + std::string(field) + "' must be a string, got " + std::string(v.type_name()));
  }
  return std::string_view(*v.get_ptr<const std::string*>());
}

std::string json_excerpt(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

constexpr std::size_t kMaxRequestFields = 32;  // parse_estimate_request's table of values

const name_index& request_field_index() {
  static const name_index index = [] {
    const auto& fields = estimate_request_fields();
    if (fields.size() > kMaxRequestFields) std::abort();  // a build-time constant; never true
    return name_index(std::vector<std::string_view>(fields.begin(), fields.end()));
  }();
  return index;
}

}  // namespace

const std::vector<std::string>& estimate_request_fields() {
  static const std::vector<std::string> fields = {"model_name",
                                                  "max_seq_len",
                                                  "dtype",
                                                  "kv_cache_dtype",
                                                  "max_batch_size",
                                                  "max_model_len",
                                                  "gpu_memory_utilization",
                                                  "quantization",
                                                  "params_billions",
                                                  "architecture",
                                                  "gpu",
                                                  "gpu_memory_gib",
                                                  "tensor_parallel_size",
                                                  "pipeline_parallel_size",
                                                  "max_num_batched_tokens",
                                                  "block_size",
                                                  "enforce_eager",
                                                  "enable_expert_parallel",
                                                  "vllm_version",
                                                  "vllm_engine",
                                                  "max_num_seqs",
                                                  "hf_config",
                                                  "safetensors"};
  return fields;
}

result<estimate_request> parse_estimate_request(const json& body) {
  if (!body.is_object()) return bad("body", "the request body must be a JSON object");
  // One pass over the body: unknown fields are reported before any value is looked at.
  const name_index& index = request_field_index();
  std::array<const json*, kMaxRequestFields> values{};
  for (auto it = body.begin(); it != body.end(); ++it) {
    const int i = index.find(it.key());
    if (i >= 0) {
      if (!it->is_null()) values[static_cast<std::size_t>(i)] = &*it;
      continue;
    }
    std::string msg = "unknown field '" + it.key() + "'";
    const std::string hint = closest_name(it.key(), estimate_request_fields());
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    return bad(it.key(), msg);
  }
  // The value of a field that is present and not null, else nullptr.
  auto field = [&](std::string_view k) { return values[static_cast<std::size_t>(index.find(k))]; };
  estimate_request r;
  // Required fields.
  const json* v = field("model_name");
  if (!v) return bad("model_name", "'model_name' is required (e.g. \"meta-llama/Llama-2-7b\")");
  {
    auto s = string_field(*v, "model_name");
    if (!s) return s.err();
    if (s->empty() || s->size() > 256)
      return bad("model_name", "'model_name' must be 1 to 256 characters");
    r.model_name = *s;
  }
  v = field("max_seq_len");
  if (!v) return bad("max_seq_len", "'max_seq_len' is required (a positive integer, e.g. 2048)");
  {
    auto x = positive_int(*v, "max_seq_len", kMaxTokens);
    if (!x) return x.err();
    r.max_seq_len = *x;
  }
  if ((v = field("dtype"))) {
    auto s = string_field(*v, "dtype");
    if (!s) return s.err();
    auto d = parse_dtype(*s);
    if (!d) {
      return bad("dtype",
                 "unsupported dtype '" + std::string(*s) +
                     "'; use one of float32, float16, bfloat16, int8, int4 (or fp32, fp16, "
                     "half, bf16, fp8, auto)");
    }
    r.dtype = *d;
    r.dtype_text = *s;
    r.dtype_given = true;
  }
  if ((v = field("kv_cache_dtype"))) {
    auto s = string_field(*v, "kv_cache_dtype");
    if (!s) return s.err();
    auto d = parse_kv_cache_dtype(*s);
    if (!d) {
      return bad("kv_cache_dtype", "unsupported kv_cache_dtype '" + std::string(*s) +
                                       "'; use auto, float32, float16, bfloat16, fp8, fp8_e4m3, "
                                       "fp8_e5m2, int8 or int4");
    }
    r.kv_cache_dtype = *d;
  }
  const json* batch = field("max_batch_size");
  const json* seqs = field("max_num_seqs");
  if (batch && seqs) {
    return bad("max_num_seqs",
               "give either 'max_batch_size' or its alias 'max_num_seqs', not both");
  }
  if (batch || seqs) {
    auto x =
        positive_int(batch ? *batch : *seqs, batch ? "max_batch_size" : "max_num_seqs", kMaxBatch);
    if (!x) return x.err();
    r.max_batch_size = *x;
  }
  if ((v = field("max_model_len"))) {
    auto x = positive_int(*v, "max_model_len", kMaxTokens);
    if (!x) return x.err();
    r.max_model_len = *x;
  }
  if ((v = field("gpu_memory_utilization"))) {
    if (!v->is_number())
      return bad("gpu_memory_utilization",
                 "'gpu_memory_utilization' must be a number in (0, 1], got " + json_excerpt(*v));
    const double u = v->get<double>();
    if (!(u > 0.0 && u <= 1.0)) {
      return bad("gpu_memory_utilization",
                 "'gpu_memory_utilization' must be in (0, 1], got " + json_excerpt(*v));
    }
    r.gpu_memory_utilization = u;
  }
  if ((v = field("quantization"))) {
    auto s = string_field(*v, "quantization");
    if (!s) return s.err();
    if (!iequals(*s, "none") && !iequals(*s, "null") && !s->empty()) {
      auto q = parse_quantization(*s);
      if (!q) {
        return bad("quantization",
                   "unsupported quantization '" + std::string(*s) +
                       "'; use Q8, Q4 or null (or vLLM's fp8, int8, w8a8, awq, gptq, "
                       "w4a16, bitsandbytes, mxfp4, nvfp4)");
      }
      r.quantization = *q;
      r.quantization_text = *s;
    }
  }
  if ((v = field("params_billions"))) {
    if (!v->is_number())
      return bad("params_billions", "'params_billions' must be a number, got " + json_excerpt(*v));
    const double p = v->get<double>();
    if (!(p > 0.0 && p <= 100000.0)) {
      return bad("params_billions",
                 "'params_billions' must be > 0 and at most 100000, got " + json_excerpt(*v));
    }
    r.params_billions = p;
  }
  if ((v = field("architecture"))) {
    auto a = parse_arch_spec(*v, "architecture.");
    if (!a) return a.err();
    r.architecture = std::move(*a);
  }
  if ((v = field("hf_config"))) {
    auto c = convert_hf_config(*v, "hf_config.");
    if (!c) return c.err();
    r.hf_config = std::move(c->spec);
    r.hf_config_model_type = c->model_type;
  }
  if ((v = field("safetensors"))) {
    auto c = parse_checkpoint_size(*v, "safetensors");
    if (!c) return c.err();
    r.safetensors = *c;
  }
  const json* gpu = field("gpu");
  const json* gpu_gib = field("gpu_memory_gib");
  if (gpu && gpu_gib) {
    return bad("gpu_memory_gib",
               "give either 'gpu' (a catalog name) or 'gpu_memory_gib', not both");
  }
  if (gpu) {
    auto s = string_field(*gpu, "gpu");
    if (!s) return s.err();
    if (s->empty() || s->size() > 128)
      return bad("gpu", "'gpu' must be a GPU name such as \"H100-80GB\"");
    r.gpu = std::string(*s);
  }
  if (gpu_gib) {
    if (!gpu_gib->is_number())
      return bad("gpu_memory_gib",
                 "'gpu_memory_gib' must be a number, got " + json_excerpt(*gpu_gib));
    const double g = gpu_gib->get<double>();
    if (!(g >= 0.5 && g <= 4096.0)) {
      return bad("gpu_memory_gib", "'gpu_memory_gib' must be between 0.5 and 4096 GiB, got " +
                                       json_excerpt(*gpu_gib));
    }
    r.gpu_memory_gib = g;
  }
  if ((v = field("tensor_parallel_size"))) {
    auto x = positive_int(*v, "tensor_parallel_size", 1024);
    if (!x) return x.err();
    r.tensor_parallel_size = *x;
  }
  if ((v = field("pipeline_parallel_size"))) {
    auto x = positive_int(*v, "pipeline_parallel_size", 1024);
    if (!x) return x.err();
    r.pipeline_parallel_size = *x;
  }
  if ((v = field("max_num_batched_tokens"))) {
    auto x = positive_int(*v, "max_num_batched_tokens", kMaxTokens);
    if (!x) return x.err();
    r.max_num_batched_tokens = *x;
  }
  if ((v = field("block_size"))) {
    auto x = positive_int(*v, "block_size", 1024);
    if (!x) return x.err();
    if (*x != 1 && *x != 8 && *x != 16 && *x != 32 && *x != 64 && *x != 128 && *x != 256) {
      return bad("block_size",
                 "'block_size' must be one of 1, 8, 16, 32, 64, 128, 256 (vLLM's choices), got " +
                     std::to_string(*x));
    }
    r.block_size = *x;
  }
  for (auto [k, out] : {std::pair{"enforce_eager", &r.enforce_eager},
                        std::pair{"enable_expert_parallel", &r.enable_expert_parallel}}) {
    if (!(v = field(k))) continue;
    if (!v->is_boolean())
      return bad(k, std::string("'") + k + "' must be true or false, got " + json_excerpt(*v));
    *out = v->get<bool>();
  }
  if ((v = field("vllm_version"))) {
    auto s = string_field(*v, "vllm_version");
    if (!s) return s.err();
    auto ver = parse_vllm_version(*s, "vllm_version");
    if (!ver) return ver.err();
    r.version = *ver;
  }
  if ((v = field("vllm_engine"))) {
    auto s = string_field(*v, "vllm_engine");
    if (!s) return s.err();
    if (iequals(*s, "v0")) {
      r.engine = engine_kind::v0;
    } else if (iequals(*s, "v1")) {
      r.engine = engine_kind::v1;
    } else {
      return bad("vllm_engine",
                 "'vllm_engine' must be \"v0\" or \"v1\", got \"" + std::string(*s) + "\"");
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Model resolution

namespace {

bool has_required(const arch_spec& s) {
  return s.num_layers && s.hidden_size && s.num_heads && s.vocab_size;
}

// printf's "%.2fT", "%.2fB" or "%.0fM", printed by std::to_chars with a precision, which is
// specified to give printf's digits (as format_g4 does), at a fraction of snprintf's cost (the
// planner's searches run many estimates of large models).
std::string billions(double params) {
  const char unit = params >= 1e12 ? 'T' : params >= 1e9 ? 'B' : 'M';
  const double v = unit == 'T' ? params / 1e12 : unit == 'B' ? params / 1e9 : params / 1e6;
  char buf[400];  // any finite double in fixed notation
  const auto r =
      std::to_chars(buf, buf + sizeof buf - 1, v, std::chars_format::fixed, unit == 'M' ? 0 : 2);
  if (r.ec != std::errc()) return "?";
  *r.ptr = unit;
  return std::string(buf, r.ptr + 1);
}

}  // namespace

namespace {

// resolve_model, writing into the estimate's own result (no copy of the resolved model).
status resolve_model_into(const estimate_request& r, const model_db& db, resolved_model& out) {
  arch_spec base;
  const model_arch* entry_arch = nullptr;
  std::optional<model_match> match = db.resolve(r.model_name);
  std::optional<quant_spec> name_quant;
  if (r.hf_config) {
    base = *r.hf_config;
    out.source = "hf_config";
  } else if (r.params_billions) {
    const double p = *r.params_billions * 1e9;
    base = arch_from_params(p);
    out.source = "params_billions";
    std::string w = "architecture estimated from params_billions (" + billions(p) +
                    "): layers, hidden size and heads are typical values for that size, not the "
                    "model's own";
    if (match && match->entry->arch)
      w += "; the database's architecture of " + match->entry->id + " was not used";
    out.warnings.push_back(w);
  } else if (match && match->entry->closed) {
    const model_entry& e = *match->entry;
    out.resolved_id = e.id;
    out.entry = &e;
    out.match = match_kind_name(match->kind);
    const std::uint64_t p = e.params.official_total.value_or(0);
    if (r.architecture && has_required(*r.architecture)) {
      base = *r.architecture;
      out.source = "request_architecture";
    } else if (p > 0) {
      base = arch_from_params(static_cast<double>(p));
      out.source = "closed_model_estimate";
    } else {
      return make_error(
          error_code::invalid_argument,
          e.display_name +
              " is a closed model and no parameter count has been published "
              "(not even an estimate we could source); give 'params_billions' to estimate it",
          "params_billions");
    }
    std::string size_note;
    if (out.source == "request_architecture") {
      size_note = "The architecture used is the one in the request.";
    } else if (e.params.status == "official") {
      size_note = "Its size (" + e.params.text + ", source: " + e.params.source +
                  ") is the only published figure; no architecture has been published, so the "
                  "one used here is estimated from that count (unofficial).";
    } else {
      size_note = "Its size (" + e.params.text + ", " + e.params.status +
                  ", source: " + e.params.source +
                  ") is a published estimate, not an official figure, and its architecture here "
                  "is estimated from that count.";
    }
    out.warnings.push_back(e.display_name +
                           " is a closed model: its weights are not public and vLLM cannot serve "
                           "it. " +
                           size_note);
  } else if (match && !match->entry->unsupported.empty()) {
    const model_entry& e = *match->entry;
    return make_error(error_code::unsupported,
                      e.id +
                          " is in the database, but this calculator does not model its "
                          "architecture: " +
                          e.unsupported +
                          ". Give 'params_billions' for a rough dense-transformer estimate.",
                      "model_name");
  } else if (match) {
    const model_entry& e = *match->entry;
    if (r.architecture || !e.arch) {
      base = *e.spec;
    } else {
      entry_arch = &*e.arch;  // resolved at load; nothing in the request changes it
    }
    out.entry = &e;
    out.resolved_id = e.id;
    out.match = match_kind_name(match->kind);
    out.source = "database";
    if (match->quant_from_name) name_quant = match->quant_from_name;
    if (match->kind == match_kind::quantized) {
      out.warnings.push_back("'" + r.model_name + "' is not in the database; resolved as " + e.id +
                             " with the quantization its name states (" + match->quant_suffix +
                             " -> " +
                             std::string(quant_method_name(match->quant_from_name->method)) + ")");
    }
    if (match->variant) {
      out.warnings.push_back(
          "'" + r.model_name + "' is not in the database by that name; it was resolved as " + e.id +
          ", a variant of the same architecture (-Instruct/-chat/-it/-base/-hf). A variant's own "
          "config can differ in context fields (max_position_embeddings, rope_scaling); give "
          "'architecture' or 'max_model_len' if yours does.");
    }
    if (e.fill_from) {
      std::string fields;
      for (const auto& f : e.fill_from->fields) fields += (fields.empty() ? "" : ", ") + f;
      out.warnings.push_back("the database entry for " + e.id + " takes " + fields + " from " +
                             e.fill_from->id + ", because no source we hold states them for " +
                             e.id + " itself: " + e.fill_from->reason);
    }
  } else if (r.architecture && has_required(*r.architecture)) {
    out.source = "request_architecture";
  } else {
    auto named = params_from_name(r.model_name);
    double p = 7e9;
    std::uint64_t experts = 0;
    if (named) {
      p = named->experts > 1 ? named->expert_params : named->total_params;
      experts = named->experts;
      out.source = "name_estimate";
      out.warnings.push_back(
          "'" + r.model_name + "' is not in the database; its size was read from the name (" +
          named->text +
          ") and its architecture estimated from that count (Llama-style, grouped-query "
          "attention with 8 KV heads, 32000-token vocabulary). Give 'architecture' or "
          "'params_billions' for a better answer.");
    } else {
      out.source = "default_estimate";
      out.warnings.push_back(
          "'" + r.model_name +
          "' is not in the database and its name has no size; a 7B "
          "Llama-style architecture was assumed. Give 'params_billions' or 'architecture'.");
    }
    base = arch_from_params(p, experts);
  }

  if (entry_arch) {
    out.arch = *entry_arch;
  } else {
    if (r.architecture && out.source != "request_architecture") {
      base.overlay(*r.architecture);
      if (!r.architecture->empty()) out.source += "+request_architecture";
    } else if (out.source == "request_architecture") {
      base = *r.architecture;
    }
    auto arch = resolve_arch(base, "architecture.");
    if (!arch) {
      error e = arch.err();
      if (out.entry) {
        e.message = "the database entry for " + out.entry->id + " is incomplete (" + e.message +
                    "; this value was not found in any source we hold). Give it in the request's "
                    "'architecture'.";
      }
      return e;
    }
    out.arch = std::move(*arch);
  }
  // The name's suffix describes the checkpoint asked for (its outermost quantization), so it
  // wins over the base entry's own; a quantization stated in the request's architecture wins.
  if (name_quant && !(r.architecture && r.architecture->quantization)) {
    out.arch.quantization = *name_quant;
  }
  if (r.safetensors) out.source = "safetensors";
  return ok_status();
}

}  // namespace

result<resolved_model> resolve_model(const estimate_request& r, const model_db& db) {
  resolved_model out;
  if (auto s = resolve_model_into(r, db, out); !s) return s.err();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Estimate

namespace {

void append_u64(std::string& s, std::uint64_t v) {
  char buf[24];
  s.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

result<std::uint64_t> decode_positive_int(const json& v, const std::string& field,
                                          std::uint64_t max) {
  return positive_int(v, field, max);
}

status check_parallel_sizes(const model_arch& a, std::uint64_t tp, std::uint64_t pp) {
  // vLLM's checks: heads divisible by tp; KV heads divisible by tp or replicated (tp a multiple
  // of them); no more pipeline stages than layers.
  if (tp == 0 || a.num_heads % tp != 0) {
    return bad("tensor_parallel_size",
               "Total number of attention heads (" + std::to_string(a.num_heads) +
                   ") must be divisible by tensor parallel size (" + std::to_string(tp) + ")");
  }
  if (!a.is_mla()) {
    if (a.num_kv_heads >= tp ? a.num_kv_heads % tp != 0 : tp % a.num_kv_heads != 0) {
      return bad("tensor_parallel_size", "tensor_parallel_size (" + std::to_string(tp) +
                                             ") must divide the " + std::to_string(a.num_kv_heads) +
                                             " KV heads, or be a multiple of them");
    }
  }
  if (pp == 0 || pp > a.num_layers) {
    return bad("pipeline_parallel_size", "pipeline_parallel_size (" + std::to_string(pp) +
                                             ") exceeds the model's " +
                                             std::to_string(a.num_layers) + " layers");
  }
  return ok_status();
}

double bytes_to_gb(std::uint64_t bytes) {
  return std::round(static_cast<double>(bytes) / 1e9 * 100.0) / 100.0;
}
double bytes_to_gib(double bytes) { return std::round(bytes / kGiB * 100.0) / 100.0; }

namespace {

// The estimate into `out`, whose `model` holds the request's resolved model.
status estimate_resolved(const estimate_request& r, estimate_result& out, const gpu_catalog& gpus) {
  out.model_name = r.model_name;
  out.model_origin = r.model_origin;
  out.checkpoint = r.safetensors;
  const model_arch& a = out.model.arch;
  out.warnings = out.model.warnings;

  // GPU.
  deployment& d = out.deploy;
  const gpu_entry* gpu = nullptr;
  if (r.gpu) {
    gpu = gpus.find(*r.gpu);
    if (!gpu) {
      std::string msg = "unknown gpu '" + *r.gpu + "'";
      const std::string hint = closest_name(*r.gpu, gpus.ids());
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      msg += " (or give 'gpu_memory_gib', the total memory CUDA reports)";
      return bad("gpu", msg);
    }
    if (gpu->cuda_total_gib <= 0) {
      return make_error(
          error_code::unsupported,
          "the catalog has no CUDA memory reading for " + gpu->id + "; give 'gpu_memory_gib'",
          "gpu");
    }
    out.has_gpu = true;
    out.gpu_id = gpu->id;
    d.gpu_total_bytes = static_cast<std::uint64_t>(std::llround(gpu->cuda_total_gib * kGiB));
  } else if (r.gpu_memory_gib) {
    out.has_gpu = true;
    d.gpu_total_bytes = static_cast<std::uint64_t>(std::llround(*r.gpu_memory_gib * kGiB));
  }
  // vLLM picks its batch defaults by device size and name (§8.2). For a bare memory size, the
  // catalog tells whether that size is an A100's (79.15 GiB) rather than an H100's.
  bool big_gpu = gpu ? gpu->big_for_vllm_defaults() : false;
  if (!gpu && r.gpu_memory_gib && *r.gpu_memory_gib >= 70.0) {
    big_gpu = true;
    for (const auto& g : gpus.entries()) {
      if (std::fabs(g.cuda_total_gib - *r.gpu_memory_gib) < 0.005 && !g.big_for_vllm_defaults())
        big_gpu = false;
    }
  }

  // vLLM version and engine.
  static const vllm_version newest =
      parse_vllm_version(kNewestCalibratedVersion, "vllm_version").value();
  const vllm_version version = r.version.value_or(newest);
  const engine_kind engine = r.engine.value_or(default_engine(version));
  auto profile = make_profile(version, engine);
  if (!profile) return profile.err();
  d.profile = *profile;
  if (d.profile.extrapolated) {
    out.warnings.push_back(
        "vLLM " + version.text() +
        " is newer than the newest version calibrated on real startup logs (" +
        std::string(kNewestCalibratedVersion) +
        "); its figures follow the documented accounting of that version without calibration");
  }

  // Parallelism (vLLM's checks).
  d.tp = r.tensor_parallel_size;
  d.pp = r.pipeline_parallel_size;
  d.expert_parallel = r.enable_expert_parallel;
  if (auto ok = check_parallel_sizes(a, d.tp, d.pp); !ok) return ok.err();
  out.num_gpus = d.tp * d.pp;
  d.gpu_memory_utilization = r.gpu_memory_utilization;
  out.gpu_memory_utilization = r.gpu_memory_utilization;

  // Data types and quantization.
  const dtype model_dtype = a.torch_dtype_known ? a.torch_dtype : dtype::bfloat16;
  dtype act = dtype::float16;
  std::optional<quant_spec> dtype_quant;
  if (r.dtype.is_auto) {
    // vLLM "auto": bf16 checkpoints run in bf16, fp32 and fp16 ones in fp16.
    act = model_dtype == dtype::bfloat16 ? dtype::bfloat16 : dtype::float16;
  } else if (r.dtype.value == dtype::int8 || r.dtype.value == dtype::int4 ||
             r.dtype.value == dtype::fp8) {
    act = model_dtype == dtype::bfloat16 ? dtype::bfloat16 : dtype::float16;
    dtype_quant = parse_quantization(r.dtype.value == dtype::int8   ? "int8"
                                     : r.dtype.value == dtype::int4 ? "q4"
                                                                    : "fp8");
  } else {
    act = r.dtype.value;
  }
  d.act_bits = dtype_bits(act);
  if (dtype_quant && r.quantization && dtype_quant->method != r.quantization->method) {
    return bad("quantization", "dtype '" + r.dtype_text + "' already means " +
                                   std::string(quant_method_name(dtype_quant->method)) +
                                   " weights; it conflicts with quantization '" +
                                   r.quantization_text + "'");
  }
  std::optional<quant_spec> requested = r.quantization ? r.quantization : dtype_quant;
  const quant_spec& checkpoint = a.quantization;
  if (requested && !checkpoint.is_none()) {
    const bool same =
        requested->method == checkpoint.method ||
        (requested->method == quant_method::fp8 && checkpoint.method == quant_method::fp8_block) ||
        (requested->method == quant_method::awq && checkpoint.method == quant_method::gptq &&
         r.quantization_text == "Q4");
    if (!same) {
      return bad("quantization", "Quantization method specified in the model config (" +
                                     std::string(quant_method_name(checkpoint.method)) +
                                     ") does not match the quantization method specified in the "
                                     "`quantization` argument (" +
                                     (r.quantization ? r.quantization_text : r.dtype_text) + ")");
    }
    requested.reset();  // the checkpoint's own layout is the more precise description
  }
  d.quant = requested ? *requested : checkpoint;
  if (d.quant.method == quant_method::bitsandbytes && d.quant.bits == 4 &&
      a.quantization.is_none() && requested) {
    d.quant.double_quant = false;  // on-the-fly bitsandbytes quantization has no nested absmax
  }
  std::uint32_t kv_bits = d.act_bits;
  if (r.kv_cache_dtype && !r.kv_cache_dtype->is_auto) kv_bits = dtype_bits(r.kv_cache_dtype->value);
  d.kv_bits = kv_bits;

  // Lengths and scheduler.
  d.max_model_len = r.max_model_len.value_or(r.max_seq_len);
  const bool multimodal = a.vision.has_value();
  const scheduler_defaults sched =
      default_scheduler(d.profile, big_gpu, d.max_model_len, multimodal);
  const std::uint64_t seed_batch = r.max_batch_size.value_or(32);
  d.max_num_seqs = r.max_batch_size.value_or(out.has_gpu ? sched.max_num_seqs : seed_batch);
  d.max_num_batched_tokens = r.max_num_batched_tokens.value_or(sched.max_num_batched_tokens);
  d.max_num_batched_tokens_follows_len = !r.max_num_batched_tokens && !sched.chunked_prefill;
  if (engine == engine_kind::v0 && !sched.chunked_prefill && r.max_num_batched_tokens &&
      *r.max_num_batched_tokens < d.max_model_len) {
    return bad(
        "max_num_batched_tokens",
        "max_num_batched_tokens (" + std::to_string(*r.max_num_batched_tokens) +
            ") is smaller than max_model_len (" + std::to_string(d.max_model_len) +
            "). This effectively limits the maximum sequence length to max_num_batched_tokens "
            "and makes vLLM reject longer sequences. Please increase max_num_batched_tokens "
            "or decrease max_model_len.");
  }
  if (engine == engine_kind::v1)
    d.max_num_seqs = std::min(d.max_num_seqs, d.max_num_batched_tokens);
  d.block_size = r.block_size.value_or(16);
  d.enforce_eager = r.enforce_eager;
  if (r.safetensors) {
    // The checkpoint's exact bytes scale the computed layout (weights.hpp).
    d.checkpoint_bytes = r.safetensors->total_bytes;
    auto layout = checkpoint_layout_bytes(a, d.act_bits);
    if (!layout) return layout.err();
    out.checkpoint_layout_bytes = *layout;
    const double ratio = static_cast<double>(d.checkpoint_bytes) /
                         static_cast<double>(std::max<std::uint64_t>(1, *layout));
    if (ratio < 0.8 || ratio > 1.25) {
      out.warnings.push_back("the checkpoint's safetensors hold " +
                             format_g4(static_cast<double>(d.checkpoint_bytes) / 1e9) +
                             " GB but the architecture accounts for " +
                             format_g4(static_cast<double>(*layout) / 1e9) +
                             " GB in the checkpoint's dtype and quantization; the weights "
                             "follow the checkpoint: check that the config and the weights "
                             "belong together");
    }
  }

  // The weights' overflow error names the request object the architecture came from.
  auto from_model = [&](error e) {
    if (e.code == error_code::out_of_range && e.field == "architecture" &&
        (out.model.source == "hf_config" || out.model.source == "params_billions"))
      e.field = out.model.source;
    return e;
  };
  auto st = simulate_startup(a, d);
  if (!st) return from_model(st.err());
  out.startup = std::move(*st);

  auto params = count_parameters(a);
  if (!params) return from_model(params.err());
  out.params = *params;

  // Seed components, per GPU (stage 0, rank 0), in checked arithmetic (checked_math.hpp): inputs
  // that are each within bounds but together need more than 2^60 bytes get an error naming the
  // field, never a wrapped number.
  seed_components& c = out.bytes;
  const startup_result& s = out.startup;
  auto too_big = [](const char* field, const std::string& what, const char* advice) {
    return make_error(error_code::out_of_range,
                      what + " would take more than 2^60 bytes (1 EiB) per GPU; " + advice, field);
  };
  checked_u64 ck;
  c.model_params = s.weights.parameter_bytes();
  c.activation = ck.at_most(s.activation_peak_bytes, kMaxByteCount);
  if (ck.overflow())
    return too_big("max_num_batched_tokens",
                   "the activations of max_num_batched_tokens " +
                       std::to_string(d.max_num_batched_tokens) + " tokens",
                   "reduce 'max_num_batched_tokens'");
  c.min_kv_cache = ck.mul(seed_batch, s.kv.page_bytes, s.kv.layers);
  deployment seed_d = d;
  seed_d.max_num_seqs = seed_batch;
  c.max_kv_cache = ck.mul(seed_batch, kv_bytes_for_request(a, seed_d, r.max_seq_len));
  ck.at_most(c.max_kv_cache, kMaxByteCount);
  if (ck.overflow())
    return too_big("max_seq_len",
                   "the KV cache of " + std::to_string(seed_batch) + " sequences of " +
                       std::to_string(r.max_seq_len) + " tokens (max_batch_size x max_seq_len)",
                   "reduce 'max_seq_len' or 'max_batch_size'");
  // Each part is at most 2^60 bytes, so these sums are exact.
  c.cuda_overhead =
      s.cuda_context_bytes + s.non_torch_bytes + s.cuda_graph_bytes + s.weights.buffers;
  c.total_min = c.model_params + c.activation + c.min_kv_cache + c.cuda_overhead;
  c.total_max = c.model_params + c.activation + c.max_kv_cache + c.cuda_overhead;
  const double recommended = static_cast<double>(c.total_max) / r.gpu_memory_utilization;
  if (!(recommended <= static_cast<double>(kMaxByteCount)))
    return too_big("gpu_memory_utilization",
                   "the recommended memory (total / gpu_memory_utilization " +
                       format_g4(r.gpu_memory_utilization) + ")",
                   "raise 'gpu_memory_utilization'");
  c.recommended = static_cast<std::uint64_t>(recommended);
  out.kv_cache_bytes_per_token = s.kv.bytes_per_token;

  // Warnings for very large models.
  const double total_params = static_cast<double>(out.params.total);
  const std::uint64_t weights_total = [&]() -> std::uint64_t {
    if (d.tp == 1 && d.pp == 1) return s.weights.parameter_bytes();  // one rank holds it all
    weight_options wo;
    wo.act_bits = d.act_bits;
    wo.quant = d.quant;
    wo.checkpoint_bytes = d.checkpoint_bytes;
    auto w = weights_per_rank(a, wo);
    return w ? w->parameter_bytes() : 0;
  }();
  if (total_params > 100e9 || weights_total > 80ULL * 1000 * 1000 * 1000) {
    out.warnings.push_back(
        "very large model: " + billions(total_params) + " parameters, " +
        format_g4(static_cast<double>(weights_total) / 1e9) +
        " GB of weights in total, more than one 80 GB GPU holds; use tensor_parallel_size / "
        "pipeline_parallel_size (per-GPU figures are given when they are set)");
  }

  // The flags this estimate assumed, as `vllm serve` takes them.
  std::string& args = out.vllm_args;
  args.reserve(224);
  if (engine == engine_kind::v0 && version >= vllm_version{0, 8, 0}) args += "VLLM_USE_V1=0 ";
  args += "--max-model-len ";
  append_u64(args, d.max_model_len);
  args += " --max-num-seqs ";
  append_u64(args, d.max_num_seqs);
  args += " --max-num-batched-tokens ";
  append_u64(args, d.max_num_batched_tokens);
  args += " --gpu-memory-utilization ";
  args += format_g4(d.gpu_memory_utilization);
  if (d.tp > 1) {
    args += " --tensor-parallel-size ";
    append_u64(args, d.tp);
  }
  if (d.pp > 1) {
    args += " --pipeline-parallel-size ";
    append_u64(args, d.pp);
  }
  if (d.expert_parallel) args += " --enable-expert-parallel";
  // Without a dtype in the request vLLM's own default (auto) gives the same 16-bit layout, so the
  // flag is left out rather than forcing float16 onto a bfloat16 model.
  if (r.dtype_given && !r.dtype.is_auto) {
    args += " --dtype ";
    args += dtype_name(act);
  }
  if (requested) {
    const char* q = nullptr;
    switch (requested->method) {
      case quant_method::fp8:
      case quant_method::fp8_block:
        q = "fp8";
        break;
      case quant_method::bitsandbytes:
        q = "bitsandbytes";
        break;
      case quant_method::mxfp4:
        q = "mxfp4";
        break;
      case quant_method::int8:
        q = "experts_int8";
        break;
      default:
        break;
    }
    if (q) {
      args += " --quantization ";
      args += q;
    }
  }
  if (kv_bits == 8) args += " --kv-cache-dtype fp8";
  if (r.block_size) {
    args += " --block-size ";
    append_u64(args, d.block_size);
  }
  if (d.enforce_eager) args += " --enforce-eager";
  return ok_status();
}

}  // namespace

result<estimate_result> estimate(const estimate_request& r, const model_db& db,
                                 const gpu_catalog& gpus) {
  estimate_result out;
  if (auto resolved = resolve_model_into(r, db, out.model); !resolved) return resolved.err();
  if (auto s = estimate_resolved(r, out, gpus); !s) return s.err();
  return out;
}

status estimate(const estimate_request& r, const resolved_model& model, const gpu_catalog& gpus,
                estimate_result& out) {
  out.model = model;
  return estimate_resolved(r, out, gpus);
}

void append_json(std::string& out, const estimate_result& e) {
  // Keys in byte order: the order nlohmann's std::map objects print (json_writer.hpp).
  const seed_components& c = e.bytes;
  const double model_params_gb = bytes_to_gb(c.model_params);
  const double activation_gb = bytes_to_gb(c.activation);
  const double min_kv_gb = bytes_to_gb(c.min_kv_cache);
  const double max_kv_gb = bytes_to_gb(c.max_kv_cache);
  const double overhead_gb = bytes_to_gb(c.cuda_overhead);
  json_writer w(out);
  w.begin_object();
  w.key("activation_memory_gb").f64(activation_gb);
  w.key("architecture_used");
  write_json(w, e.model.arch);
  if (e.checkpoint) {
    // Rare (a request with the checkpoint's bytes): the safetensors module's DOM, as text.
    json ck = to_json(*e.checkpoint);
    ck["architecture_bytes"] = e.checkpoint_layout_bytes;
    w.key("checkpoint").raw(ck.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  w.key("components_breakdown").begin_object();
  w.key("activation").f64(activation_gb);
  w.key("cuda_overhead").f64(overhead_gb);
  w.key("max_kv_cache").f64(max_kv_gb);
  w.key("min_kv_cache").f64(min_kv_gb);
  w.key("model_params").f64(model_params_gb);
  w.end_object();
  w.key("components_bytes").begin_object();
  w.key("activation").u64(c.activation);
  w.key("cuda_overhead").u64(c.cuda_overhead);
  w.key("kv_cache_per_token").u64(e.kv_cache_bytes_per_token);
  w.key("max_kv_cache").u64(c.max_kv_cache);
  w.key("min_kv_cache").u64(c.min_kv_cache);
  w.key("model_params").u64(c.model_params);
  w.key("recommended").u64(c.recommended);
  w.key("total_max").u64(c.total_max);
  w.key("total_min").u64(c.total_min);
  w.end_object();
  w.key("cuda_overhead_gb").f64(overhead_gb);
  w.key("max_kv_cache_memory_gb").f64(max_kv_gb);
  w.key("min_kv_cache_memory_gb").f64(min_kv_gb);
  w.key("model_match");
  e.model.match.empty() ? w.null() : w.string(e.model.match);
  w.key("model_name").string(e.model_name);
  if (!e.model_origin.empty()) w.key("model_origin").string(e.model_origin);
  w.key("model_params_memory_gb").f64(model_params_gb);
  w.key("model_source").string(e.model.source);
  w.key("num_gpus").u64(e.num_gpus);
  w.key("parameters").begin_object();
  w.key("active").u64(e.params.active);
  w.key("convention")
      .string(
          "active = all non-expert parameters + top-k routed experts, both embedding matrices "
          "counted");
  w.key("total").u64(e.params.total);
  w.end_object();
  w.key("pipeline_parallel_size").u64(e.deploy.pp);
  w.key("recommended_memory_gb").f64(bytes_to_gb(c.recommended));
  w.key("resolved_model_id");
  e.model.resolved_id.empty() ? w.null() : w.string(e.model.resolved_id);
  w.key("tensor_parallel_size").u64(e.deploy.tp);
  w.key("total_max_memory_gb").f64(bytes_to_gb(c.total_max));
  w.key("total_min_memory_gb").f64(bytes_to_gb(c.total_min));
  w.key("vllm_engine").string(e.deploy.profile.engine == engine_kind::v0 ? "v0" : "v1");
  if (e.has_gpu) {
    const startup_result& s = e.startup;
    auto gib = [](auto bytes) { return bytes_to_gib(static_cast<double>(bytes)); };
    w.key("vllm_startup").begin_object();
    w.key("activation_peak_gib").f64(gib(s.activation_peak_bytes));
    w.key("block_size").u64(e.deploy.block_size);
    w.key("cuda_context_gib").f64(gib(s.cuda_context_bytes));
    w.key("cuda_graph_gib").f64(gib(s.cuda_graph_bytes));
    w.key("cuda_graph_in_budget").boolean(s.cuda_graph_in_budget);
    w.key("cuda_graphs_captured").u64(s.cuda_graphs);
    w.key("error");
    s.error.empty() ? w.null() : w.string(s.error);
    w.key("fits").boolean(s.fits);
    w.key("gpu");
    e.gpu_id.empty() ? w.null() : w.string(e.gpu_id);
    w.key("gpu_memory_utilization").f64(e.gpu_memory_utilization);
    w.key("kv_cache_bytes").i64(s.kv_cache_bytes);
    w.key("kv_cache_gib").f64(gib(s.kv_cache_bytes));
    w.key("kv_cache_groups").u64(s.kv.groups);
    w.key("kv_cache_tokens").u64(s.kv_cache_tokens);
    w.key("limiting_factor").string(limiting_factor_name(s.limit));
    w.key("max_concurrency").f64(std::round(s.max_concurrency * 100.0) / 100.0);
    w.key("max_model_len").u64(e.deploy.max_model_len);
    w.key("max_model_len_fit").u64(s.max_model_len_fit);
    w.key("max_num_batched_tokens").u64(e.deploy.max_num_batched_tokens);
    w.key("max_num_seqs").u64(e.deploy.max_num_seqs);
    w.key("non_torch_gib").f64(gib(s.non_torch_bytes));
    w.key("num_gpu_blocks").u64(s.num_gpu_blocks);
    w.key("process_footprint_gib")
        .f64(
            bytes_to_gib(static_cast<double>(s.requested_bytes + s.cuda_context_bytes) +
                         (s.cuda_graph_in_budget ? 0.0 : static_cast<double>(s.cuda_graph_bytes))));
    w.key("requested_memory_gib").f64(gib(s.requested_bytes));
    w.key("total_gpu_memory_gib").f64(gib(s.total_bytes));
    w.key("vllm_args").string(e.vllm_args);
    w.key("weights_gib").f64(gib(s.weights.total()));
    w.end_object();
  }
  w.key("vllm_version").string(e.deploy.profile.version.text());
  w.key("warning");
  if (e.warnings.empty()) {
    w.null();
  } else {
    std::string joined;
    for (const auto& s : e.warnings) {
      if (!joined.empty()) joined += " | ";
      joined += s;
    }
    w.string(joined);
  }
  w.end_object();
}

json to_json(const estimate_result& e) {
  std::string text;
  append_json(text, e);
  return json::parse(text);
}

}  // namespace vllm_mem
