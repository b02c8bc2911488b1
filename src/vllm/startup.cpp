// vllm/startup.cpp — the vLLM startup model (vllm-memory-model.md §1–§6, §12).
#include "vllm_mem/vllm/startup.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "vllm_mem/util/checked_math.hpp"
#include "vllm_mem/vllm/kv_groups.hpp"

namespace vllm_mem {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr std::uint64_t kMaxSearchLen = 1ULL << 31;

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }
std::uint64_t gib_to_bytes(double gib) {
  return static_cast<std::uint64_t>(std::llround(gib * kGiB));
}

// vLLM's messages, assembled in one buffer without temporaries: text, integers, GiB with printf's
// %.2f and a utilization as vLLM prints it (the first 4 characters of %f). std::to_chars with a
// precision is specified to print printf's digits.
class message {
 public:
  explicit message(std::string& out) : s_(out) {
    s_.clear();
    s_.reserve(384);
  }
  message& operator()(std::string_view text) {
    s_ += text;
    return *this;
  }
  message& u64(std::uint64_t v) {
    char buf[24];
    s_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    return *this;
  }
  message& gib2(double bytes) {
    fixed(bytes / kGiB, 2, 352);
    return *this;
  }
  // As Python prints a float (vLLM's f-strings): the shortest text that reads back, 0.9, 0.997.
  message& utilization(double u) {
    char buf[32];
    s_.append(buf, std::to_chars(buf, buf + sizeof buf, u).ptr);
    return *this;
  }

 private:
  void fixed(double v, int decimals, std::size_t max_chars) {
    char buf[352];  // the longest %f of a double
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    s_.append(buf, std::min(max_chars, static_cast<std::size_t>(r.ptr - buf)));
  }
  std::string& s_;
};

// Per-stage KV geometry: attention layer counts by kind and the V1 grouping (§6.3).
struct stage_kv {
  std::uint64_t full_layers = 0;
  std::uint64_t sliding_layers = 0;
  std::uint64_t chunked_layers = 0;
  std::uint64_t state_layers = 0;      // hybrid models' state (Mamba / linear-attention) layers
  std::uint64_t page_bytes = 0;        // one layer, one block (a state page is padded to it)
  std::uint64_t state_page_bytes = 0;  // one state layer, one sequence, before padding
  std::uint64_t group_size = 0;        // S_g
  std::uint64_t full_groups = 0, sliding_groups = 0, chunked_groups = 0, state_groups = 0;
  // Sparse MLA: the indexer caches share the MLA layers' one group (UniformTypeKVCacheSpecs:
  // the same block size, each layer its own page), so a block spans both.
  std::uint64_t indexer_layers = 0, indexer_page_bytes = 0;
  // One layer's KV per token by kind, and the tokens per block of each kind: Gemma 4's full and
  // sliding layers differ in shape, and vLLM's unify_kv_cache_spec_page_size enlarges the block
  // of the smaller page until the pages are equal (page_bytes is then that common page).
  std::uint64_t full_bytes_per_token = 0, sliding_bytes_per_token = 0;
  std::uint64_t full_block_size = 0, sliding_block_size = 0;
  // DeepSeek-V4: its caches, each of layers x pages of block_size tokens (window 0: the whole
  // length). Their pages differ, so they are counted in bytes: a block index spans one page of
  // every cache (block_bytes), a request needs the bytes of every cache's pages.
  struct cache {
    layer_group_kind kind = layer_group_kind::full_attention;
    std::uint64_t layers = 0, page_bytes = 0, block_size = 0, window = 0, compress_ratio = 0;
  };
  std::vector<cache> caches;
  std::uint64_t groups() const {
    if (!caches.empty()) return caches.size();
    return full_groups + sliding_groups + chunked_groups + state_groups;
  }
  std::uint64_t layers() const { return full_layers + sliding_layers + chunked_layers; }
  // Bytes of one block index across the layers of a group (num_blocks = available // this).
  std::uint64_t block_bytes() const {
    if (!caches.empty()) {
      std::uint64_t b = 0;
      for (const cache& c : caches) b = saturating_add(b, saturating_mul(c.layers, c.page_bytes));
      return b;
    }
    return group_size * page_bytes + indexer_layers * indexer_page_bytes;
  }
};

// Pages one request of `len` tokens holds in one DeepSeek-V4 cache: the whole length, or a
// window as SlidingWindowSpec.max_memory_usage_bytes reserves it (window - 1 + M, +1 block).
std::uint64_t cache_pages(const stage_kv::cache& c, const deployment& d, std::uint64_t len) {
  if (c.window == 0) return ceil_div(len, c.block_size);
  return ceil_div(std::min(c.window - 1 + d.max_num_batched_tokens, len), c.block_size) + 1;
}

// FlashMLA's pages are padded to 576 bytes (kv_cache_interface.py _apply_alignment_padding).
std::uint64_t align_576(std::uint64_t bytes) { return ceil_div(bytes, 576) * 576; }

// DeepSeek-V4's caches on the layers [first, last), from the layer classes' get_kv_cache_spec
// (deepseek_v4_attention.py, sparse_swa.py, deepseek_compressor.py; fp8_ds_mla records of 584
// bytes per stored token: 448 NoPE fp8 + 64 RoPE bf16 + 8 scale bytes; none split by TP):
//  * every layer: the sliding-window cache, 64-token blocks (DeepseekV4SWACache);
//  * ratio 4 / 128: the compressed KV, block B with B / ratio stored entries (MLAAttentionSpec
//    storage_block_size), and the compressor's fp32 state of 2 x coff x 512 (coff 2 for ratio 4)
//    as a sliding window of coff x ratio tokens in 4- / 8-token blocks (CompressorStateCache);
//  * ratio 4 also: the indexer's keys (index_head_dim fp8 + fp32 scales, B / 4 entries) and its
//    compressor's state (2 x 2 x index_head_dim fp32, window 8, 4-token blocks).
// The MTP drafter's layer (ratio 1) adds a window cache on the last stage.
void add_compressed_caches(const model_arch& a, const deployment& d, layer_range r,
                           std::uint64_t draft_layers, stage_kv& k) {
  const compressed_attention& ca = a.compressed;
  const std::uint64_t B = d.block_size;
  const std::uint64_t c4 = ca.count(r.first, r.last, 4), c128 = ca.count(r.first, r.last, 128);
  const std::uint64_t n = r.last - r.first + draft_layers;
  using K = layer_group_kind;
  auto add = [&](K kind, std::uint64_t layers, std::uint64_t page, std::uint64_t block,
                 std::uint64_t window, std::uint64_t ratio) {
    if (layers > 0) k.caches.push_back({kind, layers, page, block, window, ratio});
  };
  add(K::compressed_attention, c4, align_576(B / 4 * 584), B, 0, 4);
  add(K::compressed_attention, c128, align_576(std::max<std::uint64_t>(1, B / 128) * 584), B, 0,
      128);
  add(K::indexer, c4, align_576(B / 4 * (ca.index_head_dim + ca.index_head_dim / 128 * 4)), B, 0,
      4);
  add(K::sliding_window, n, align_576(64 * 584), 64, ca.window, 1);
  add(K::compressor_state, c4, align_576(4 * 2 * 2 * a.head_dim * 4), 4, 8, 4);
  add(K::compressor_state, c128, align_576(8 * 2 * a.head_dim * 4), 8, 128, 128);
  add(K::compressor_state, c4, align_576(4 * 2 * 2 * ca.index_head_dim * 4), 4, 8, 4);
  k.full_layers = r.last - r.first;
  k.page_bytes = k.caches.empty() ? 0 : k.caches.front().page_bytes;
  k.group_size = 1;
  k.full_block_size = k.sliding_block_size = B;
}

