// ingest/hf_config_layout.cpp — what every family reads the same way, with the family's columns:
// the model length, RoPE, the final logit softcapping and which layers use a sliding window.
#include <string>
#include <vector>

#include "hf_config_rules.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem::hf_rules {

namespace {

// vLLM _get_and_verify_max_len: the minimum over these keys; model_max_length overrides.
constexpr const char* kLengthKeys[] = {
    "max_position_embeddings", "n_positions",         "max_seq_len",    "seq_length",
    "max_target_positions",    "max_sequence_length", "max_seq_length", "seq_len"};

}  // namespace

void read_lengths(reading& r) {
  const view& t = r.text;
  std::optional<u64> len;
  std::string len_from;
  for (const char* k : kLengthKeys) {
    if (auto v = t.u64_of(k); v && *v > 0 && (!len || *v < *len)) {
      len = v;
      len_from = t.field(k);
    }
  }
  if (auto v = t.u64_of("model_max_length"); v && *v > 0) {
    len = v;
    len_from = t.field("model_max_length");
  }
  if (!len && r.cls && r.cls->max_pos > 0) {
    len = r.cls->max_pos;  // the class default max_position_embeddings
    len_from = t.field("max_position_embeddings");
  }
  if (len) r.b.set("max_position_embeddings", *len, len_from);
}

// rope_scaling (or transformers 5's rope_parameters, per layer type for Gemma 3) is kept for the
// default max_model_len; rope_theta (rotary_emb_base) as given.
void read_rope(reading& r) {
  const view& t = r.text;
  const json* rope = t.get("rope_scaling");
  std::string rope_from = t.field("rope_scaling");
  const json* params = t.get("rope_parameters");  // transformers 5
  if (params != nullptr && params->is_object()) {
    const json* p = params;
    std::string pf = t.field("rope_parameters");
    if (!p->contains("rope_type") && p->contains("full_attention") &&
        (*p)["full_attention"].is_object()) {
      p = &(*p)["full_attention"];  // per-layer-type parameters (Gemma 3)
      pf += ".full_attention";
    }
    if (rope == nullptr) {
      rope = p;
      rope_from = pf;
    }
    if (p->contains("rope_theta") && (*p)["rope_theta"].is_number()) {
      r.b.set("rope_theta", (*p)["rope_theta"], pf + ".rope_theta");
    }
  }
  if (rope != nullptr) {
    if (!rope->is_object()) {
      r.err.invalid(rope_from, "'" + rope_from + "' must be an object or null");
    } else {
      const view rv(*rope, rope_from + ".", r.err);
      const char* tk = rv.first({"rope_type", "type"});
      const std::string type = tk ? to_lower(rv.str_of(tk).value_or("")) : "";
      if (!type.empty() && type != "default") {
        json s{{"rope_type", type}};
        if (const json* f = rv.get("factor")) s["factor"] = *f;
        if (const json* o = rv.get("original_max_position_embeddings")) {
          s["original_max_position_embeddings"] = *o;
        } else if (const json* top = t.get("original_max_position_embeddings")) {
          s["original_max_position_embeddings"] = *top;  // Phi-3 LongRoPE keeps it outside
        }
        r.b.set("rope_scaling", s, rope_from);
      }
    }
  }
  if (const char* k = t.first({"rope_theta", "rotary_emb_base"})) {
    if (auto theta = t.f64_of(k)) r.b.set("rope_theta", *theta, t.field(k));
  }
}

void read_softcap(reading& r) {
  if (!r.family.reads_softcap) return;
  if (auto s = r.text.f64_of("final_logit_softcapping")) {
    r.b.set("logit_softcapping", *s, r.text.field("final_logit_softcapping"));
  } else if (r.family.softcap_default > 0 && !r.text.has_key("final_logit_softcapping")) {
    r.b.set("logit_softcapping", r.family.softcap_default, r.text.field("final_logit_softcapping"));
  }
}

// ---------------------------------------------------------------------------------------------
// Attention windows

