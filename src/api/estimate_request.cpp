// api/estimate_request.cpp — decoding the /estimate-gpu-memory request body (fields, defaults,
// bounds) into the typed estimate_request.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/api/vllm_command.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/util/checked_math.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

using json = nlohmann::json;

namespace {

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

constexpr std::size_t kMaxRequestFields = 64;  // parse_estimate_request's table of values

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
                                                  "interconnect",
                                                  "enable_lora",
                                                  "max_loras",
                                                  "max_lora_rank",
                                                  "max_cpu_loras",
                                                  "lora_dtype",
                                                  "fully_sharded_loras",
                                                  "limit_mm_per_prompt",
                                                  "speculative_config",
                                                  "vllm_version",
                                                  "vllm_engine",
                                                  "max_num_seqs",
                                                  "hf_config",
                                                  "safetensors",
                                                  "kv_cache_memory_bytes",
                                                  "cpu_offload_gb",
                                                  "reserved_memory_gib",
                                                  "max_cudagraph_capture_size",
                                                  "cudagraph_capture_sizes",
                                                  "cudagraph_mode",
                                                  "vllm_command"};
  return fields;
}

namespace {

// vLLM's LoRA flags (EngineArgs / LoRAConfig). Without enable_lora vLLM builds no LoRAConfig
// and ignores the sizes; so does the estimate (they are still checked).
template <class Field>
status decode_lora(const Field& field, estimate_request& r) {
  lora_config& c = r.lora;
  const json* v = nullptr;
  if ((v = field("enable_lora"))) {
    if (!v->is_boolean())
      return bad("enable_lora", "'enable_lora' must be true or false, got " + json_excerpt(*v));
    c.enabled = v->get<bool>();
  }
  if ((v = field("max_loras"))) {
    auto x = positive_int(*v, "max_loras", 1024);
    if (!x) return x.err();
    c.max_loras = *x;
  }
  if ((v = field("max_lora_rank"))) {
    auto x = positive_int(*v, "max_lora_rank", 512);
    if (!x) return x.err();
    // LoRAConfig.max_lora_rank's choices.
    constexpr std::array<std::uint64_t, 9> ranks{1, 8, 16, 32, 64, 128, 256, 320, 512};
    if (std::find(ranks.begin(), ranks.end(), *x) == ranks.end()) {
      return bad("max_lora_rank",
                 "'max_lora_rank' must be one of 1, 8, 16, 32, 64, 128, 256, 320, 512 (vLLM's "
                 "choices), got " +
                     std::to_string(*x));
    }
    c.max_lora_rank = *x;
  }
  if ((v = field("max_cpu_loras"))) {
    auto x = positive_int(*v, "max_cpu_loras", 1 << 20);
    if (!x) return x.err();
    if (*x < c.max_loras) {
      return bad("max_cpu_loras", "max_cpu_loras (" + std::to_string(*x) +
                                      ") must be >= max_loras (" + std::to_string(c.max_loras) +
                                      ")");
    }
    c.max_cpu_loras = *x;
  }
  if ((v = field("lora_dtype"))) {
    auto s = string_field(*v, "lora_dtype");
    if (!s) return s.err();
    if (iequals(*s, "auto")) {
      c.dtype_bits = 0;
    } else if (iequals(*s, "float16") || iequals(*s, "half") || iequals(*s, "bfloat16")) {
      c.dtype_bits = 16;
    } else if (iequals(*s, "float32") || iequals(*s, "float")) {
      c.dtype_bits = 32;
    } else {
      return bad("lora_dtype", "'lora_dtype' must be auto, float16, bfloat16 or float32, got \"" +
                                   std::string(*s) + "\"");
    }
  }
  if ((v = field("fully_sharded_loras"))) {
    if (!v->is_boolean())
      return bad("fully_sharded_loras",
                 "'fully_sharded_loras' must be true or false, got " + json_excerpt(*v));
    c.fully_sharded = v->get<bool>();
  }
  return ok_status();
}

// speculative_config: vLLM's --speculative-config, as an object or the flag's JSON text. The
// methods whose memory is modelled are "mtp" (the checkpoint's own MTP modules), "ngram" and
// "suffix"; a draft model or an EAGLE head is refused until its weights are modelled.
status decode_speculative(const json& v, estimate_request& r) {
  const std::string f = "speculative_config";
  json parsed;
  const json* o = &v;
  if (v.is_string()) {
    parsed = json::parse(v.get_ref<const std::string&>(), nullptr, false);
    if (parsed.is_discarded()) return bad(f, "'" + f + "' is not valid JSON: " + json_excerpt(v));
    o = &parsed;
  }
  if (!o->is_object()) {
    return bad(f, "'" + f + "' must be an object such as {\"method\": \"mtp\", " +
                      "\"num_speculative_tokens\": 1}, got " + json_excerpt(v));
  }
  speculative_config& c = r.speculative;
  for (auto it = o->begin(); it != o->end(); ++it) {
    const std::string& k = it.key();
    const std::string fk = f + "." + k;
    if (k == "method") {
      auto s = string_field(*it, fk);
      if (!s) return s.err();
      const bool mtp_type = s->size() > 4 && iequals(s->substr(s->size() - 4), "_mtp");
      if (iequals(*s, "mtp") || mtp_type) {  // deepseek_mtp, qwen3_next_mtp, ...: vLLM's "mtp"
        c.method = spec_method::mtp;
      } else if (iequals(*s, "ngram") || iequals(*s, "[ngram]") || iequals(*s, "ngram_gpu")) {
        c.method = spec_method::ngram;
      } else if (iequals(*s, "suffix")) {
        c.method = spec_method::suffix;
      } else if (iequals(*s, "draft_model") || iequals(*s, "eagle") || iequals(*s, "eagle3") ||
                 iequals(*s, "medusa") || iequals(*s, "mlp_speculator") || iequals(*s, "dflash")) {
        return bad(fk, "'" + fk + "' \"" + std::string(*s) +
                           "\" loads a separate draft checkpoint, whose weights and KV are not "
                           "modelled yet; the modelled methods are mtp, ngram and suffix");
      } else {
        return bad(fk, "'" + fk + "' must be one of mtp, ngram, suffix (draft_model, eagle and " +
                           "eagle3 are not modelled yet), got \"" + std::string(*s) + "\"");
      }
    } else if (k == "num_speculative_tokens") {
      auto x = positive_int(*it, fk, 64);
      if (!x) return x.err();
      c.num_speculative_tokens = *x;
    } else if (k == "model") {
      // vLLM's MTP drafter is the target's own checkpoint; any other model is a draft model.
      auto s = string_field(*it, fk);
      if (!s) return s.err();
      r.speculative_model = std::string(*s);
    } else if (k == "draft_tensor_parallel_size") {
      auto x = positive_int(*it, fk, 1024);
      if (!x) return x.err();
      r.draft_tensor_parallel_size = *x;
    } else if (k == "prompt_lookup_max" || k == "prompt_lookup_min") {
      auto x = positive_int(*it, fk, 1 << 20);  // ngram's window: no memory of its own
      if (!x) return x.err();
    } else {
      return bad(fk, "'" + fk +
                         "' is not a modelled speculative_config key (method, "
                         "num_speculative_tokens, model, draft_tensor_parallel_size, "
                         "prompt_lookup_max, prompt_lookup_min)");
    }
  }
  if (c.method == spec_method::none && r.speculative_model == "ngram") {
    c.method = spec_method::ngram;  // vLLM's SpeculativeConfig: model "ngram" without a method
    r.speculative_model.reset();
  } else if (c.method == spec_method::none && r.speculative_model) {
    return bad(f + ".model",
               "'" + f + ".model' without a method is a draft model (vLLM infers " +
                   "draft_model, or eagle from the name), whose weights and KV are " +
                   "not modelled yet; the modelled methods are mtp, ngram and suffix");
  } else if (c.method == spec_method::none) {
    return bad(f + ".method", "'" + f + ".method' is required (mtp, ngram or suffix)");
  }
  return ok_status();
}

// One modality's count: a non-negative integer, or vLLM's newer {"count": n, ...} form.
result<std::uint64_t> mm_count(const json& v, const std::string& field) {
  const json* c = &v;
  if (v.is_object()) {
    const auto it = v.find("count");
    if (it == v.end()) return bad(field, "'" + field + "' must be a count or {\"count\": n}");
    c = &*it;
  }
  if (c->is_number_unsigned() || (c->is_number_integer() && c->get<std::int64_t>() >= 0)) {
    const std::uint64_t x = c->get<std::uint64_t>();
    if (x <= (1U << 20)) return x;
  }
  return bad(field, "'" + field + "' must be an integer in [0, 1048576], got " + json_excerpt(*c));
}

// limit_mm_per_prompt: an object of per-modality counts ({"image": 0, "video": 0}), or the
// flag's text as `vllm serve --limit-mm-per-prompt` reads it: that JSON, or image=0,video=0.
// Only image and video change the estimate (the vision tower); other modalities are checked.
status decode_mm_limits(const json& v, estimate_request& r) {
  const std::string f = "limit_mm_per_prompt";
  json parsed = json::object();
  const json* o = &v;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.front() == '{') {
      parsed = json::parse(s, nullptr, false);
      if (parsed.is_discarded()) return bad(f, "'" + f + "' is not valid JSON: " + json_excerpt(v));
    } else {
      std::size_t at = 0;
      while (at <= s.size()) {
        const std::size_t end = std::min(s.find(',', at), s.size());
        const std::string item = s.substr(at, end - at);
        const std::size_t eq = item.find('=');
        const std::string key = item.substr(0, eq);
        const std::string num = eq == std::string::npos ? "" : item.substr(eq + 1);
        if (key.empty() || num.empty() || num.size() > 7 ||
            num.find_first_not_of("0123456789") != std::string::npos) {
          return bad(f, "'" + f + "' must be JSON such as {\"image\": 0} or modality=count pairs " +
                            "such as image=0,video=0, got " + json_excerpt(v));
        }
        parsed[key] = std::stoull(num);
        at = end + 1;
      }
    }
    o = &parsed;
  }
  if (!o->is_object()) {
    return bad(f, "'" + f +
                      "' must be an object of per-modality counts such as {\"image\": 0}, got " +
                      json_excerpt(v));
  }
  for (auto it = o->begin(); it != o->end(); ++it) {
    auto x = mm_count(*it, f + "." + it.key());
    if (!x) return x.err();
    if (it.key() == "image") r.mm.image = *x;
    if (it.key() == "video") r.mm.video = *x;
  }
  return ok_status();
}