// One attention layer's KV for one token on one rank, as the backend lays it out.
std::uint64_t layer_bytes_per_token(const model_arch& a, const deployment& d) {
  if (d.fp8_ds_mla) return 656;  // kv_cache_interface.py MLAAttentionSpec.real_page_size_bytes
  return attention_bytes_per_token(a, d.tp, d.kv_bits);
}

// The full-attention layers' (Gemma 4's global shape; otherwise the model's one shape).
std::uint64_t full_layer_bytes_per_token(const model_arch& a, const deployment& d) {
  if (!a.two_kv_shapes()) return layer_bytes_per_token(a, d);
  return a.full_kv_heads_per_rank(d.tp) * a.full_head_dim() * 2 * d.kv_bits / 8;
}

stage_kv make_stage_kv(const model_arch& a, const deployment& d, layer_range stage) {
  // Layer kinds on the stage, counted by arithmetic on the layer patterns; layers that reuse
  // another layer's KV (Gemma 4's last num_kv_shared_layers) hold none.
  stage_kv k;
  if (a.compressed.any()) {
    add_compressed_caches(a, d, stage,
                          stage.last == a.num_layers ? d.spec.draft_attention_layers(a) : 0, k);
    return k;
  }
  const bool hybrid = d.profile.hybrid_kv_manager;
  const layer_range r{stage.first,
                      std::max(stage.first, std::min(stage.last, a.kv_owning_layers_end()))};
  const std::uint64_t n = r.last - r.first;
  if (hybrid && a.attention_chunk_size > 0) {
    // Llama 4: chunked local attention on every layer except each no_rope_layer_interval-th;
    // those layers are full or sliding.
    const std::uint64_t every = a.no_rope_layer_interval > 0 ? a.no_rope_layer_interval : 4;
    const std::uint64_t global = count_multiples(r.first + 1, r.last + 1, every);
    k.chunked_layers = n - global;
    if (a.sliding_window > 0) {
      k.sliding_layers = a.sliding_window_pattern == 0
                             ? global
                             : global - count_multiples(r.first + 1, r.last + 1,
                                                        std::lcm(every, a.sliding_window_pattern));
    }
    k.full_layers = global - k.sliding_layers;
  } else {
    // Without the hybrid manager sliding layers become full ones when full layers also exist;
    // a model whose every layer slides keeps a sliding-window spec.
    if (hybrid || a.sliding_window_pattern == 0) {
      k.sliding_layers = a.num_sliding_layers(r.first, r.last);
    }
    k.full_layers = n - k.sliding_layers;
  }
  // page = B * kv_heads * head_size * (K and V, or one MLA latent) * element size (§6.2).
  k.sliding_bytes_per_token = layer_bytes_per_token(a, d);
  k.page_bytes = d.block_size * k.sliding_bytes_per_token;
  k.full_bytes_per_token = full_layer_bytes_per_token(a, d);
  k.full_block_size = k.sliding_block_size = d.block_size;
  if (k.full_bytes_per_token != k.sliding_bytes_per_token) {
    // Two page sizes (check_kv_shapes_supported: one divides the other): the larger page is the
    // common one; the other kind's block holds proportionally more tokens.
    const std::uint64_t full_page = d.block_size * k.full_bytes_per_token;
    const std::uint64_t sliding_page = d.block_size * k.sliding_bytes_per_token;
    if (k.full_layers == 0) {
      k.page_bytes = sliding_page;
    } else if (k.sliding_layers == 0) {
      k.page_bytes = full_page;
    } else {
      k.page_bytes = std::max(full_page, sliding_page);
      k.full_block_size = d.block_size * (k.page_bytes / full_page);
      k.sliding_block_size = d.block_size * (k.page_bytes / sliding_page);
    }
  }
  if (a.has_indexer()) {
    // Not split by tensor parallelism: every rank keeps the whole key per token, as for the MLA
    // latent (DeepseekV32IndexerCache.get_kv_cache_spec: one head of index_head_dim + scales).
    k.indexer_layers = a.num_indexer_layers(r.first, r.last);
    k.indexer_page_bytes = d.block_size * a.indexer_bytes_per_token();
  }
  if (a.linear.any()) {
    // Hybrid (model/layers.hpp): only the full-attention layers hold per-token KV; the others
    // hold one padded state page per sequence (kv_groups.hpp). Sliding and chunked attention
    // beside state layers are refused by resolve_arch.
    k.state_layers = a.linear.num_state_layers(r.first, r.last);
    k.full_layers = n - k.state_layers;
    k.sliding_layers = 0;
    k.chunked_layers = 0;
    k.state_page_bytes = state_page_bytes(a, d.tp, d.act_bits, d.spec.num_speculative_tokens);
  }
  if (stage.last == a.num_layers) {
    // The drafter's attention layers (MTP) sit with the last stage, in the full-attention group,
    // each like a target layer (an MLA latent, an indexer beside it where the model has one).
    const std::uint64_t draft = d.spec.draft_attention_layers(a);
    k.full_layers += draft;
    if (a.has_indexer()) k.indexer_layers += draft;
  }
  const std::uint64_t counts[4] = {k.full_layers, k.sliding_layers, k.chunked_layers,
                                   k.state_layers};
  std::uint64_t min_c = 0, max_c = 0, kinds = 0;
  for (std::uint64_t c : counts) {
    if (c == 0) continue;
    ++kinds;
    min_c = min_c == 0 ? c : std::min(min_c, c);
    max_c = std::max(max_c, c);
  }
  if (kinds <= 1 || !hybrid) {
    k.group_size = k.layers();
    k.full_groups = k.full_layers > 0 ? 1 : 0;
    k.sliding_groups = k.full_layers == 0 && k.sliding_layers > 0 ? 1 : 0;
    k.chunked_groups = kinds == 1 && k.chunked_layers > 0 ? 1 : 0;
    if (!hybrid && k.full_layers > 0) k.sliding_groups = 0;
    return k;
  }
  // group_size = min count, unless max < 1.5 * min (then max); each kind gets ceil(count/gs).
  k.group_size = (2 * max_c < 3 * min_c) ? max_c : min_c;
  k.full_groups = ceil_div(k.full_layers, k.group_size);
  k.sliding_groups = ceil_div(k.sliding_layers, k.group_size);
  k.chunked_groups = ceil_div(k.chunked_layers, k.group_size);
  k.state_groups = ceil_div(k.state_layers, k.group_size);
  return k;
}

// Blocks one request of `len` tokens occupies per group kind (§6.2 max_memory_usage_bytes).
std::uint64_t full_blocks(std::uint64_t len, std::uint64_t B) { return ceil_div(len, B); }
std::uint64_t sliding_blocks(const model_arch& a, const deployment& d, std::uint64_t len,
                             std::uint64_t block_size) {
  const std::uint64_t w = a.sliding_window;
  const std::uint64_t span = std::min(w - 1 + d.max_num_batched_tokens, len);
  return ceil_div(span, block_size) + 1;
}
std::uint64_t chunked_blocks(const model_arch& a, const deployment& d, std::uint64_t len) {
  const std::uint64_t span = std::min(a.attention_chunk_size + d.max_num_batched_tokens, len);
  return ceil_div(span, d.block_size);
}

// Σ_g blocks per request (the concurrency denominator) for the hybrid manager.
std::uint64_t blocks_per_request(const model_arch& a, const deployment& d, const stage_kv& k,
                                 std::uint64_t len) {
  if (!k.caches.empty()) {
    // In bytes (stage_kv::caches), as block indices of block_bytes().
    std::uint64_t bytes = 0;
    for (const stage_kv::cache& c : k.caches) {
      bytes = saturating_add(
          bytes, saturating_mul(saturating_mul(c.layers, c.page_bytes), cache_pages(c, d, len)));
    }
    return ceil_div(bytes, std::max<std::uint64_t>(1, k.block_bytes()));
  }
  std::uint64_t n = saturating_mul(k.full_groups, full_blocks(len, k.full_block_size));
  if (k.sliding_groups > 0) {
    n = saturating_add(
        n, saturating_mul(k.sliding_groups, sliding_blocks(a, d, len, k.sliding_block_size)));
  }
  if (k.chunked_groups > 0)
    n = saturating_add(n, saturating_mul(k.chunked_groups, chunked_blocks(a, d, len)));
  // State groups: a fixed number of pages per request whatever its length.
  if (k.state_groups > 0)
    n = saturating_add(
        n, saturating_mul(k.state_groups,
                          state_pages_per_request(d.profile, d.spec.num_speculative_tokens)));
  return n;
}