namespace {

// The window and which layers use it, as the stages below refine it.
struct windows {
  u64 window = 0;  // 0: no sliding window
  std::string window_from;
  std::vector<bool> sliding;  // per layer
  std::string layout_from;    // the field that decided `sliding`
};

// The config's window, else the family's default; the family's layout.
windows family_windows(const reading& r) {
  const view& t = r.text;
  windows w;
  w.window_from = t.field("sliding_window");
  if (t.has("sliding_window")) {
    w.window = t.u64_of("sliding_window").value_or(0);
  } else if (!t.has_key("sliding_window")) {
    w.window = r.family.default_window;
  }
  const u64 n = r.layers.value_or(0);
  w.sliding.assign(n, w.window > 0);
  w.layout_from = w.window_from;
  if (r.family.windows == window_layout::even_layers) {
    for (u64 i = 0; i < n; ++i) w.sliding[i] = w.window > 0 && (i % 2 == 0);  // even layers slide
  }
  return w;
}

// sliding_window_pattern p: all but every p-th layer slide (Gemma3TextConfig: 6).
void pattern_windows(const reading& r, windows& w) {
  const view& t = r.text;
  if (r.family.windows != window_layout::every_nth && !t.has("sliding_window_pattern")) return;
  const u64 p = t.u64_of("sliding_window_pattern").value_or(6);
  if (p == 0) {
    std::string msg = "'";  // appended: GCC 12 -O3 -Wrestrict misreads "'" + string
    msg += t.field("sliding_window_pattern");
    msg += "' must be at least 1";
    r.err.invalid(t.field("sliding_window_pattern"), msg);
  }
  for (u64 i = 0; i < w.sliding.size() && p > 0; ++i) {
    w.sliding[i] = w.window > 0 && ((i + 1) % p != 0);
  }
  w.layout_from = t.field("sliding_window_pattern");
}

// Qwen: use_sliding_window False switches the window off; when on, layers from
// max_window_layers on slide (Qwen2Config max_window_layers 28).
void qwen_windows(const reading& r, windows& w) {
  const view& t = r.text;
  const bool qwen = r.family.windows == window_layout::qwen_max_window_layers;
  if (!t.has_key("use_sliding_window") && !qwen) return;
  const bool on = t.bool_of("use_sliding_window").value_or(false);
  // max_window_layers defaults: 28 (Qwen2/Qwen2-MoE/Qwen3/Qwen3-MoE), 80 (Qwen2-VL text);
  // a config of another type with use_sliding_window slides on every layer.
  const u64 from =
      t.u64_of("max_window_layers")
          .value_or(!qwen ? 0 : (r.text_type.find("_vl") != std::string::npos ? 80 : 28));
  for (u64 i = 0; i < w.sliding.size(); ++i) w.sliding[i] = on && w.window > 0 && i >= from;
  w.layout_from = t.field("max_window_layers");
}

// layer_types (transformers 4.5x): one of sliding_attention / full_attention /
// chunked_attention per layer.
void layer_type_windows(const reading& r, windows& w) {
  const json* lt = r.text.get("layer_types");
  if (lt == nullptr) return;
  const std::string f = r.text.field("layer_types");
  const u64 n = w.sliding.size();
  if (!lt->is_array() || lt->size() != n) {
    r.err.invalid(f, "'" + f + "' must list one type per layer (" + std::to_string(n) +
                         " for num_hidden_layers)");
    return;
  }
  for (u64 i = 0; i < n; ++i) {
    const json& t = (*lt)[i];
    const std::string s = t.is_string() ? t.get<std::string>() : std::string();
    if (s == "sliding_attention") {
      w.sliding[i] = true;
    } else if (s == "full_attention" || s == "chunked_attention" ||
               s == "linear_attention") {  // state layers: convert_state_layers
      w.sliding[i] = false;
    } else {
      r.err.unsupported(f, "'" + f + "' has layer type " + view::excerpt(t) + " (layer " +
                               std::to_string(i) +
                               "); only full, sliding and chunked attention are modelled");
      break;
    }
  }
  w.layout_from = f;
  if (w.window == 0 && std::find(w.sliding.begin(), w.sliding.end(), true) != w.sliding.end()) {
    r.err.invalid(w.window_from, "'" + f + "' has sliding_attention layers but '" + w.window_from +
                                     "' is not set");
  }
}

// Canonical sliding_window_pattern of a per-layer list (true = sliding window layer): 0 when every
// layer slides, n when layer i is full attention exactly when (i + 1) % n == 0.
struct window_layout_of {
  bool expressible = true;
  bool any_sliding = false;
  u64 pattern = 0;
};
window_layout_of sliding_layout(const std::vector<bool>& sliding) {
  window_layout_of w;
  const auto n = static_cast<u64>(sliding.size());
  u64 count = 0;
  for (bool s : sliding) count += s ? 1 : 0;
  if (count == 0) return w;
  w.any_sliding = true;
  if (count == n) return w;
  u64 first_full = 0;
  while (sliding[first_full]) ++first_full;
  w.pattern = first_full + 1;
  if (w.pattern < 2) {
    w.expressible = false;
    return w;
  }
  for (u64 i = 0; i < n; ++i) {
    if (sliding[i] != ((i + 1) % w.pattern != 0)) {
      w.expressible = false;
      return w;
    }
  }
  return w;
}

}  // namespace

void read_windows(reading& r) {
  // DeepSeek-V4's sliding_window is one branch of its compressed attention, read there.
  if (r.b.has("compressed_attention")) return;
  windows w = family_windows(r);
  pattern_windows(r, w);
  qwen_windows(r, w);
  layer_type_windows(r, w);
  const window_layout_of l = sliding_layout(w.sliding);
  if (!l.expressible) {
    r.err.unsupported(w.layout_from, "the sliding-window layers given by '" + w.layout_from +
                                         "' are not every layer nor all but every n-th layer; "
                                         "that layout is not modelled");
  } else if (l.any_sliding) {
    r.b.set("sliding_window", w.window, w.window_from);
    if (l.pattern > 0) r.b.set("sliding_window_pattern", l.pattern, w.layout_from);
  }
}

}  // namespace vllm_mem::hf_rules
