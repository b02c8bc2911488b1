// ingest/hf_config_quantization.cpp — quantization_config -> the canonical `quantization` object
// (data/schema.md): one row per quant_method, with the function that reads its keys (the
// defaults of its transformers config class) and the lists of modules it leaves unquantized.
#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>

#include "hf_config_rules.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem::hf_rules {

namespace {

// The strings of the lists under `keys` (at most 32 names).
json string_list(const view& q, const key_list& keys) {
  json out = json::array();
  for (const char* k : keys) {
    const json* v = q.get(k);
    if (v == nullptr || !v->is_array()) continue;
    for (const auto& s : *v) {
      if (s.is_string() && out.size() < 32) out.push_back(s);
    }
  }
  return out;
}

// A bit width: the first key present, else `dflt`; one the method's kernels do not load is
// unsupported.
u64 bits_of(const view& q, const std::string& method, const key_list& keys, u64 dflt,
            std::initializer_list<u64> allowed) {
  const char* k = q.first(keys);
  const u64 b = k ? q.u64_of(k).value_or(dflt) : dflt;
  if (std::find(allowed.begin(), allowed.end(), b) == allowed.end()) {
    const std::string f = q.field(k ? k : keys.front());
    q.errs().unsupported(f, "'" + f + "' = " + std::to_string(b) + " bits is not a width vLLM's " +
                                method + " kernels load");
  }
  return b;
}

// An array of two integers (a block shape), else nullptr.
const json* block_shape_of(const json* v) {
  if (v == nullptr || !v->is_array() || v->size() != 2 || !(*v)[0].is_number_integer() ||
      !(*v)[1].is_number_integer()) {
    return nullptr;
  }
  return v;
}

// Each reader fills `out` and returns false after an error that stops the conversion.
using method_reader = bool (*)(const view& q, const std::string& method, json& out);

// Fp8Config / FbgemmFp8Config: weight_block_size makes it block-wise.
bool read_fp8(const view& q, const std::string&, json& out) {
  out["bits"] = 8;
  out["method"] = "fp8";
  if (const json* wbs = q.get("weight_block_size")) {
    if (block_shape_of(wbs) == nullptr) {
      q.errs().invalid(q.field("weight_block_size"),
                       "'" + q.field("weight_block_size") + "' must be an array of two integers");
      return false;
    }
    out["method"] = "fp8_block";
    out["weight_block_size"] = *wbs;
  }
  return true;
}

// AwqConfig: bits (w_bit) 4, group_size (q_group_size) 128, zero_point True.
bool read_awq(const view& q, const std::string& method, json& out) {
  out["method"] = "awq";
  out["bits"] = bits_of(q, method, {"bits", "w_bit"}, 4, {4});
  const char* g = q.first({"group_size", "q_group_size"});
  out["group_size"] = g ? q.u64_of(g).value_or(128) : 128;
  out["sym"] = !q.bool_of("zero_point").value_or(true);
  return true;
}

// GPTQConfig: bits 4, group_size 128 (-1: per channel), desc_act False, sym True, lm_head
// False. AutoRound checkpoints load through the same GPTQ layouts.
bool read_gptq(const view& q, const std::string& method, json& out) {
  out["method"] = "gptq";
  out["bits"] = bits_of(q, method, {"bits"}, 4, {2, 3, 4, 8});
  if (const json* g = q.get("group_size")) {
    if (g->is_number_integer() && g->get<std::int64_t>() == -1) {
      out["group_size"] = -1;
    } else {
      out["group_size"] = q.u64_of("group_size").value_or(128);
    }
  } else {
    out["group_size"] = 128;
  }
  out["desc_act"] = q.bool_of("desc_act").value_or(false);
  out["sym"] = q.bool_of("sym").value_or(true);
  out["quantize_lm_head"] = q.bool_of("lm_head").value_or(false);
  return true;
}

// One compressed-tensors weights scheme (num_bits, type, strategy), or null after an error.
json compressed_tensors_scheme(const view& wv) {
  errors& err = wv.errs();
  const auto num_bits = wv.u64_of("num_bits");
  if (!num_bits) {
    if (!wv.has("num_bits"))
      err.invalid(wv.field("num_bits"), "'" + wv.field("num_bits") + "' is required");
    return nullptr;
  }
  const std::string type = to_lower(wv.str_of("type").value_or("int"));
  const std::string strategy = to_lower(wv.str_of("strategy").value_or("tensor"));
  json s = json::object();
  if (type == "float" && *num_bits == 8) {
    s["bits"] = 8;
    if (strategy == "block") {
      const json* bs = block_shape_of(wv.get("block_structure"));
      if (bs == nullptr) {
        err.invalid(wv.field("block_structure"),
                    "'" + wv.field("block_structure") +
                        "' must be an array of two integers for the block strategy");
        return nullptr;
      }
      s["method"] = "fp8_block";
      s["weight_block_size"] = *bs;
    } else {
      s["method"] = "fp8";
    }
  } else if (type == "int" && *num_bits == 8) {
    s["method"] = "int8";
    s["bits"] = 8;
  } else if (type == "int" && *num_bits == 4) {
    s["method"] = "w4a16";
    s["bits"] = 4;
    s["group_size"] = (strategy == "group" || strategy == "tensor_group")
                          ? wv.u64_of("group_size").value_or(128)
                          : 0;
    s["sym"] = wv.bool_of("symmetric").value_or(true);
  } else if (type == "float" && *num_bits == 4) {
    s["method"] = "nvfp4";
    s["bits"] = 4;
  } else {
    err.unsupported(wv.field("num_bits"), "compressed-tensors weights of " +
                                              std::to_string(*num_bits) + "-bit " + type + " ('" +
                                              wv.field("num_bits") + "') are not modelled");
    return nullptr;
  }
  return s;
}

// compressed-tensors: every config group that quantizes weights must use the same scheme.
bool read_compressed_tensors(const view& q, const std::string&, json& out) {
  errors& err = q.errs();
  const json* groups = q.get("config_groups");
  const std::string gf = q.field("config_groups");
  if (groups == nullptr || !groups->is_object() || groups->empty()) {
    err.invalid(gf, "'" + gf + "' must be a non-empty object of quantization groups");
    return false;
  }
  json scheme;
  std::string scheme_group;
  for (auto it = groups->begin(); it != groups->end(); ++it) {
    const std::string group_field = gf + "." + it.key();
    if (!it->is_object()) {
      err.invalid(group_field, "'" + group_field + "' must be an object");
      return false;
    }
    const view g(*it, group_field + ".", err);
    const json* w = g.get("weights");
    if (w == nullptr) continue;  // activation-only group
    if (!w->is_object()) {
      err.invalid(g.field("weights"), "'" + g.field("weights") + "' must be an object");
      return false;
    }
    json s = compressed_tensors_scheme(view(*w, g.field("weights") + ".", err));
    if (s.is_null()) return false;
    if (!scheme.is_null() && scheme != s) {
      err.unsupported(gf, "'" + gf + "' mixes schemes (" + scheme_group + ": " +
                              scheme["method"].get<std::string>() + ", " + it.key() + ": " +
                              s["method"].get<std::string>() +
                              "); mixed-precision checkpoints are not modelled");
      return false;
    }
    scheme = s;
    scheme_group = it.key();
  }
  if (scheme.is_null()) {
    err.invalid(gf, "'" + gf + "' quantizes no weights");
    return false;
  }
  out = scheme;
  return true;
}

// BitsAndBytesConfig: load_in_4bit/load_in_8bit False, bnb_4bit_use_double_quant False.
bool read_bitsandbytes(const view& q, const std::string&, json& out) {
  const bool four = q.bool_of("load_in_4bit").value_or(false);
  const bool eight = q.bool_of("load_in_8bit").value_or(false);
  if (four == eight) {
    q.errs().invalid(q.field("load_in_4bit"), "a bitsandbytes config must set exactly one of '" +
                                                  q.field("load_in_4bit") + "' and '" +
                                                  q.field("load_in_8bit") + "'");
    return false;
  }
  out["method"] = "bitsandbytes";
  out["bits"] = four ? 4 : 8;
  if (four) out["double_quant"] = q.bool_of("bnb_4bit_use_double_quant").value_or(false);
  return true;
}

bool read_mxfp4(const view&, const std::string&, json& out) {
  out["method"] = "mxfp4";
  return true;
}

// ModelOpt (config.json or hf_quant_config.json's nested "quantization"): quant_algo FP8* or
// NVFP4; modelopt_fp4 means NVFP4.
bool read_modelopt(const view& q, const std::string& method, json& out) {
  std::string algo = method == "modelopt_fp4" ? "NVFP4" : "";
  if (const auto a = q.str_of("quant_algo")) algo = *a;
  if (const json* inner = q.get("quantization"); inner && inner->is_object()) {
    const view iv(*inner, q.field("quantization") + ".", q.errs());
    if (const auto a = iv.str_of("quant_algo")) algo = *a;
  }
  std::string upper = algo;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("FP8", 0) == 0) {
    out["method"] = "fp8";
    out["bits"] = 8;
  } else if (upper == "NVFP4") {
    out["method"] = "nvfp4";
    out["bits"] = 4;
  } else {
    q.errs().unsupported(q.field("quant_algo"), "ModelOpt quant_algo '" + algo + "' ('" +
                                                    q.field("quant_algo") +
                                                    "') is not modelled; FP8 and NVFP4 are");
    return false;
  }
  return true;
}