// KV bytes one request of `len` tokens needs on a stage (the startup check's `needed`).
std::uint64_t needed_bytes(const model_arch& a, const deployment& d, const stage_kv& k,
                           std::uint64_t len) {
  // Saturating (checked_math.hpp): a need beyond 64 bits fits no GPU, which is the answer.
  if (d.profile.hybrid_kv_manager) {
    return saturating_mul(k.block_bytes(), blocks_per_request(a, d, k, len));
  }
  std::uint64_t per_layer = full_blocks(len, d.block_size);
  if (k.full_layers == 0 && k.sliding_layers > 0)
    per_layer = sliding_blocks(a, d, len, d.block_size);
  return saturating_mul(k.block_bytes(), per_layer);
}

struct stage_figures {
  weight_bytes weights;
  std::uint64_t activation = 0;
  std::uint64_t non_torch = 0;
  std::uint64_t graphs = 0;          // G, the real pool
  std::uint64_t graph_estimate = 0;  // G_est, charged
  std::uint64_t margin = 0;          // extensible KV cache margin
  std::int64_t available = 0;
  stage_kv kv;
  std::uint64_t blocks = 0;
};

std::uint64_t activation_peak(const model_arch& a, const deployment& d, layer_range r, bool last,
                              std::uint64_t M) {
  const vllm_profile& p = d.profile;
  const double s = d.act_bits / 8.0;
  const double tp = static_cast<double>(d.tp);
  const double H = static_cast<double>(a.hidden_size);
  const double R = static_cast<double>(std::min(M, d.max_num_seqs));
  const double Md = static_cast<double>(M);
  // §10.1: the sampler dummy run over [R, vocab] logits (last pipeline stage only).
  const bool mrv2 = d.runner == model_runner::v2;
  const double per_logit = mrv2 ? p.mrv2_sampler_bytes_per_logit : p.sampler_bytes_per_logit;
  const double sampler = last ? per_logit * R * static_cast<double>(a.vocab_size) : 0.0;
  // §12 [H]: the forward of M tokens: residual and hidden states plus the widest transient
  // (gated MLP: gate_up output and the activated half; attention: qkv and its output).
  const std::uint64_t moe_layers = a.num_moe_layers(r.first, r.last);
  const bool moe_layer = moe_layers > 0;
  const bool dense_layer = moe_layers < r.last - r.first;
  const double d_head = static_cast<double>(a.head_dim);
  const double nq = std::ceil(static_cast<double>(a.num_heads) / tp);
  const double nkv = static_cast<double>(a.kv_heads_per_rank(d.tp));
  double widest = (nq + 2 * nkv) * d_head + nq * d_head;
  if (dense_layer) {
    const double I = std::ceil(static_cast<double>(a.intermediate_size) / tp);
    widest = std::max(widest, (a.mlp == mlp_kind::gated ? 3.0 : 2.0) * I);
  }
  const double forward = Md * s * (2 * H + widest);
  double moe = 0.0;
  if (moe_layer) {
    // fused_moe workspaces: chunk of min(M, 32768) tokens x top_k rows of 2I + I + H.
    const double tp_moe = d.expert_parallel ? 1.0 : tp;
    const double I = std::ceil(static_cast<double>(a.moe_intermediate_size) / tp_moe);
    const double m = std::min(Md, 32768.0) * static_cast<double>(a.num_experts_per_tok);
    moe = p.moe_workspace_factor * m * s * (3 * I + H);
  }
  const double vision =
      r.first == 0 ? encoder_profile_bytes(a, p, d.mm, M, d.max_num_seqs, s) : 0.0;
  // Sparse MLA: the indexer's prefill workspace, reserved by the profile run and kept
  // (v1/attention/backends/mla/indexer.py get_max_prefill_buffer_size: 40 x max_model_len
  // entries of the indexer's bytes per token), and with the fp8_ds_mla layout FlashMLA's own
  // (5 x max_model_len tokens of 576 values in the model dtype, flashmla_sparse.py).
  double sparse = 0.0;
  if (a.has_indexer() && a.num_indexer_layers(r.first, r.last) > 0) {
    const double len = static_cast<double>(d.max_model_len);
    sparse = 40.0 * len * static_cast<double>(a.indexer_bytes_per_token());
    if (d.fp8_ds_mla) sparse += 5.0 * len * 576.0 * s;
  }
  if (a.compressed.any() && a.compressed.count(r.first, r.last, 4) > 0) {
    // DeepSeek-V4: the dummy run reserves the prefill gather workspace, PREFILL_CHUNK_SIZE (4)
    // requests x (max_model_len / 4 + window + M) tokens x 512 in bf16 (deepseek_v4_attention.py
    // attention_impl), and the indexer its prefill buffer, get_max_prefill_buffer_size / 4
    // entries of the indexer's bytes (as for sparse MLA above).
    const compressed_attention& ca = a.compressed;
    const double len = static_cast<double>(d.max_model_len);
    const double m = std::ceil(len / 4.0) + static_cast<double>(ca.window) + Md;
    sparse += 4.0 * m * static_cast<double>(a.head_dim) * 2.0;
    sparse +=
        40.0 * len / 4.0 * static_cast<double>(ca.index_head_dim + ca.index_head_dim / 128 * 4);
  }
  const double base = mrv2 ? p.mrv2_activation_base_gib : p.activation_base_gib;
  const double peak = base * kGiB + std::max(forward, sampler) + moe + vision + sparse;
  return static_cast<std::uint64_t>(std::llround(peak));
}

// V1 from 0.10.2 captures every size twice with LoRA on (CompilationConfig
// .cudagraph_specialize_lora = True: keys product(capture_sizes, [True, False]) in
// cudagraph_dispatcher.py); V0 and earlier V1 capture one set.
std::uint64_t lora_graph_cases(const deployment& d) {
  return d.lora.enabled && d.profile.engine == engine_kind::v1 &&
                 vllm_version{0, 10, 2} <= d.profile.version
             ? 2
             : 1;
}

// CUDA graph memory (§5.2): fitted per era (docs/accuracy.md); it grows with depth and with MoE
// buffers, and shrinks when fewer graphs are captured (small max_num_seqs).
std::uint64_t graph_bytes(const model_arch& a, const deployment& d, std::uint64_t stage_layers,
                          std::uint64_t graphs) {
  if (d.enforce_eager || graphs == 0) return 0;
  const vllm_profile& p = d.profile;
  double gib = p.graph_base_gib + p.graph_per_layer_gib * static_cast<double>(stage_layers);
  if (a.is_moe()) gib += p.graph_moe_gib;
  const std::uint64_t cases = lora_graph_cases(d);
  const double ratio = static_cast<double>(graphs / cases) /
                       static_cast<double>(std::max<std::uint64_t>(1, p.graph_reference_count));
  gib *= std::min(1.0, std::sqrt(ratio));
  gib *= static_cast<double>(cases);
  return gib_to_bytes(gib);
}

