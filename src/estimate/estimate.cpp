// estimate/estimate.cpp — the seed API's estimate on top of the startup model.
#include "vllm_mem/estimate/estimate.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/ingest/name_estimate.hpp"
#include "vllm_mem/util/checked_math.hpp"
#include "vllm_mem/util/json_writer.hpp"
#include "vllm_mem/util/text.hpp"

namespace vllm_mem {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

error bad(std::string_view field, std::string message) {
  return make_error(error_code::invalid_argument, std::move(message), std::string(field));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Estimate

namespace {

void append_u64(std::string& s, std::uint64_t v) {
  char buf[24];
  s.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

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
  // State layers shard their heads (mamba_utils divide(): exact).
  const state_layers& l = a.linear;
  const std::uint64_t state_heads[2] = {
      l.kind == state_layer_kind::gated_delta_net ? l.num_key_heads : l.num_heads,
      l.kind == state_layer_kind::gated_delta_net ? l.num_value_heads : l.num_heads};
  for (std::uint64_t h : state_heads) {
    if (l.any() && h % tp != 0) {
      return bad("tensor_parallel_size", "tensor_parallel_size (" + std::to_string(tp) +
                                             ") must divide the " + std::to_string(h) +
                                             " heads of the " + state_layer_kind_name(l.kind) +
                                             " layers");
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

// The catalog's interconnect text as NCCL's transport class: "NVLink ..." (SXM/HGX, NVL bridges
// first) is NVLink; "PCIe ..." (also "PCIe ...; NVLink bridge": a bridge joins pairs only) is
// PCIe; other fabrics (Infinity Fabric, RoCE) keep the NVLink-class term, as before.
interconnect_kind interconnect_of(const gpu_entry& g) {
  const std::string ic = to_lower(g.interconnect);
  return ic.rfind("pcie", 0) == 0 ? interconnect_kind::pcie : interconnect_kind::nvlink;
}

// The device: a catalog GPU or a bare memory size, and whether vLLM's batch defaults treat it as a
// big GPU.
status resolve_device(const estimate_request& r, const gpu_catalog& gpus, estimate_result& out,
                      bool& big_gpu) {
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
    const std::string& cc = gpu->compute_capability;
    if (!cc.empty() && cc[0] >= '1' && cc[0] <= '9') {
      d.gpu_sm_major = static_cast<std::uint32_t>(std::strtoul(cc.c_str(), nullptr, 10));
    }
  } else if (r.gpu_memory_gib) {
    out.has_gpu = true;
    d.gpu_total_bytes = static_cast<std::uint64_t>(std::llround(*r.gpu_memory_gib * kGiB));
  }
  // vLLM picks its batch defaults by device size and name (§8.2). For a bare memory size, the
  // catalog tells whether that size is an A100's (79.15 GiB) rather than an H100's.
  big_gpu = gpu ? gpu->big_for_vllm_defaults() : false;
  // The interconnect: the request's, else the catalog GPU's; for a bare memory size, the
  // interconnect of the catalog GPUs within 2% of that CUDA total when they all agree, else
  // NVLink. The total a card reports moves with driver and ECC reservations (a T4 prints 14.56
  // on some hosts and 14.74 on others); 2% keeps apart every pair of catalog sizes whose
  // interconnects differ, except the H100/A100 SXM-PCIe twins, which disagree and stay NVLink.
  if (r.interconnect) {
    d.interconnect = *r.interconnect;
  } else if (gpu) {
    d.interconnect = interconnect_of(*gpu);
  } else if (r.gpu_memory_gib) {
    std::optional<interconnect_kind> seen;
    bool agree = true;
    for (const auto& g : gpus.entries()) {
      if (g.cuda_total_gib <= 0 ||
          std::fabs(g.cuda_total_gib - *r.gpu_memory_gib) > 0.02 * g.cuda_total_gib)
        continue;
      const interconnect_kind k = interconnect_of(g);
      if (seen && *seen != k) agree = false;
      seen = k;
    }
    d.interconnect = seen && agree ? *seen : interconnect_kind::nvlink;
  }
  if (!gpu && r.gpu_memory_gib && *r.gpu_memory_gib >= 70.0) {
    big_gpu = true;
    for (const auto& g : gpus.entries()) {
      if (std::fabs(g.cuda_total_gib - *r.gpu_memory_gib) < 0.005 && !g.big_for_vllm_defaults())
        big_gpu = false;
    }
  }

  return ok_status();
}

// The version's accounting rules and the engine.
status resolve_profile(const estimate_request& r, estimate_result& out) {
  deployment& d = out.deploy;
  static const vllm_version newest = parse_vllm_version(kDefaultVersion, "vllm_version").value();
  const vllm_version version = r.version.value_or(newest);
  const engine_kind engine = r.engine.value_or(default_engine(version));
  auto profile = make_profile(version, engine);
  if (!profile) return profile.err();
  d.profile = *profile;
  if (d.profile.beyond_newest) {
    out.warnings.push_back("vLLM " + version.text() +
                           " is newer than the newest modelled version (" +
                           std::string(kNewestProfileVersion) + "); the " +
                           std::string(kNewestProfileVersion) + " rules are applied");
  }
  // Said for a version asked for other than the default; the default's status is in every
  // answer with a GPU (vllm_startup.calibrated, a wider uncertainty_gib) and in GET /versions, and
  // naming the default changes nothing.
  if (!d.profile.calibrated && version != newest) {
    out.warnings.push_back(
        "vLLM " + version.text() + " (profile " + std::string(d.profile.range) +
        ") is not calibrated: no real startup of that range was scored (GET /versions says "
        "which are); its figures follow that version's code (docs/vllm-versions.md) with the "
        "0.19 constants");
  }
  d.gpu_memory_utilization =
      r.gpu_memory_utilization_given ? r.gpu_memory_utilization : d.profile.default_utilization;
  out.gpu_memory_utilization = d.gpu_memory_utilization;
  d.gpu_memory_utilization_unset = !r.gpu_memory_utilization_given;
  d.kv_cache_memory_bytes = r.kv_cache_memory_bytes;
  // vLLM: set_cpu_offload_max_bytes(int(cpu_offload_gb * 1024**3)).
  d.cpu_offload_bytes = static_cast<std::uint64_t>(r.cpu_offload_gb * kGiB);
  d.reserved_bytes = static_cast<std::uint64_t>(std::llround(r.reserved_memory_gib * kGiB));
  if (d.reserved_bytes > 0 && d.gpu_total_bytes > 0 && d.reserved_bytes >= d.gpu_total_bytes) {
    return make_error(error_code::invalid_argument,
                      "'reserved_memory_gib' (" + format_g4(r.reserved_memory_gib) +
                          ") must be less than the GPU's memory (" +
                          format_g4(static_cast<double>(d.gpu_total_bytes) / kGiB) + " GiB)",
                      "reserved_memory_gib");
  }
  d.capture = r.capture;

  return ok_status();
}

// What the request's dtype and quantization mean for the weights, activations and KV cache.
struct precision {
  dtype act = dtype::float16;
  std::optional<quant_spec> requested;  // asked for on the fly (not the checkpoint's own)
  std::string refusal;                  // vLLM's refusal of this dtype for this model, if any
};

result<precision> resolve_precision(const estimate_request& r, const model_arch& a, deployment& d) {
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
  // vLLM refuses float16 for models it found numerically unstable in it (config/model.py
  // _FLOAT16_NOT_SUPPORTED_MODELS, checked by _is_valid_dtype). Not yet in 0.8.3 (Gemma 3 ran in
  // float16 then), in the tree by July 2025: from 0.10.0 here.
  // The estimate stands (the seed's figures are those of float16); vLLM's startup does not.
  std::string refusal;
  if (r.dtype_given && act == dtype::float16 && d.profile.version >= vllm_version{0, 10, 0}) {
    // The checkpoint's own model_type: a multimodal repository's outer one.
    const std::string& type =
        a.multimodal_model_type.empty() ? a.model_type : a.multimodal_model_type;
    for (const char* unstable : {"gemma2", "gemma3", "gemma3_text", "plamo2", "glm4"}) {
      if (type == unstable) {
        refusal = "The model type '" + type +
                  "' does not support float16. Reason: Numerical instability. Please use "
                  "bfloat16 or float32 instead.";
      }
    }
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
  if (requested && requested->from_checkpoint && !checkpoint.is_none() && requested->is_none()) {
    requested.reset();  // the family's layout is the checkpoint's
  } else if (requested && requested->from_checkpoint && requested->is_none()) {
    return bad("quantization",
               "quantization '" + r.quantization_text +
                   "' takes its layout from the checkpoint's quantization_config, which this "
                   "model's description does not state; name the scheme (e.g. '" +
                   r.quantization_text + " (w4a16)' or nvfp4), or give the model's hf_config");
  }
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
  if (requested) apply_unstated_layout(a.is_mla(), *requested);
  d.quant = requested ? *requested : checkpoint;
  if (d.quant.method == quant_method::bitsandbytes && d.quant.bits == 4 &&
      a.quantization.is_none() && requested) {
    d.quant.double_quant = false;  // on-the-fly bitsandbytes quantization has no nested absmax
  }
  std::uint32_t kv_bits = d.act_bits;
  if (r.kv_cache_dtype && !r.kv_cache_dtype->is_auto) kv_bits = dtype_bits(r.kv_cache_dtype->value);
  d.kv_bits = kv_bits;
  // Sparse MLA with an fp8 cache: FlashMLA's sparse backend (the one on Hopper, SM 9.x) rewrites
  // it to fp8_ds_mla (MLAAttention.__init__); on Blackwell (SM 10.x) vLLM prefers
  // FLASHINFER_MLA_SPARSE for fp8, which keeps the standard 576-byte layout (its "Using standard
  // fp8 KV cache format"; row 2005 on a GB200-class GPU). An unknown GPU counts as the latter.
  d.fp8_ds_mla = a.has_indexer() && kv_bits == 8 && d.gpu_sm_major == 9;

  return precision{act, requested, std::move(refusal)};
}

// max_model_len, the scheduler's batch sizes and the block size, with vLLM's defaults.
status resolve_scheduler(const estimate_request& r, const model_arch& a, bool big_gpu,
                         estimate_result& out) {
  deployment& d = out.deploy;
  const engine_kind engine = d.profile.engine;
  d.max_model_len = r.max_model_len.value_or(r.max_seq_len);
  // "auto" / -1 starts from the model's derived maximum; estimate_resolved then fits it.
  if (r.max_model_len_auto && a.derived_max_model_len() > 0)
    d.max_model_len = a.derived_max_model_len();
  const bool multimodal = a.vision.has_value();
  const scheduler_defaults sched =
      default_scheduler(d.profile, big_gpu, d.max_model_len, multimodal,
                        d.gpu_total_bytes >= 160ULL * 1024 * 1024 * 1024);
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
  if (a.compressed.any()) {
    // DeepSeek-V4: the sparse-SWA backend prefers 256-token blocks (sparse_swa.py
    // get_preferred_block_size); the compressed caches keep block / ratio entries, so a block
    // must hold whole entries of the 128x layers.
    d.block_size = r.block_size.value_or(256);
    if (d.block_size % 128 != 0) {
      return bad("block_size",
                 "'block_size' must be a multiple of 128 for DeepSeek-V4 (its 128x "
                 "compressed layers store block_size / 128 entries per block), got " +
                     std::to_string(d.block_size));
    }
  } else if (a.has_indexer()) {
    // Sparse MLA runs with 64-token blocks whatever is configured (CudaPlatformBase
    // .check_and_update_config: use_sparse = hasattr(hf_config, "index_topk")).
    d.block_size = 64;
  } else if (a.linear.any()) {
    // vLLM raises a hybrid model's attention block size until a page holds a state page and
    // keeps a larger configured one (kv_groups.hpp); the request may give the logged value.
    d.block_size =
        hybrid_block_size(attention_bytes_per_token(a, d.tp, d.kv_bits),
                          state_page_bytes(a, d.tp, d.act_bits, d.spec.num_speculative_tokens),
                          r.block_size.value_or(0));
  } else if (r.block_size && *r.block_size > 256) {
    return bad("block_size",
               "'block_size' must be one of 1, 8, 16, 32, 64, 128, 256 (vLLM's choices), got " +
                   std::to_string(*r.block_size) +
                   "; larger attention blocks are what vLLM computes for hybrid models only");
  }
  d.enforce_eager = r.enforce_eager;
  return ok_status();
}

// The request's exact checkpoint bytes, which scale the computed layout (weights.hpp).
status apply_checkpoint(const estimate_request& r, const model_arch& a, estimate_result& out) {
  deployment& d = out.deploy;
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

  return ok_status();
}

// The seed's components, per GPU (stage 0, rank 0), from the startup figures.
status compute_seed(const estimate_request& r, const model_arch& a, estimate_result& out) {
  const deployment& d = out.deploy;
  const std::uint64_t seed_batch = r.max_batch_size.value_or(32);
  // In checked arithmetic (checked_math.hpp): inputs
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
  c.min_kv_cache = ck.mul(
      seed_batch, s.kv.page_bytes * s.kv.layers + s.kv.indexer_page_bytes * s.kv.indexer_layers);
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
  c.cuda_overhead = s.cuda_context_bytes + s.non_torch_bytes + s.cuda_graph_bytes +
                    s.weights.buffers + s.weights.lora;
  c.total_min = c.model_params + c.activation + c.min_kv_cache + c.cuda_overhead;
  c.total_max = c.model_params + c.activation + c.max_kv_cache + c.cuda_overhead;
  // The seed's headroom: its own default (0.9) when the request names none, whatever the
  // version's vLLM default is (that one sizes vllm_startup's budget).
  const double recommended = static_cast<double>(c.total_max) / r.gpu_memory_utilization;
  if (!(recommended <= static_cast<double>(kMaxByteCount)))
    return too_big("gpu_memory_utilization",
                   "the recommended memory (total / gpu_memory_utilization " +
                       format_g4(r.gpu_memory_utilization) + ")",
                   "raise 'gpu_memory_utilization'");
  c.recommended = static_cast<std::uint64_t>(recommended);
  out.kv_cache_bytes_per_token = s.kv.bytes_per_token;

  return ok_status();
}

// A model whose weights do not fit the memory of one GPU: the one given (its CUDA total), or,
// without a GPU, the largest of the catalog. Said only when no parallelism was asked for; with it,
// the per-GPU figures and the startup verdict answer the question.
void warn_if_very_large(const gpu_catalog& gpus, estimate_result& out) {
  const deployment& d = out.deploy;
  if (d.tp * d.pp > 1) return;
  // One rank holds all of it: "Model loading took", as the table shows it.
  const std::uint64_t weights_total = out.startup.weights.total();
  std::uint64_t gpu_bytes = d.gpu_total_bytes;
  std::string gpu_name = out.gpu_id.empty() ? "the GPU given" : out.gpu_id;
  if (!out.has_gpu) {
    for (const auto& g : gpus.entries()) {
      const auto bytes = static_cast<std::uint64_t>(std::llround(g.cuda_total_gib * kGiB));
      if (bytes > gpu_bytes) {
        gpu_bytes = bytes;
        gpu_name = "the largest GPU in the catalog (" + g.id + ")";
      }
    }
  }
  if (gpu_bytes == 0 || weights_total <= gpu_bytes) return;
  out.warnings.push_back(
      "very large model: " + billions(static_cast<double>(out.params.total)) + " parameters, " +
      format_g4(static_cast<double>(weights_total) / kGiB) + " GiB of weights (" +
      format_g4(static_cast<double>(weights_total) / 1e9) + " GB), more than " + gpu_name +
      " holds (" + format_g4(static_cast<double>(gpu_bytes) / kGiB) +
      " GiB); set tensor_parallel_size / pipeline_parallel_size to spread them over GPUs, and "
      "the figures become per GPU");
}

// The flags this estimate assumed, as `vllm serve` takes them.
void write_vllm_args(const estimate_request& r, const precision& p, estimate_result& out) {
  const deployment& d = out.deploy;
  const engine_kind engine = d.profile.engine;
  const vllm_version& version = d.profile.version;
  std::string& args = out.vllm_args;
  args.reserve(224);
  if (engine == engine_kind::v0 && version >= vllm_version{0, 8, 0}) args += "VLLM_USE_V1=0 ";
  args += "--max-model-len ";
  append_u64(args, d.max_model_len);
  args += " --max-num-seqs ";
  append_u64(args, d.max_num_seqs);
  args += " --max-num-batched-tokens ";
  append_u64(args, d.max_num_batched_tokens);
  // From 0.34 leaving the flag out is its own rule (the extensible KV cache sized from what is
  // free), so the unset default is not written as a number.
  if (r.gpu_memory_utilization_given || d.profile.budget != budget_mode::extensible_kv) {
    args += " --gpu-memory-utilization ";
    args += format_g4(d.gpu_memory_utilization);
  }
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
    args += dtype_name(p.act);
  }
  if (p.requested) {
    const char* q = nullptr;
    switch (p.requested->method) {
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
  if (d.kv_bits == 8) args += " --kv-cache-dtype fp8";
  if (r.block_size) {
    args += " --block-size ";
    append_u64(args, d.block_size);
  }
  if (d.enforce_eager) args += " --enforce-eager";
  if (d.spec.enabled()) {
    // vllm serve's --speculative-config takes the JSON (single-quoted for the shell).
    args += " --speculative-config '{\"method\": \"";
    args += spec_method_name(d.spec.method);
    args += "\", \"num_speculative_tokens\": ";
    append_u64(args, d.spec.num_speculative_tokens);
    args += "}'";
  }
  if (d.lora.enabled) {
    args += " --enable-lora --max-loras ";
    append_u64(args, d.lora.max_loras);
    args += " --max-lora-rank ";
    append_u64(args, d.lora.max_lora_rank);
    if (d.lora.fully_sharded) args += " --fully-sharded-loras";
    if (d.lora.dtype_bits == 32) args += " --lora-dtype float32";
  }
  if (d.cpu_offload_bytes > 0) {
    args += " --cpu-offload-gb ";
    args += format_g4(r.cpu_offload_gb);
  }
  if (d.kv_cache_memory_bytes > 0) {
    args += " --kv-cache-memory ";
    append_u64(args, d.kv_cache_memory_bytes);
  }
  if (d.mm.image || d.mm.video) {
    // The flag's key=value form: no quotes or braces for the shell to take apart.
    args += " --limit-mm-per-prompt ";
    if (d.mm.image) {
      args += "image=";
      append_u64(args, *d.mm.image);
    }
    if (d.mm.video) {
      args += d.mm.image ? ",video=" : "video=";
      append_u64(args, *d.mm.video);
    }
  }
  // The CUDA-graph settings the request gave, as vLLM's flags take them (the mode only inside
  // --compilation-config).
  const capture_settings& cap = r.capture;
  const char* mode = nullptr;
  switch (cap.mode) {
    case cudagraph_mode::none:
      mode = "NONE";
      break;
    case cudagraph_mode::piecewise:
      mode = "PIECEWISE";
      break;
    case cudagraph_mode::full:
      mode = "FULL";
      break;
    case cudagraph_mode::full_and_piecewise:
      mode = "FULL_AND_PIECEWISE";
      break;
    case cudagraph_mode::version_default:
      break;
  }
  if (mode) {
    args += " --compilation-config '{\"cudagraph_mode\": \"";
    args += mode;
    args += "\"}'";
  }
  if (cap.max_capture_size > 0) {
    args += " --max-cudagraph-capture-size ";
    append_u64(args, cap.max_capture_size);
  }
  if (!cap.sizes.empty()) {
    args += " --cudagraph-capture-sizes";
    for (const std::uint64_t s : cap.sizes) {
      args += ' ';
      append_u64(args, s);
    }
  }
}

// The estimate into `out`, whose `model` holds the request's resolved model.
// --speculative-config as vLLM's SpeculativeConfig.__post_init__ resolves it (speculative.hpp):
// k defaults to the checkpoint's MTP module count (mtp) or 24 (suffix) and must be given for
// ngram; an MTP drafter needs MTP modules and k a multiple of them when larger.
status resolve_speculative(const estimate_request& r, const model_arch& a, deployment& d) {
  speculative_config s = r.speculative;
  if (!s.enabled()) return ok_status();
  const std::string f = "speculative_config";
  if (d.profile.engine == engine_kind::v0) {
    return bad(f, "'" + f + "' is modelled for vLLM's V1 engine; got the V0 engine");
  }
  if (r.draft_tensor_parallel_size && *r.draft_tensor_parallel_size != d.tp) {
    // SpeculativeConfig._verify_and_get_draft_tp accepts 1 or the target's size; a replicated
    // drafter on a TP engine is not modelled.
    return bad(f + ".draft_tensor_parallel_size",
               "'" + f + ".draft_tensor_parallel_size' must equal tensor_parallel_size (" +
                   std::to_string(d.tp) + "): vLLM accepts 1 or the target's size, and a " +
                   "replicated drafter is not modelled");
  }
  if (s.method == spec_method::mtp) {
    if (r.speculative_model && *r.speculative_model != r.model_name) {
      return bad(f + ".model", "'" + f + ".model' with method mtp is the target's own " +
                                   "checkpoint; a separate draft model is not modelled yet");
    }
    if (a.mtp_layers == 0) {
      return bad(f + ".method", "'" + f + ".method' mtp needs MTP modules in the checkpoint " +
                                    "(num_nextn_predict_layers or mtp_num_hidden_layers); " +
                                    r.model_name + " has none");
    }
    if (s.num_speculative_tokens == 0) s.num_speculative_tokens = a.mtp_layers;
    if (s.num_speculative_tokens > a.mtp_layers && s.num_speculative_tokens % a.mtp_layers != 0) {
      return bad(f + ".num_speculative_tokens",
                 "num_speculative_tokens:" + std::to_string(s.num_speculative_tokens) +
                     " must be divisible by n_predict=" + std::to_string(a.mtp_layers) +
                     " (vLLM's SpeculativeConfig)");
    }
  } else if (r.speculative_model) {
    return bad(f + ".model", "'" + f + ".model' names a draft model; with method " +
                                 spec_method_name(s.method) + " there is none");
  } else if (s.method == spec_method::suffix && s.num_speculative_tokens == 0) {
    s.num_speculative_tokens = kSuffixDefaultTokens;
  } else if (s.num_speculative_tokens == 0) {
    return bad(f + ".num_speculative_tokens",
               "'" + f + ".num_speculative_tokens' is required with method ngram (vLLM: " +
                   "\"num_speculative_tokens must be provided with speculative model\")");
  }
  d.spec = s;
  return ok_status();
}

status estimate_resolved(const estimate_request& r, estimate_result& out, const gpu_catalog& gpus) {
  out.model_name = r.model_name;
  out.model_origin = r.model_origin;
  out.checkpoint = r.safetensors;
  out.from_vllm_command = r.from_vllm_command;
  out.ignored_flags = r.ignored_flags;
  const model_arch& a = out.model.arch;
  out.warnings = out.model.warnings;
  deployment& d = out.deploy;
  bool big_gpu = false;
  if (auto ok = resolve_device(r, gpus, out, big_gpu); !ok) return ok.err();
  if (auto ok = resolve_profile(r, out); !ok) return ok.err();
  // Parallelism (vLLM's checks).
  d.tp = r.tensor_parallel_size;
  d.pp = r.pipeline_parallel_size;
  d.expert_parallel = r.enable_expert_parallel;
  d.lora = r.lora;
  d.mm = r.mm;
  if (auto ok = resolve_speculative(r, a, d); !ok) return ok.err();
  if (auto ok = check_parallel_sizes(a, d.tp, d.pp); !ok) return ok.err();
  out.num_gpus = d.tp * d.pp;

  auto prec = resolve_precision(r, a, d);
  if (!prec) return prec.err();
  d.runner = default_runner(d.profile, a.model_type, a.is_moe(), !d.quant.is_none());
  if (auto ok = resolve_scheduler(r, a, big_gpu, out); !ok) return ok.err();
  if (auto ok = apply_checkpoint(r, a, out); !ok) return ok.err();

  // The weights' overflow error names the request object the architecture came from.
  auto from_model = [&](error e) {
    if (e.code == error_code::out_of_range && e.field == "architecture" &&
        (out.model.source == "hf_config" || out.model.source == "params_billions"))
      e.field = out.model.source;
    return e;
  };
  d.architecture_estimated =
      out.model.source == "name_estimate" || out.model.source == "params_billions";
  auto st = simulate_startup(a, d);
  if (!st) return from_model(st.err());
  if (r.max_model_len_auto && !st->fits && st->limit == limiting_factor::kv_cache &&
      st->max_model_len_fit > 0) {
    // vLLM's auto-fit (kv_cache_planning.py get_kv_cache_configs): the largest length whose KV
    // cache fits the budget. The null block reserved from ≈0.33 is not subtracted here.
    d.max_model_len = st->max_model_len_fit;
    st = simulate_startup(a, d);
    if (!st) return from_model(st.err());
  }
  out.startup = std::move(*st);
  if (!prec->refusal.empty()) {
    // vLLM stops at its config check, before any memory is used.
    startup_result& s = out.startup;
    s.fits = false;
    s.limit = limiting_factor::dtype;
    s.error = prec->refusal;
    s.max_model_len_fit = 0;
    s.verdict = startup_verdict::does_not_fit;
    s.verdict_advice = "pass --dtype bfloat16 (or float32)";
  }
  if (d.architecture_estimated && out.startup.verdict == startup_verdict::marginal) {
    out.startup.verdict_advice +=
        std::string(out.startup.verdict_advice.empty() ? "" : "; ") +
        "the architecture is estimated from the parameter count: give hf_config (a config.json) "
        "or the model's folder for a firm answer";
  }
  // A model known by nothing but its name, without even a size in it, is an architecture guess:
  // the memory checks hold for the guess, not for the model, so no start is a safe fit.
  if (out.model.source == "default_estimate" && out.startup.verdict == startup_verdict::fits) {
    out.startup.verdict = startup_verdict::marginal;
    out.startup.verdict_advice =
        "the model is unknown, so its architecture is a guess: give params_billions, hf_config "
        "(a config.json) or the model's folder for a real answer";
  }

  auto params = count_parameters(a);
  if (!params) return from_model(params.err());
  out.params = *params;

  if (auto ok = compute_seed(r, a, out); !ok) return ok.err();
  warn_if_very_large(gpus, out);
  if (a.derived_max_model_len() == 0 && out.model.source == "database") {
    // vLLM caps max_model_len at the config's positions; without them no cap can be applied.
    out.warnings.push_back(
        "the database does not hold this model's context length (max_position_embeddings), so "
        "max_model_len_fit is not capped by it; vLLM refuses a max_model_len past the model's own");
  }
  write_vllm_args(r, *prec, out);
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

}  // namespace vllm_mem