// vLLM's deployment fields: the device, parallelism, scheduler sizes, version and engine.
// `field(name)` is the value of a present, non-null field, else nullptr.
template <class Field>
status decode_deployment(const Field& field, estimate_request& r) {
  const json* v = nullptr;
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
    // vLLM's choices, or a multiple of 16 above them: the attention block size vLLM computes
    // for a hybrid model (e.g. 544 for Qwen3-Next at tp 2); the estimate refuses it for a model
    // without state layers.
    auto x = positive_int(*v, "block_size", 65536);
    if (!x) return x.err();
    const bool choice =
        *x == 1 || *x == 8 || *x == 16 || *x == 32 || *x == 64 || *x == 128 || *x == 256;
    if (!choice && (*x < 256 || *x % 16 != 0)) {
      return bad("block_size",
                 "'block_size' must be one of 1, 8, 16, 32, 64, 128, 256 (vLLM's choices) or, "
                 "for a hybrid model, a multiple of 16 (vLLM's enlarged attention block), got " +
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
  if ((v = field("interconnect"))) {
    auto s = string_field(*v, "interconnect");
    if (!s) return s.err();
    if (iequals(*s, "nvlink")) {
      r.interconnect = interconnect_kind::nvlink;
    } else if (iequals(*s, "pcie")) {
      r.interconnect = interconnect_kind::pcie;
    } else {
      return bad("interconnect",
                 "'interconnect' must be \"nvlink\" or \"pcie\", got \"" + std::string(*s) + "\"");
    }
  }
  if (auto ok = decode_lora(field, r); !ok) return ok.err();
  if ((v = field("limit_mm_per_prompt"))) {
    if (auto ok = decode_mm_limits(*v, r); !ok) return ok.err();
  }
  if ((v = field("speculative_config")) && !v->is_null()) {
    if (auto ok = decode_speculative(*v, r); !ok) return ok.err();
  }
  if ((v = field("vllm_version"))) {
    auto s = string_field(*v, "vllm_version");
    if (!s) return s.err();
    auto ver = parse_vllm_version(*s, "vllm_version");
    if (!ver) return ver.err();
    r.version = *ver;
  }
  if ((v = field("kv_cache_memory_bytes"))) {
    auto x = positive_int(*v, "kv_cache_memory_bytes", 1ULL << 50, "a positive number of bytes");
    if (!x) return x.err();
    r.kv_cache_memory_bytes = *x;
  }
  if ((v = field("reserved_memory_gib"))) {
    if (!v->is_number() || !(v->get<double>() >= 0.0 && v->get<double>() <= 1048576.0)) {
      return bad("reserved_memory_gib",
                 "'reserved_memory_gib' must be the GiB per GPU other processes hold, a number in "
                 "[0, 1048576], got " +
                     json_excerpt(*v));
    }
    r.reserved_memory_gib = v->get<double>();
  }
  if ((v = field("cpu_offload_gb"))) {
    if (!v->is_number() || !(v->get<double>() >= 0.0 && v->get<double>() <= 1048576.0)) {
      return bad("cpu_offload_gb",
                 "'cpu_offload_gb' must be a number of GiB per GPU in [0, 1048576], got " +
                     json_excerpt(*v));
    }
    r.cpu_offload_gb = v->get<double>();
  }
  if ((v = field("max_cudagraph_capture_size"))) {
    auto x = positive_int(*v, "max_cudagraph_capture_size", kMaxTokens);
    if (!x) return x.err();
    r.capture.max_capture_size = *x;
  }
  if ((v = field("cudagraph_capture_sizes"))) {
    if (!v->is_array() || v->empty() || v->size() > 4096) {
      return bad("cudagraph_capture_sizes",
                 "'cudagraph_capture_sizes' must be a non-empty array of at most 4096 positive "
                 "integers, got " +
                     json_excerpt(*v));
    }
    for (const auto& e : *v) {
      auto x =
          positive_int(e, "cudagraph_capture_sizes", kMaxTokens, "an array of positive integers");
      if (!x) return x.err();
      r.capture.sizes.push_back(*x);
    }
    std::sort(r.capture.sizes.begin(), r.capture.sizes.end());
    r.capture.sizes.erase(std::unique(r.capture.sizes.begin(), r.capture.sizes.end()),
                          r.capture.sizes.end());
  }
  if ((v = field("cudagraph_mode"))) {
    auto s = string_field(*v, "cudagraph_mode");
    if (!s) return s.err();
    if (iequals(*s, "NONE")) {
      r.capture.mode = cudagraph_mode::none;
    } else if (iequals(*s, "PIECEWISE")) {
      r.capture.mode = cudagraph_mode::piecewise;
    } else if (iequals(*s, "FULL")) {
      r.capture.mode = cudagraph_mode::full;
    } else if (iequals(*s, "FULL_AND_PIECEWISE")) {
      r.capture.mode = cudagraph_mode::full_and_piecewise;
    } else {
      return bad("cudagraph_mode",
                 "'cudagraph_mode' must be one of NONE, PIECEWISE, FULL, FULL_AND_PIECEWISE, got "
                 "\"" +
                     std::string(*s) + "\"");
    }
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
  return ok_status();
}

}  // namespace

result<estimate_request> parse_estimate_request(const json& body) {
  if (!body.is_object()) return bad("body", "the request body must be a JSON object");
  // A vLLM command line: its flags as fields, the body's own fields over them (vllm_command.hpp).
  if (const auto vc = body.find("vllm_command"); vc != body.end() && !vc->is_null()) {
    auto merged = merge_vllm_command(body);
    if (!merged) return merged.err();
    if (!merged->body.contains("max_seq_len")) {
      return bad("max_seq_len",
                 "'max_seq_len' is required: the vllm_command has no numeric --max-model-len, so "
                 "give max_seq_len (or --max-model-len) for the workload's length");
    }
    auto r = parse_estimate_request(merged->body);
    if (!r) return r.err();
    r->ignored_flags = std::move(merged->ignored_flags);
    r->from_vllm_command = true;
    return r;
  }
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
  if ((v = field("max_model_len")) &&
      ((v->is_string() && iequals(*v->get_ptr<const std::string*>(), "auto")) ||
       (v->is_number_integer() && !v->is_number_unsigned() && v->get<std::int64_t>() == -1))) {
    // vLLM's auto-fit: the largest length whose KV cache fits (-1 is its spelling of "auto").
    r.max_model_len_auto = true;
  } else if (v) {
    if (v->is_string())
      return bad(
          "max_model_len",
          "'max_model_len' must be a positive integer, \"auto\" or -1, got " + json_excerpt(*v));
    auto x = positive_int(*v, "max_model_len", kMaxTokens, "a positive integer, \"auto\" or -1");
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
    r.gpu_memory_utilization_given = true;
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
                       "w4a16, bitsandbytes, mxfp4, nvfp4, or compressed-tensors / modelopt "
                       "with the checkpoint's layout)");
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
  if (auto ok = decode_deployment(field, r); !ok) return ok.err();
  return r;
}

result<std::uint64_t> decode_positive_int(const json& v, const std::string& field,
                                          std::uint64_t max) {
  return positive_int(v, field, max);
}

}  // namespace vllm_mem