result<weight_bytes> stage_weights(const model_arch& a, const deployment& d, std::uint64_t stage) {
  weight_options wo;
  wo.act_bits = d.act_bits;
  wo.quant = d.quant;
  wo.shard = {d.tp, d.pp, stage, d.expert_parallel};
  wo.checkpoint_bytes = d.checkpoint_bytes;
  auto w = weights_per_rank(a, wo);
  if (w && (a.has_indexer() || a.compressed.any())) {
    // DeepseekV2Model's (DeepseekV4Model's) topk_indices_buffer, [max_num_batched_tokens,
    // index_topk] int32, made with the model.
    const std::uint64_t topk = a.compressed.any() ? a.compressed.index_topk : a.index_topk;
    w->buffers = saturating_add(w->buffers,
                                saturating_mul(saturating_mul(d.max_num_batched_tokens, topk), 4));
  }
  if (w && stage == 0 && a.hidden_size_per_layer_input > 0) {
    // Gemma4ForConditionalGeneration's per_layer_embeddings buffer, [max_num_batched_tokens,
    // layers, per-layer width] in the model dtype, made with the model (gemma4_mm.py).
    w->buffers = saturating_add(
        w->buffers, saturating_mul(saturating_mul(d.max_num_batched_tokens, a.num_layers),
                                   a.hidden_size_per_layer_input * d.act_bits / 8));
  }
  if (w && d.cpu_offload_bytes > 0) {
    // --cpu-offload-gb: make_layers hands each decoder layer to maybe_offload_to_cpu
    // (model_executor/models/utils.py), which moves parameters to pinned host memory, layer by
    // layer from the first, until the budget is reached (to within one parameter tensor);
    // embeddings, lm_head and towers stay on the GPU.
    const std::uint64_t decoder =
        w->attention + w->dense_mlp + w->experts + w->shared_experts + w->router + w->norms;
    w->cpu_offload = std::min(decoder, d.cpu_offload_bytes);
  }
  if (w && a.vision && d.mm.tower_off(*a.vision) && d.profile.zero_mm_limit_drops_tower) {
    w->vision = 0;  // profile.hpp zero_mm_limit_drops_tower
  }
  if (w && stage + 1 == d.pp && d.spec.method == spec_method::mtp) {
    // The MTP drafter is loaded with the model, inside "Model loading took" (speculative.hpp).
    auto draft = mtp_weight_bytes(a, wo);
    if (!draft) return draft.err();
    w->draft = *draft;
  }
  if (w && d.lora.enabled) {
    const layer_range r = pp_layer_range(a.num_layers, d.pp, stage);
    w->lora = lora_slot_bytes(a, d.lora, d.profile.version, d.tp, r.first, r.last, stage == 0,
                              stage + 1 == d.pp, d.act_bits);
  }
  return w;
}

// One stage's figures for `M` batched tokens; the weights (which do not depend on the lengths)
// come from stage_weights.
stage_figures compute_stage(const model_arch& a, const deployment& d, std::uint64_t stage,
                            std::uint64_t M, std::uint64_t requested, std::uint64_t graphs,
                            const weight_bytes& weights) {
  stage_figures f;
  f.weights = weights;
  const layer_range r = pp_layer_range(a.num_layers, d.pp, stage);
  const bool last = stage + 1 == d.pp;
  f.activation = activation_peak(a, d, r, last, M);
  const vllm_profile& p = d.profile;
  double nt = p.non_torch_tp1_gib;
  if (d.tp * d.pp > 1) {
    // NCCL's buffers live on the GPU with P2P transports; over PCIe NCCL opens few channels
    // (docs/research/set2-causes.md §a, profile.hpp nccl_pcie_device_bytes).
    nt += d.interconnect == interconnect_kind::pcie ? p.non_torch_pcie_gib : p.non_torch_nccl_gib;
  }
  if (p.budget == budget_mode::global) nt += p.cuda_context_gib;  // §4.2 counts everything
  f.non_torch = gib_to_bytes(nt);
  // §4.2: non_torch = (T - free) - allocated also holds other processes' memory.
  if (p.budget == budget_mode::global) f.non_torch += d.reserved_bytes;
  f.graphs = graph_bytes(a, d, r.last - r.first, graphs);
  // The estimate charged from 0.20 is modelled as the pool itself (no set-3 range has three rows
  // to fit their ratio on); MRv2's estimator is a stub returning 0 up to 0.28 (profile.cpp).
  const bool mrv2_stub = d.runner == model_runner::v2 && !p.mrv2_graph_estimate;
  f.graph_estimate = p.cuda_graph_in_budget && !mrv2_stub ? f.graphs : 0;
  std::int64_t avail = 0;
  if (d.kv_cache_memory_bytes > 0) {
    // --kv-cache-memory: the KV size as given; gpu_memory_utilization is ignored.
    avail = static_cast<std::int64_t>(d.kv_cache_memory_bytes);
  } else if (p.budget == budget_mode::extensible_kv) {
    // extensible_kv_cache.py measure_kv_cache_blocks: R = what stays resident after warm-up and
    // capture (weights, non-torch, the real graph pool), headroom = free memory at init - R,
    // margin = max(1 GiB, 0.75 * transient peak), A = min(requested - R, headroom - margin) - peak.
    const std::int64_t resident =
        static_cast<std::int64_t>(f.weights.total() + f.non_torch + f.graphs);
    const std::int64_t init_free = static_cast<std::int64_t>(d.gpu_total_bytes) -
                                   static_cast<std::int64_t>(gib_to_bytes(p.cuda_context_gib)) -
                                   static_cast<std::int64_t>(d.reserved_bytes);
    f.margin = std::max<std::uint64_t>(
        1ULL << 30, static_cast<std::uint64_t>(0.75 * static_cast<double>(f.activation)));
    avail = std::min(static_cast<std::int64_t>(requested) - resident,
                     init_free - resident - static_cast<std::int64_t>(f.margin)) -
            static_cast<std::int64_t>(f.activation);
  } else {
    avail = static_cast<std::int64_t>(requested) -
            static_cast<std::int64_t>(f.weights.total() + f.activation + f.non_torch) -
            static_cast<std::int64_t>(f.graph_estimate);
  }
  f.available = avail;
  f.kv = make_stage_kv(a, d, r);
  if (avail > 0 && f.kv.page_bytes > 0 && f.kv.group_size > 0) {
    // §6.3: num_blocks = floor(A / (page * S_g)); V0's block spans all layers (same value).
    f.blocks = static_cast<std::uint64_t>(avail) / f.kv.block_bytes();
  }
  return f;
}

// The §6.5 search in closed form, when the stages' budgets do not depend on the length: V0
// fails once len > blocks / pp * B; V1 with only full-attention groups needs
// C * ceil(len / B) bytes, so the largest length is floor(A / C) * B. Equal to the binary search
// over [0, upper]; nullopt (search instead) for window-capped hybrid needs, or when C * ceil(upper
// / B) would not fit 64 bits (where the search's arithmetic is the reference).
std::optional<std::uint64_t> max_len_closed_form(const deployment& d,
                                                 const std::vector<stage_figures>& stages,
                                                 std::uint64_t upper) {
  const std::uint64_t B = d.block_size;
  std::uint64_t best = upper;
  for (const auto& f : stages) {
    if (f.available <= 0 || f.blocks == 0) return 0;  // fails at every length
    std::uint64_t stage_max = upper;
    if (d.profile.engine == engine_kind::v0) {
      stage_max = f.blocks / (d.profile.v0_check_splits_blocks_by_pp ? d.pp : 1) * B;
    } else {
      const stage_kv& k = f.kv;
      std::uint64_t per_block = 0;  // bytes of one block-sized step of one request
      checked_u64 c;
      if (d.profile.hybrid_kv_manager) {
        if (k.sliding_groups > 0 || k.chunked_groups > 0 || k.state_groups > 0 ||
            !k.caches.empty()) {
          return std::nullopt;
        }
        per_block = c.mul(k.block_bytes(), k.full_groups);
      } else {
        if (k.full_layers == 0 && k.sliding_layers > 0) return std::nullopt;
        per_block = c.mul(k.block_bytes(), 1);
      }
      c.mul(per_block, ceil_div(upper, B));
      if (c.overflow()) return std::nullopt;
      if (per_block > 0) stage_max = static_cast<std::uint64_t>(f.available) / per_block * B;
    }
    best = std::min(best, stage_max);
  }
  return best;
}