struct method_rule {
  key_list names;  // quant_method, lower-case
  method_reader read;
  key_list unquantized;  // the lists of modules left unquantized
};
const method_rule kMethods[] = {
    {{"fp8", "fbgemm_fp8"}, read_fp8, {"ignored_layers", "modules_to_not_convert"}},
    {{"awq", "awq_marlin"}, read_awq, {"modules_to_not_convert"}},
    {{"gptq", "gptq_marlin", "auto-round", "auto_round", "autoround"},
     read_gptq,
     {"modules_to_not_convert"}},
    {{"compressed-tensors", "compressed_tensors"}, read_compressed_tensors, {"ignore"}},
    {{"bitsandbytes"}, read_bitsandbytes, {"llm_int8_skip_modules"}},
    {{"mxfp4"}, read_mxfp4, {"modules_to_not_convert"}},
    {{"modelopt", "modelopt_fp4"}, read_modelopt, {"exclude_modules"}},
};

const method_rule* find_method(const std::string& m) {
  for (const auto& row : kMethods) {
    for (const char* name : row.names) {
      if (m == name) return &row;
    }
  }
  return nullptr;
}

}  // namespace

json quantization_from_hf(const json& qc, const std::string& f, errors& err) {
  if (!qc.is_object()) {
    err.invalid(f, "'" + f + "' must be an object");
    return nullptr;
  }
  const view q(qc, f + ".", err);
  const auto method_text = q.str_of("quant_method");
  if (!method_text) {
    if (!q.has("quant_method")) {
      err.invalid(q.field("quant_method"),
                  "'" + q.field("quant_method") + "' is required in a quantization_config");
    }
    return nullptr;
  }
  const std::string m = to_lower(*method_text);
  const method_rule* known = find_method(m);
  if (known == nullptr) {
    err.unsupported(q.field("quant_method"),
                    "quantization method '" + *method_text + "' ('" + q.field("quant_method") +
                        "') is not modelled; supported: awq, gptq, auto-round, fp8, fbgemm_fp8, "
                        "compressed-tensors, bitsandbytes, mxfp4, modelopt");
    return nullptr;
  }
  json out = json::object();
  if (!known->read(q, m, out)) return nullptr;
  const json unquantized = string_list(q, known->unquantized);
  if (!unquantized.empty()) out["unquantized"] = unquantized;
  return out;
}

}  // namespace vllm_mem::hf_rules