// The answer's groups by layer kind on stage 0 (kv_groups.hpp layer_group_info).
void describe_groups(const model_arch& a, const deployment& d, const stage_kv& k, kv_layout& kv) {
  for (const stage_kv::cache& c : k.caches) {
    layer_group_info g;
    g.kind = c.kind;
    g.layers = c.layers;
    g.groups = 1;
    g.page_bytes = c.page_bytes;
    g.block_size = c.block_size;
    g.compress_ratio = c.compress_ratio;
    if (c.window == 0) {
      g.bytes_per_token = c.layers * c.page_bytes / c.block_size;
    } else {
      g.bytes_per_sequence = c.layers * c.page_bytes * cache_pages(c, d, d.max_model_len);
      kv.state_bytes_per_sequence += g.bytes_per_sequence;
    }
    kv.group_list.push_back(g);
  }
  if (!k.caches.empty()) return;
  auto attn_group = [&](layer_group_kind kind, std::uint64_t layers, std::uint64_t groups,
                        std::uint64_t per_token, std::uint64_t block_size) {
    if (layers == 0) return;
    layer_group_info g;
    g.kind = kind;
    g.layers = layers;
    g.groups = groups;
    g.bytes_per_token = layers * per_token;
    g.page_bytes = k.page_bytes;
    g.block_size = block_size;
    kv.group_list.push_back(g);
  };
  attn_group(layer_group_kind::full_attention, k.full_layers,
             d.profile.hybrid_kv_manager ? k.full_groups : 1, k.full_bytes_per_token,
             k.full_block_size);
  attn_group(layer_group_kind::sliding_window, k.sliding_layers, k.sliding_groups,
             k.sliding_bytes_per_token, k.sliding_block_size);
  attn_group(layer_group_kind::chunked_local, k.chunked_layers, k.chunked_groups,
             k.sliding_bytes_per_token, d.block_size);
  if (k.indexer_layers > 0) {
    // In the MLA layers' group, not one of its own (groups 0).
    layer_group_info g;
    g.kind = layer_group_kind::indexer;
    g.layers = k.indexer_layers;
    g.bytes_per_token = k.indexer_layers * a.indexer_bytes_per_token();
    g.page_bytes = k.indexer_page_bytes;
    g.block_size = d.block_size;
    kv.group_list.push_back(g);
  }
  if (k.state_layers > 0) {
    layer_group_info g;
    g.kind = layer_group_kind::state;
    g.state_kind = state_layer_kind_name(a.linear.kind);
    g.layers = k.state_layers;
    g.groups = k.state_groups;
    g.page_bytes = k.page_bytes;  // padded to the attention page
    g.state_bytes_per_layer = k.state_page_bytes;
    g.bytes_per_sequence = k.state_layers * k.page_bytes *
                           state_pages_per_request(d.profile, d.spec.num_speculative_tokens);
    g.block_size = d.block_size;
    kv.group_list.push_back(g);
    kv.state_bytes_per_sequence = g.bytes_per_sequence;
  }
}

// The figures vLLM logs on rank 0 of stage 0.
void report_stage0(const stage_figures& s0, const deployment& d, startup_result& out) {
  out.weights = s0.weights;
  out.activation_peak_bytes = s0.activation;
  out.non_torch_bytes = s0.non_torch;
  out.cuda_graph_bytes = s0.graphs;
  out.cuda_graph_estimate_bytes = s0.graph_estimate;
  out.kv_margin_bytes = s0.margin;
  // From 0.27 the printed "peak activation" is the transient peak plus the graph estimate.
  out.activation_logged_bytes =
      s0.activation + (d.profile.budget == budget_mode::free_delta_2026 ? s0.graph_estimate : 0);
  out.kv_cache_bytes = s0.available;
  out.kv.page_bytes = s0.kv.page_bytes;
  out.kv.layers = s0.kv.layers();
  out.kv.bytes_per_token =
      s0.kv.full_layers * s0.kv.full_bytes_per_token +
      (s0.kv.sliding_layers + s0.kv.chunked_layers) * s0.kv.sliding_bytes_per_token +
      s0.kv.indexer_layers * s0.kv.indexer_page_bytes / std::max<std::uint64_t>(1, d.block_size);
  for (const stage_kv::cache& c : s0.kv.caches)
    if (c.window == 0) out.kv.bytes_per_token += c.layers * c.page_bytes / c.block_size;
  out.kv.indexer_layers = s0.kv.indexer_layers;
  out.kv.indexer_page_bytes = s0.kv.indexer_page_bytes;
  out.kv.groups = std::max<std::uint64_t>(1, s0.kv.groups());
  out.kv.layers_per_group = s0.kv.group_size;
}

}  // namespace

const char* interconnect_name(interconnect_kind k) {
  return k == interconnect_kind::pcie ? "pcie" : "nvlink";
}

const char* startup_verdict_name(startup_verdict v) {
  switch (v) {
    case startup_verdict::fits:
      return "fits";
    case startup_verdict::marginal:
      return "marginal";
    case startup_verdict::does_not_fit:
      return "does_not_fit";
  }
  return "does_not_fit";
}

const char* limiting_factor_name(limiting_factor f) {
  switch (f) {
    case limiting_factor::none:
      return "max_num_seqs";
    case limiting_factor::kv_cache:
      return "kv_cache";
    case limiting_factor::weights:
      return "weights";
    case limiting_factor::activation:
      return "activation";
    case limiting_factor::gpu_memory_utilization:
      return "gpu_memory_utilization";
    case limiting_factor::cuda_graphs:
      return "cuda_graphs";
    case limiting_factor::max_position_embeddings:
      return "max_position_embeddings";
    case limiting_factor::dtype:
      return "dtype";
  }
  return "none";
}

// The deployment as vLLM runs it: a hybrid model's attention block size enlarged until an
// attention page holds a state page (kv_groups.hpp).
static deployment effective_deployment(const model_arch& a, const deployment& in) {
  deployment d = in;
  if (a.linear.any()) {
    d.block_size = hybrid_block_size(
        attention_bytes_per_token(a, d.tp, d.kv_bits),
        state_page_bytes(a, d.tp, d.act_bits, d.spec.num_speculative_tokens), d.block_size);
  }
  return d;
}

std::uint64_t kv_bytes_for_request(const model_arch& a, const deployment& d_in,
                                   std::uint64_t tokens) {
  const deployment d = effective_deployment(a, d_in);
  const stage_kv k = make_stage_kv(a, d, pp_layer_range(a.num_layers, d.pp, 0));
  return needed_bytes(a, d, k, tokens);
}

// §10.4: the encoder profile runs a batch of images through the vision tower before the language
// model's dummy forward. With the tower's encoder budget known (vision_spec), vLLM's rule
// (v1/core/encoder_cache_manager.py compute_encoder_budget; "Encoder cache will be initialized
// with a budget of B tokens, and profiled with N image items of the maximum feature size"):
// B = max(M, tokens per item), N = B / tokens per item items of the largest image, each token
// merge^2 patches; a patch holds the working set of one ViT block at its MLP (residual, normed
// input, fc1 output and its activation, fc2 output: 4 hidden-wide and 3 intermediate-wide
// tensors, the count fitted on rows 2002/2003/2024, docs/accuracy.md). Otherwise the per-token
// fallback fitted on the set-1 towers (M tokens of vision_activation_factor hidden-wide tensors).
// --limit-mm-per-prompt: V1 profiles at most S x limit items (gpu_model_runner.py profile_run,
// max_mm_items_per_batch); V0 (worker/model_runner.py profile_run) gives each of
// S' = max(1, min(S, M // (limit x tokens per item))) dummy sequences `limit` images, limit 1 by
// default; limits at 0 for the tower's modalities profile no encoder.
double encoder_profile_bytes(const model_arch& a, const vllm_profile& p, const mm_limits& mm,
                             std::uint64_t M, std::uint64_t S, double s) {
  if (!a.vision || a.vision->hidden_size == 0 || mm.tower_off(*a.vision)) return 0.0;
  const vision_spec& v = *a.vision;
  const double h = static_cast<double>(v.hidden_size);
  if (v.max_tokens_per_item == 0 || v.spatial_merge_size == 0 || v.intermediate_size == 0)
    return p.vision_activation_factor * static_cast<double>(M) * s * h;
  const std::uint64_t T = v.max_tokens_per_item;
  std::uint64_t items = 0;
  if (p.engine == engine_kind::v0) {
    const std::uint64_t per_seq = mm.image.value_or(1);
    const std::uint64_t seqs =
        per_seq == 0 ? 0 : std::max<std::uint64_t>(1, std::min(S, M / (per_seq * T)));
    items = seqs * per_seq;
  } else {
    items = std::max(M, T) / T;
    if (mm.image) items = std::min(items, saturating_mul(S, *mm.image));
  }
  const double patches = static_cast<double>(items * v.max_tokens_per_item) *
                         static_cast<double>(v.spatial_merge_size * v.spatial_merge_size);
  return patches * s * (4.0 * h + 3.0 * static_cast<double>(v.intermediate_size));
}

namespace {

// The largest length in [0, hi] that passes `pred`, which holds up to some length and not
// beyond (a binary search, as vLLM's own estimate of the maximum model length).
template <class Pred>
std::uint64_t largest_passing(std::uint64_t hi, Pred&& pred) {
  std::uint64_t lo = 0;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (pred(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// What is on the GPU besides vLLM's own allocations (its CUDA context and other processes), and
// the part of it outside the budget: the global budget already charged other processes as
// non-torch (§4.2).
struct context_split {
  std::uint64_t occupied, outside;
};
context_split split_context(const deployment& d, std::uint64_t context) {
  const std::uint64_t occupied = context + d.reserved_bytes;
  return {occupied, d.profile.budget == budget_mode::global ? context : occupied};
}

// The verdict with its error bar (docs/accuracy.md "Verdicts and their error bars"): the margin
// past the check that decides the start, the era's uncertainty, and what to change to be safe.
void set_verdict(const model_arch& a, const deployment& d, const std::vector<stage_figures>& stages,
                 std::uint64_t X, std::uint64_t max_weights, double T, std::uint64_t context,
                 startup_result& out) {
  const double u = d.gpu_memory_utilization;
  const auto bytes = [](double x) { return static_cast<std::int64_t>(std::llround(x)); };
  // The KV check: available minus one max_model_len request, on the tightest stage.
  std::int64_t kv_margin = std::numeric_limits<std::int64_t>::max();
  std::uint64_t tightest_need = 0;
  for (const auto& f : stages) {
    const std::uint64_t need = needed_bytes(a, d, f.kv, X);
    const std::int64_t m = f.available - static_cast<std::int64_t>(
                                             std::min<std::uint64_t>(need, std::uint64_t{1} << 60));
    if (m < kv_margin) {
      kv_margin = m;
      tightest_need = need;
    }
  }
  std::int64_t margin = kv_margin;
  const std::uint64_t graphs = stages.empty() ? 0 : stages.front().graphs;
  const context_split c = split_context(d, context);
  const std::uint64_t occupied = c.occupied, outside = c.outside;
  if (out.limit == limiting_factor::gpu_memory_utilization) {
    margin = bytes(T - static_cast<double>(occupied) - T * u);  // the free-memory check
  } else if (out.limit == limiting_factor::weights && !out.fits) {
    margin = std::min(margin, bytes(T - static_cast<double>(max_weights + occupied)));
  } else if (out.limit == limiting_factor::cuda_graphs) {
    margin = bytes(T * (1.0 - u) - static_cast<double>(graphs + outside));
  }
  out.margin_bytes = margin;
  double unc = std::max(0.1 * kGiB, d.profile.kv_uncertainty_share * T);
  if (d.architecture_estimated) {
    // An architecture estimated from a count: its weights are known to about 10 % (the fallback's
    // 8 % and the count's label), its KV geometry (8 KV heads of 128) to a factor of two either
    // way (docs/accuracy.md, "Verdicts").
    unc +=
        0.1 * static_cast<double>(max_weights) +
        0.5 * static_cast<double>(std::min<std::uint64_t>(tightest_need, std::uint64_t{1} << 60));
  }
  out.uncertainty_bytes = static_cast<std::uint64_t>(std::llround(unc));
  const bool memory_check = out.limit != limiting_factor::max_position_embeddings || out.fits;
  if (!memory_check) {
    out.verdict = startup_verdict::does_not_fit;
  } else if (std::abs(static_cast<double>(margin)) <= unc) {
    out.verdict = startup_verdict::marginal;
  } else {
    out.verdict = out.fits ? startup_verdict::fits : startup_verdict::does_not_fit;
  }
  if (out.verdict == startup_verdict::fits || !memory_check) return;
  // What to change so the margin covers the error bar.
  message m(out.verdict_advice);
  const double short_by = unc - static_cast<double>(margin);
  if (out.limit == limiting_factor::gpu_memory_utilization) {
    const double safe = std::floor((T - static_cast<double>(occupied) - unc) / T * 100.0) / 100.0;
    if (safe > 0.0) m("lower --gpu-memory-utilization to ").utilization(safe);
    return;
  }
  if (out.limit == limiting_factor::cuda_graphs) {
    const double safe = std::floor((u - short_by / T) * 100.0) / 100.0;
    // Lowering the utilization shrinks the KV cache by as much: offer it only where one request
    // still fits with the error bar to spare.
    if (safe > 0.0 && static_cast<double>(kv_margin) - (u - safe) * T >= unc) {
      m("lower --gpu-memory-utilization to ").utilization(safe)(", or pass --enforce-eager");
    } else {
      m("pass --enforce-eager (no utilization leaves room for both the KV cache and the graphs)");
    }
    return;
  }
  if (out.limit == limiting_factor::weights && !out.fits) {
    m("use more GPUs (--tensor-parallel-size / --pipeline-parallel-size)");
    // A checkpoint already at 4 bits has no smaller quantization to offer.
    if (d.quant.is_none()) {
      m(" or a quantized checkpoint");
    } else if (d.quant.bits > 4) {
      m(" or a 4-bit checkpoint");
    }
    return;
  }
  const double raise = std::ceil((u + short_by / T) * 100.0) / 100.0;
  // Before the graphs were charged to the budget (0.21) they are captured in what the utilization
  // leaves; a raise past that only trades this failure for an out-of-memory at capture.
  const bool graphs_outside = !d.profile.cuda_graph_in_budget && !d.enforce_eager && graphs > 0;
  const double graph_cap =
      graphs_outside
          ? std::floor((T - static_cast<double>(graphs + outside) - unc) / T * 100.0) / 100.0
          : 0.99;
  bool any = false;
  if (raise <= std::min(0.99, graph_cap)) {
    m("raise --gpu-memory-utilization to ").utilization(raise);
    any = true;
  } else if (graphs_outside && raise <= 0.99) {
    m("pass --enforce-eager and raise --gpu-memory-utilization to ").utilization(raise);
    any = true;
  }
  // An fp8 KV cache halves what one request needs.
  if (d.kv_bits > 8 && d.pp == 1 && !stages.empty()) {
    deployment d8 = d;
    d8.kv_bits = 8;
    const stage_kv k8 = make_stage_kv(a, d8, pp_layer_range(a.num_layers, 1, 0));
    if (static_cast<double>(stages.front().available) -
            static_cast<double>(needed_bytes(a, d8, k8, X)) >=
        unc) {
      m(any ? ", or " : "")("pass --kv-cache-dtype fp8");
      any = true;
    }
  }
  // The longest context whose request leaves the error bar free on every stage.
  auto safe_at = [&](std::uint64_t len) {
    for (const auto& f : stages) {
      if (static_cast<double>(f.available) - static_cast<double>(needed_bytes(a, d, f.kv, len)) <
          unc)
        return false;
    }
    return true;
  };
  const std::uint64_t safe_len =
      largest_passing(X, safe_at) / 256 * 256;  // a round figure a user would type
  if (safe_len >= 256 && safe_len < X) {
    m(any ? ", or " : "")("lower --max-model-len to ").u64(safe_len);
  }
}

// vLLM's own message when one request of max_model_len does not fit the KV cache, with its
// estimate from the current budget (V1), or its block-count comparison (V0).
void set_kv_check_error(const model_arch& a, const deployment& d,
                        const std::vector<stage_figures>& stages, std::uint64_t X,
                        std::uint64_t blocks, std::uint64_t v0_check_pp, startup_result& out) {
  const vllm_profile& p = d.profile;
  const std::uint64_t B = d.block_size;
  const stage_figures& s0 = stages.front();
  // Each pipeline stage checks its own layers against its own memory: the tightest one speaks.
  std::uint64_t needed = 0;
  std::int64_t available = s0.available;
  std::size_t stage = 0;
  double worst = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const std::uint64_t n = needed_bytes(a, d, stages[i].kv, X);
    const double left = static_cast<double>(stages[i].available) - static_cast<double>(n);
    if (left < worst) {
      worst = left;
      needed = n;
      available = stages[i].available;
      stage = i;
    }
  }
  if (p.engine == engine_kind::v0) {
    message(out.error)("The model's max seq len (")
        .u64(X)(") is larger than the maximum number of tokens that can be stored in KV cache (")
        .u64(blocks / v0_check_pp * B)(
            "). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when "
            "initializing the engine.");
  } else {
    message m(out.error);
    m("To serve at least one request with the models's max seq len (")
        .u64(X)("), (")
        .gib2(static_cast<double>(needed))(
            " GiB KV cache is needed, which is larger than the available KV cache memory (")
        .gib2(static_cast<double>(available))(" GiB)");
    if (stages.size() > 1) m(" on pipeline stage ").u64(stage);
    m(".");
    if (p.max_len_error_has_estimate) {
      m(" Based on the available memory, the estimated maximum model length is ")
          .u64(out.max_model_len_fit)(".");
    }
    m(" Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when "
      "initializing the engine.");
  }
}

// Gemma 4's two KV shapes need the hybrid KV manager, and vLLM unifies the two page sizes only
// when the larger is a multiple of the smaller (unify_kv_cache_spec_page_size raises otherwise).
status check_kv_shapes_supported(const model_arch& a, const deployment& d) {
  if (!a.two_kv_shapes()) return ok_status();
  if (!d.profile.hybrid_kv_manager) {
    return make_error(error_code::invalid_argument,
                      "sliding and full attention layers of different KV shapes (Gemma 4) are "
                      "modelled with vLLM's V1 hybrid KV cache manager only; got " +
                          d.profile.version.text() +
                          (d.profile.engine == engine_kind::v0 ? " (V0)" : ""),
                      "vllm_version");
  }
  const std::uint64_t full = full_layer_bytes_per_token(a, d);
  const std::uint64_t sliding = layer_bytes_per_token(a, d);
  if (std::max(full, sliding) % std::min(full, sliding) != 0) {
    return make_error(error_code::invalid_argument,
                      "the full and sliding layers' KV pages (" + std::to_string(full) + " and " +
                          std::to_string(sliding) +
                          " bytes per token per rank) do not divide one another; vLLM cannot "
                          "unify them (unify_kv_cache_spec_page_size)",
                      "tensor_parallel_size");
  }
  return ok_status();
}

// The memory checks of a start that passed the length check, in the order vLLM fails them
// (§3 for what other processes change): the first that fails clears out.fits and sets out.limit
// and out.error.
void check_memory_at_start(const deployment& d, const stage_figures& s0, std::uint64_t blocks,
                           std::uint64_t max_weights, bool kv_check_fails, startup_result& out) {
  const vllm_profile& p = d.profile;
  const double T = static_cast<double>(d.gpu_total_bytes);
  const std::uint64_t context = out.cuda_context_bytes;
  const context_split c = split_context(d, context);
  const std::uint64_t occupied = c.occupied, outside = c.outside;
  if (p.budget == budget_mode::extensible_kv && d.gpu_memory_utilization_unset &&
      d.reserved_bytes > 0 && d.kv_cache_memory_bytes == 0) {
    // docs/vllm-versions.md "requested memory, extensible KV cache": left unset the budget is the
    // whole GPU, which another process's memory makes impossible (request_memory's ValueError).
    out.fits = false;
    out.limit = limiting_factor::gpu_memory_utilization;
    message(out.error)("The GPU is shared with another process (")
        .gib2(static_cast<double>(d.reserved_bytes))(
            " GiB in use) and gpu_memory_utilization is unset, which asks for the whole GPU. "
            "Set --gpu-memory-utilization to the share this instance may use.");
  } else if (p.startup_free_check && d.kv_cache_memory_bytes == 0 &&
             T - static_cast<double>(occupied) < T * d.gpu_memory_utilization) {
    out.fits = false;
    out.limit = limiting_factor::gpu_memory_utilization;
    message(out.error)("Free memory on device (")
        .gib2(T - static_cast<double>(occupied))("/")
        .gib2(T)(" GiB) on startup is less than desired GPU memory utilization (")
        .utilization(d.gpu_memory_utilization)(", ")
        .gib2(T * d.gpu_memory_utilization)(
            " GiB). Decrease GPU memory utilization or reduce GPU memory used by other "
            "processes.");
  } else if (static_cast<double>(max_weights + occupied) > T) {
    out.fits = false;
    out.limit = limiting_factor::weights;
    message m(out.error);
    m("CUDA out of memory while loading the model: the weights need ")
        .gib2(static_cast<double>(max_weights))(" GiB per GPU and the GPU has ")
        .gib2(T - static_cast<double>(d.reserved_bytes))(" GiB");
    if (d.reserved_bytes > 0) {
      m(" of its ")
          .gib2(T)(" free (other processes hold ")
          .gib2(static_cast<double>(d.reserved_bytes))(" GiB)");
    }
    m(". Use more GPUs (tensor_parallel_size / pipeline_parallel_size) or quantize.");
  } else if (s0.available <= 0 || blocks == 0) {
    out.fits = false;
    out.limit = static_cast<double>(max_weights) >= T * d.gpu_memory_utilization
                    ? limiting_factor::weights
                    : limiting_factor::activation;
    out.error =
        "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when "
        "initializing the engine.";
  } else if (d.kv_cache_memory_bytes > 0 &&
             static_cast<double>(max_weights + s0.activation + s0.non_torch + s0.graphs +
                                 d.kv_cache_memory_bytes + occupied) > T) {
    out.fits = false;
    out.limit = limiting_factor::kv_cache;
    message(out.error)("CUDA out of memory allocating the KV cache: kv_cache_memory_bytes (")
        .gib2(static_cast<double>(d.kv_cache_memory_bytes))(
            " GiB) plus the weights, profile peak, non-torch memory, CUDA graphs and context "
            "exceed the ")
        .gib2(T)(" GiB of the GPU. Lower kv_cache_memory_bytes.");
  } else if (d.reserved_bytes > 0 && d.kv_cache_memory_bytes == 0 && !p.startup_free_check &&
             p.budget != budget_mode::global && p.budget != budget_mode::extensible_kv &&
             T * d.gpu_memory_utilization + static_cast<double>(occupied) > T) {
    // §3: a per-instance budget ignores other processes and nothing checks free memory first, so
    // vLLM fills T*u and the KV allocation runs out of memory.
    out.fits = false;
    out.limit = limiting_factor::gpu_memory_utilization;
    message(out.error)("CUDA out of memory allocating the KV cache: the budget (")
        .utilization(d.gpu_memory_utilization)(" x ")
        .gib2(T)(" GiB) plus the ")
        .gib2(static_cast<double>(d.reserved_bytes))(" GiB other processes hold and ")
        .gib2(static_cast<double>(context))(
            " GiB of CUDA context exceed the GPU. Lower gpu_memory_utilization.");
  } else if (kv_check_fails) {
    out.fits = false;
    out.limit = limiting_factor::kv_cache;
  } else if (!p.cuda_graph_in_budget && !d.enforce_eager &&
             static_cast<double>(s0.graphs + outside) > T * (1.0 - d.gpu_memory_utilization)) {
    out.fits = false;
    out.limit = limiting_factor::cuda_graphs;
    const double left = T * (1.0 - d.gpu_memory_utilization);
    message(out.error)("CUDA out of memory during CUDA graph capture: the graphs need about ")
        .gib2(static_cast<double>(s0.graphs))(" GiB, more than the ")
        .gib2(std::max(0.0, left - static_cast<double>(outside)))(
            " GiB free outside the budget (the ")
        .gib2(left)(" GiB that gpu_memory_utilization leaves, minus ")
        .gib2(static_cast<double>(outside))(
            outside > context ? " GiB of CUDA context and other processes). Lower "
                                "gpu_memory_utilization or use enforce_eager."
                              : " GiB of CUDA context). Lower gpu_memory_utilization or use "
                                "enforce_eager.");
  }
}

}  // namespace

result<startup_result> simulate_startup(const model_arch& a, const deployment& d_in) {
  if (auto s = check_state_layers_supported(a, d_in.profile); !s) return s.err();
  if (auto s = check_kv_shapes_supported(a, d_in); !s) return s.err();
  const deployment d = effective_deployment(a, d_in);
  startup_result out;
  const vllm_profile& p = d.profile;
  const double T = static_cast<double>(d.gpu_total_bytes);
  out.total_bytes = d.gpu_total_bytes;
  out.requested_bytes = p.requested_ceil
                            ? static_cast<std::uint64_t>(std::ceil(T * d.gpu_memory_utilization))
                            : static_cast<std::uint64_t>(T * d.gpu_memory_utilization);
  out.cuda_context_bytes = gib_to_bytes(p.cuda_context_gib);
  out.cuda_graph_in_budget = p.cuda_graph_in_budget;
  const std::uint64_t M = d.max_num_batched_tokens;
  out.cuda_graphs = d.enforce_eager ? 0
                                    : cuda_graph_count(p, d.max_num_seqs, M, d.capture,
                                                       1 + d.spec.num_speculative_tokens) *
                                          lora_graph_cases(d);

  std::vector<stage_figures> stages;
  stages.reserve(d.pp);
  for (std::uint64_t s = 0; s < d.pp; ++s) {
    auto w = stage_weights(a, d, s);
    if (!w) return w.err();
    stages.push_back(compute_stage(a, d, s, M, out.requested_bytes, out.cuda_graphs, *w));
  }
  const stage_figures& s0 = stages[0];
  report_stage0(s0, d, out);
  out.kv.block_size = d.block_size;
  describe_groups(a, d, s0.kv, out.kv);

  std::uint64_t blocks = stages[0].blocks;
  for (const auto& st : stages) blocks = std::min(blocks, st.blocks);
  out.num_gpu_blocks = blocks;
  const std::uint64_t X = d.max_model_len;
  const std::uint64_t B = d.block_size;

  // §6.4: concurrency and the logged token count, per version.
  if (p.concurrency_blocks_over_ceil) {
    const std::uint64_t per_req = blocks_per_request(a, d, s0.kv, X);
    out.max_concurrency =
        per_req > 0 ? static_cast<double>(blocks) / static_cast<double>(per_req) : 0.0;
  } else {
    out.max_concurrency = X > 0 ? static_cast<double>(blocks * B) / static_cast<double>(X) : 0.0;
  }
  switch (p.tokens_report) {
    case kv_tokens_report::blocks_times_block_size:
      out.kv_cache_tokens = blocks * B;
      break;
    case kv_tokens_report::blocks_per_group:
      out.kv_cache_tokens = blocks / out.kv.groups * B;
      break;
    case kv_tokens_report::concurrency_times_len:
      out.kv_cache_tokens =
          static_cast<std::uint64_t>(out.max_concurrency * static_cast<double>(X));
      break;
  }

  // Does it start? In the order vLLM would fail.
  const std::uint64_t derived = a.derived_max_model_len();
  const std::uint64_t context = out.cuda_context_bytes;
  const std::uint64_t v0_check_pp = p.v0_check_splits_blocks_by_pp ? d.pp : 1;
  auto fails_at = [&](std::uint64_t len, const std::vector<stage_figures>& st) {
    for (const auto& f : st) {
      if (f.available <= 0 || f.blocks == 0) return true;
      if (p.engine == engine_kind::v0) {
        // V0 >= 0.6.4 splits the blocks between pipeline stages' virtual engines before the
        // check; earlier V0 checks all of them.
        if (len > f.blocks / v0_check_pp * B) return true;
      } else if (needed_bytes(a, d, f.kv, len) > static_cast<std::uint64_t>(f.available)) {
        return true;
      }
    }
    return false;
  };
  std::uint64_t max_weights = 0;
  for (const auto& st : stages) max_weights = std::max(max_weights, st.weights.total());

  out.fits = true;
  if (derived > 0 && X > derived) {
    out.fits = false;
    out.limit = limiting_factor::max_position_embeddings;
    message(out.error)("User-specified max_model_len (")
        .u64(X)(") is greater than the derived max_model_len (")
        .u64(derived)(
            " from the model's max_position_embeddings and rope scaling). Set "
            "VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 to allow it at your own risk.");
  } else {
    check_memory_at_start(d, s0, blocks, max_weights, fails_at(X, stages), out);
  }
  // The largest max_model_len that starts (§6.5 binary search, here over the whole startup).
  const bool kv_only = out.fits || out.limit == limiting_factor::kv_cache ||
                       out.limit == limiting_factor::max_position_embeddings;
  if (kv_only && !(s0.available <= 0 || blocks == 0)) {
    const std::uint64_t upper = derived > 0 ? derived : kMaxSearchLen;
    const auto closed =
        d.max_num_batched_tokens_follows_len ? std::nullopt : max_len_closed_form(d, stages, upper);
    if (closed) {
      out.max_model_len_fit = *closed;
    } else {
      // Hybrid KV groups (a window-capped need) and V0 batches that follow the length: search.
      std::vector<stage_figures> st2;
      auto fits_len = [&](std::uint64_t len) {
        if (!d.max_num_batched_tokens_follows_len) return !fails_at(len, stages);
        deployment d2 = d;
        d2.max_model_len = len;
        d2.max_num_batched_tokens = std::max<std::uint64_t>(len, 2048);
        st2.clear();
        for (std::uint64_t s = 0; s < d.pp; ++s) {
          st2.push_back(compute_stage(a, d2, s, d2.max_num_batched_tokens, out.requested_bytes,
                                      out.cuda_graphs, stages[s].weights));
        }
        return !fails_at(len, st2);
      };
      out.max_model_len_fit = largest_passing(upper, fits_len);
    }
  }
  if (out.fits) {
    out.limit = out.max_concurrency < static_cast<double>(d.max_num_seqs)
                    ? limiting_factor::kv_cache
                    : limiting_factor::none;
  } else if (out.limit == limiting_factor::kv_cache && out.error.empty()) {
    set_kv_check_error(a, d, stages, X, blocks, v0_check_pp, out);
  }
  set_verdict(a, d, stages, X, max_weights, T, context, out);
  return out;
}

}  // namespace vllm_mem
