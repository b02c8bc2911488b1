// hf_config_test.cpp — Hugging Face config.json -> canonical architecture: real configs give the
// database's architecture, class defaults fill nested configs, quantization_config maps to the
// quantization object, and broken configs give errors naming the HF field.
#include <gtest/gtest.h>

#include "../http/router.hpp"
#include "hub_support.hpp"
#include "test_support.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/model/weights.hpp"

namespace vllm_mem::testing {
namespace {

using json = nlohmann::json;

model_arch convert(const json& cfg) {
  auto spec = arch_from_hf_config(cfg, "hf_config.");
  if (!spec) {
    ADD_FAILURE() << spec.err().field << ": " << spec.err().message;
    std::abort();
  }
  auto a = resolve_arch(*spec, "");
  if (!a) {
    ADD_FAILURE() << a.err().message;
    std::abort();
  }
  return *a;
}

error convert_error(const json& cfg) {
  auto spec = arch_from_hf_config(cfg, "hf_config.");
  if (spec) {
    ADD_FAILURE() << "expected an error for " << cfg.dump();
    return {};
  }
  return spec.err();
}

// ---------------------------------------------------------------------------------------------
// A Qwen2-style model the database does not hold: parameters and KV bytes checked by hand.

// Per layer: q 1024x1024 + bias 1024; k and v 1024x256 + bias 256 each (4 KV heads of 64);
// o 1024x1024; gated MLP 3 x 1024 x 2816; two RMSNorms of 1024.
constexpr std::uint64_t kTinyLayer = 1048576 + 1024 + 2 * (262144 + 256) + 1048576 + 8650752 + 2048;
// Embedding and untied LM head 32000 x 1024 each, final norm 1024.
constexpr std::uint64_t kTinyParams = 2 * 32768000 + 4 * kTinyLayer + 1024;
// 4 layers x K and V x 4 heads x 64 x 2 bytes (float16).
constexpr std::uint64_t kTinyKvPerToken = 4 * 2 * 4 * 64 * 2;

TEST(HfConfig, QwenStyleModelHasHandCheckedCounts) {
  static_assert(kTinyParams == 110640128);
  const auto e = run({{"model_name", "acme/tiny-qwen"},
                      {"max_seq_len", 2048},
                      {"hf_config", tiny_qwen2_config()}});
  EXPECT_EQ(e.model.source, "hf_config");
  EXPECT_EQ(e.params.total, kTinyParams);
  EXPECT_EQ(e.kv_cache_bytes_per_token, kTinyKvPerToken);
  // The seed's max KV: 32 sequences x 2048 tokens x 4096 bytes.
  EXPECT_EQ(e.bytes.max_kv_cache, 32ULL * 2048 * kTinyKvPerToken);
  // Weights at float16: every parameter 2 bytes, the vocabulary padded to 64 (32000 already is).
  EXPECT_EQ(e.bytes.model_params, 2 * kTinyParams);
}

TEST(HfConfig, MtpModulesAreReadUnderEitherName) {
  // DeepSeek/GLM write num_nextn_predict_layers, Qwen3.5 mtp_num_hidden_layers (vLLM's
  // SpeculativeConfig.hf_config_override reads both as n_predict); neither: none, except
  // Qwen3-Next, whose MTP predictor defaults to one layer.
  json c = tiny_qwen2_config();
  EXPECT_EQ(convert(c).mtp_layers, 0u);
  c["mtp_num_hidden_layers"] = 2;
  EXPECT_EQ(convert(c).mtp_layers, 2u);
  c.erase("mtp_num_hidden_layers");
  c["num_nextn_predict_layers"] = 3;
  EXPECT_EQ(convert(c).mtp_layers, 3u);
  const auto e = run({{"model_name", "acme/tiny-qwen"}, {"max_seq_len", 2048}, {"hf_config", c}});
  EXPECT_EQ(e.model.arch.mtp_layers, 3u);
}

TEST(HfConfig, QwenStyleModelThroughTheApi) {
  const http::router r(cats());
  json body{
      {"model_name", "acme/tiny-qwen"}, {"max_seq_len", 2048}, {"hf_config", tiny_qwen2_config()}};
  const std::string text = body.dump();
  const auto res = r.handle({"POST", "/estimate-gpu-memory", text, "application/json", ""});
  ASSERT_EQ(res.status, 200) << res.body;
  const json out = json::parse(res.body);
  EXPECT_EQ(out["model_source"], "hf_config");
  EXPECT_EQ(out["parameters"]["total"].get<std::uint64_t>(), kTinyParams);
  EXPECT_EQ(out["components_bytes"]["kv_cache_per_token"].get<std::uint64_t>(), kTinyKvPerToken);
  EXPECT_EQ(out["architecture_used"]["num_kv_heads"], 4);
  EXPECT_EQ(out["architecture_used"]["qkv_bias"], true);
  EXPECT_FALSE(out["architecture_used"].contains("sliding_window"));  // use_sliding_window false
}

TEST(HfConfig, ErrorsGoThroughTheApiAs400NamingTheField) {
  const http::router r(cats());
  json cfg = tiny_qwen2_config();
  cfg["num_key_value_heads"] = 5;
  json body{{"model_name", "acme/tiny-qwen"}, {"max_seq_len", 2048}, {"hf_config", cfg}};
  const std::string text = body.dump();
  const auto res = r.handle({"POST", "/estimate-gpu-memory", text, "application/json", ""});
  ASSERT_EQ(res.status, 400) << res.body;
  const json out = json::parse(res.body);
  EXPECT_EQ(out["field"], "hf_config.num_key_value_heads");
  EXPECT_NE(out["detail"].get<std::string>().find("'hf_config.num_attention_heads' (16)"),
            std::string::npos)
      << out["detail"];
}

// A layer count far past any model (a fuzzer's find: per-layer tables once allocated for it) is
// the schema's range error, for a family with a sliding window too.
TEST(HfConfig, LayerCountPastTheBoundIsARangeError) {
  json cfg = tiny_qwen2_config();
  cfg["model_type"] = "mistral";
  cfg["num_hidden_layers"] = 355555555552ULL;
  const auto c = convert_hf_config(cfg, "hf_config.");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().field, "hf_config.num_hidden_layers");
  EXPECT_NE(c.err().message.find("2048"), std::string::npos) << c.err().message;
}

// ---------------------------------------------------------------------------------------------
// Real config.json files convert to the database's architecture.

struct real_case {
  const char* id;
  const char* config;
};

// The config.json of each model as published (keys that do not change memory trimmed in a few).
const real_case kRealConfigs[] =
    {
        {"meta-llama/Llama-2-7b-hf",
         R"({"architectures":["LlamaForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,"intermediate_size":11008,"max_position_embeddings":4096,"model_type":"llama","num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,"pretraining_tp":1,"rms_norm_eps":1e-05,"rope_scaling":null,"tie_word_embeddings":false,"torch_dtype":"float16","transformers_version":"4.31.0.dev0","use_cache":true,"vocab_size":32000})"},
        {"Qwen/Qwen2.5-7B",
         R"({"architectures":["Qwen2ForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,"eos_token_id":151643,"hidden_act":"silu","hidden_size":3584,"initializer_range":0.02,"intermediate_size":18944,"max_position_embeddings":131072,"max_window_layers":28,"model_type":"qwen2","num_attention_heads":28,"num_hidden_layers":28,"num_key_value_heads":4,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":131072,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.40.1","use_cache":true,"use_mrope":false,"use_sliding_window":false,"vocab_size":152064})"},
        {"mistralai/Mixtral-8x7B-v0.1", R"({"architectures":["MixtralForCausalLM"],"attention_dropout":0.0,"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,"intermediate_size":14336,"max_position_embeddings":32768,"model_type":"mixtral","num_attention_heads":32,"num_experts_per_tok":2,"num_hidden_layers":32,"num_key_value_heads":8,"num_local_experts":8,"output_router_logits":false,"rms_norm_eps":1e-05,"rope_theta":1000000.0,"router_aux_loss_coef":0.02,"sliding_window":null,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.36.0.dev0","use_cache":true,"vocab_size":32000})"},
        {"mistralai/Mistral-7B-v0.1",
         R"({"architectures":["MistralForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,"intermediate_size":14336,"max_position_embeddings":32768,"model_type":"mistral","num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"rms_norm_eps":1e-05,"rope_theta":10000.0,"sliding_window":4096,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.34.0.dev0","use_cache":true,"vocab_size":32000})"},
        {"tiiuae/falcon-7b",
         R"({"alibi":false,"apply_residual_connection_post_layernorm":false,"architectures":["FalconForCausalLM"],"attention_dropout":0.0,"bias":false,"bos_token_id":11,"eos_token_id":11,"hidden_dropout":0.0,"hidden_size":4544,"initializer_range":0.02,"layer_norm_epsilon":1e-05,"model_type":"falcon","multi_query":true,"new_decoder_architecture":false,"num_attention_heads":71,"num_hidden_layers":32,"num_kv_heads":71,"parallel_attn":true,"torch_dtype":"bfloat16","transformers_version":"4.27.4","use_cache":true,"vocab_size":65024})"},
        {"tiiuae/falcon-40b",
         R"({"alibi":false,"architectures":["FalconForCausalLM"],"bias":false,"bos_token_id":11,"eos_token_id":11,"hidden_size":8192,"layer_norm_epsilon":1e-05,"model_type":"falcon","new_decoder_architecture":true,"num_attention_heads":128,"num_hidden_layers":60,"num_kv_heads":8,"parallel_attn":true,"torch_dtype":"bfloat16","transformers_version":"4.27.4","use_cache":true,"vocab_size":65024})"},
        {"mosaicml/mpt-7b",
         R"({"architectures":["MPTForCausalLM"],"attn_config":{"alibi":true,"alibi_bias_max":8,"attn_impl":"torch","attn_pdrop":0,"attn_type":"multihead_attention","attn_uses_sequence_id":false,"clip_qkv":null,"prefix_lm":false,"qk_ln":false,"softmax_scale":null},"d_model":4096,"emb_pdrop":0,"embedding_fraction":1.0,"expansion_ratio":4,"learned_pos_emb":true,"logit_scale":null,"max_seq_len":2048,"model_type":"mpt","n_heads":32,"n_layers":32,"no_bias":true,"norm_type":"low_precision_layernorm","resid_pdrop":0,"tokenizer_name":"EleutherAI/gpt-neox-20b","torch_dtype":"bfloat16","transformers_version":"4.28.1","use_cache":false,"verbose":0,"vocab_size":50432})"},
        {"EleutherAI/pythia-1b",
         R"({"architectures":["GPTNeoXForCausalLM"],"bos_token_id":0,"eos_token_id":0,"hidden_act":"gelu","hidden_size":2048,"initializer_range":0.02,"intermediate_size":8192,"layer_norm_eps":1e-05,"max_position_embeddings":2048,"model_type":"gpt_neox","num_attention_heads":8,"num_hidden_layers":16,"rotary_emb_base":10000,"rotary_pct":0.25,"tie_word_embeddings":false,"torch_dtype":"float16","transformers_version":"4.24.0","use_cache":true,"use_parallel_residual":true,"vocab_size":50304})"},
        {"microsoft/phi-2",
         R"({"architectures":["PhiForCausalLM"],"attention_dropout":0.0,"bos_token_id":50256,"embd_pdrop":0.0,"eos_token_id":50256,"hidden_act":"gelu_new","hidden_size":2560,"initializer_range":0.02,"intermediate_size":10240,"layer_norm_eps":1e-05,"max_position_embeddings":2048,"model_type":"phi","num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,"partial_rotary_factor":0.4,"qk_layernorm":false,"resid_pdrop":0.1,"rope_scaling":null,"rope_theta":10000.0,"tie_word_embeddings":false,"torch_dtype":"float16","transformers_version":"4.37.0","use_cache":true,"vocab_size":51200})"},
        {"microsoft/Phi-3.5-mini-instruct",
         R"({"architectures":["Phi3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"bos_token_id":1,"embd_pdrop":0.0,"eos_token_id":32000,"hidden_act":"silu","hidden_size":3072,"initializer_range":0.02,"intermediate_size":8192,"max_position_embeddings":131072,"model_type":"phi3","num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,"original_max_position_embeddings":4096,"pad_token_id":32000,"resid_pdrop":0.0,"rms_norm_eps":1e-05,"rope_scaling":{"long_factor":[1.08,1.1,1.13],"short_factor":[1.0,1.02,1.05],"type":"longrope"},"rope_theta":10000.0,"sliding_window":262144,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.43.3","use_cache":true,"vocab_size":32064})"},
        {"stabilityai/stablelm-3b-4e1t",
         R"({"architectures":["StableLmForCausalLM"],"bos_token_id":0,"eos_token_id":0,"hidden_act":"silu","hidden_dropout":0.0,"hidden_size":2560,"initializer_range":0.02,"intermediate_size":6912,"layer_norm_eps":1e-05,"max_position_embeddings":4096,"model_type":"stablelm","num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,"partial_rotary_factor":0.25,"qk_layernorm":false,"rope_scaling":null,"rope_theta":10000,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.38.0","use_cache":true,"use_parallel_residual":false,"use_qkv_bias":false,"vocab_size":50304})"},
        {"google/gemma-2-9b",
         R"({"architectures":["Gemma2ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"attn_logit_softcapping":50.0,"bos_token_id":2,"cache_implementation":"hybrid","eos_token_id":1,"final_logit_softcapping":30.0,"head_dim":256,"hidden_act":"gelu_pytorch_tanh","hidden_activation":"gelu_pytorch_tanh","hidden_size":3584,"initializer_range":0.02,"intermediate_size":14336,"max_position_embeddings":8192,"model_type":"gemma2","num_attention_heads":16,"num_hidden_layers":42,"num_key_value_heads":8,"pad_token_id":0,"query_pre_attn_scalar":256,"rms_norm_eps":1e-06,"rope_theta":10000.0,"sliding_window":4096,"sliding_window_size":4096,"torch_dtype":"bfloat16","transformers_version":"4.42.0.dev0","use_cache":true,"vocab_size":256000})"},
        // A nested text_config written as a diff against Gemma3TextConfig: num_attention_heads 8,
        // num_key_value_heads 4, head_dim 256, vocab_size 262208 and sliding_window_pattern 6 come
        // from the class defaults.
        {"google/gemma-3-4b-pt",
         R"({"architectures":["Gemma3ForConditionalGeneration"],"boi_token_index":255999,"eoi_token_index":256000,"eos_token_id":[1,106],"image_token_index":262144,"initializer_range":0.02,"mm_tokens_per_image":256,"model_type":"gemma3","text_config":{"hidden_size":2560,"intermediate_size":10240,"model_type":"gemma3_text","num_hidden_layers":34,"sliding_window":1024},"torch_dtype":"bfloat16","transformers_version":"4.50.0.dev0"})"},
        {"deepseek-ai/DeepSeek-V3",
         R"({"architectures":["DeepseekV3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"aux_loss_alpha":0.001,"bos_token_id":0,"eos_token_id":1,"ep_size":1,"first_k_dense_replace":3,"hidden_act":"silu","hidden_size":7168,"initializer_range":0.02,"intermediate_size":18432,"kv_lora_rank":512,"max_position_embeddings":163840,"model_type":"deepseek_v3","moe_intermediate_size":2048,"moe_layer_freq":1,"n_group":8,"n_routed_experts":256,"n_shared_experts":1,"norm_topk_prob":true,"num_attention_heads":128,"num_experts_per_tok":8,"num_hidden_layers":61,"num_key_value_heads":128,"num_nextn_predict_layers":1,"pretraining_tp":1,"q_lora_rank":1536,"qk_nope_head_dim":128,"qk_rope_head_dim":64,"quantization_config":{"activation_scheme":"dynamic","fmt":"e4m3","quant_method":"fp8","weight_block_size":[128,128]},"rms_norm_eps":1e-06,"rope_scaling":{"beta_fast":32,"beta_slow":1,"factor":40,"mscale":1.0,"mscale_all_dim":1.0,"original_max_position_embeddings":4096,"type":"yarn"},"rope_theta":10000,"routed_scaling_factor":2.5,"scoring_func":"sigmoid","seq_aux":true,"tie_word_embeddings":false,"topk_group":4,"topk_method":"noaux_tc","torch_dtype":"bfloat16","transformers_version":"4.33.1","use_cache":true,"v_head_dim":128,"vocab_size":129280})"},
        {"openai/gpt-oss-20b",
         R"({"architectures":["GptOssForCausalLM"],"attention_bias":true,"attention_dropout":0.0,"eos_token_id":200002,"experts_per_token":4,"head_dim":64,"hidden_act":"silu","hidden_size":2880,"initial_context_length":4096,"initializer_range":0.02,"intermediate_size":2880,"layer_types":["sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention"],"max_position_embeddings":131072,"model_type":"gpt_oss","num_attention_heads":64,"num_experts_per_tok":4,"num_hidden_layers":24,"num_key_value_heads":8,"num_local_experts":32,"output_router_logits":false,"pad_token_id":199999,"quantization_config":{"modules_to_not_convert":["model.layers.*.self_attn","model.layers.*.mlp.router","model.embed_tokens","lm_head"],"quant_method":"mxfp4"},"rms_norm_eps":1e-05,"rope_scaling":{"beta_fast":32.0,"beta_slow":1.0,"factor":32.0,"original_max_position_embeddings":4096,"rope_type":"yarn","truncate":false},"rope_theta":150000,"router_aux_loss_coef":0.9,"sliding_window":128,"swiglu_limit":7.0,"tie_word_embeddings":false,"transformers_version":"4.55.0.dev0","use_cache":true,"vocab_size":201088})"},
        {"Qwen/Qwen3-30B-A3B",
         R"({"architectures":["Qwen3MoeForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"bos_token_id":151643,"decoder_sparse_step":1,"eos_token_id":151645,"head_dim":128,"hidden_act":"silu","hidden_size":2048,"initializer_range":0.02,"intermediate_size":6144,"max_position_embeddings":40960,"max_window_layers":48,"mlp_only_layers":[],"model_type":"qwen3_moe","moe_intermediate_size":768,"norm_topk_prob":true,"num_attention_heads":32,"num_experts":128,"num_experts_per_tok":8,"num_hidden_layers":48,"num_key_value_heads":4,"output_router_logits":false,"rms_norm_eps":1e-06,"rope_scaling":null,"rope_theta":1000000.0,"router_aux_loss_coef":0.001,"sliding_window":null,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.51.0","use_cache":true,"use_sliding_window":false,"vocab_size":151936})"},
        {"Qwen/Qwen1.5-MoE-A2.7B",
         R"({"architectures":["Qwen2MoeForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,"decoder_sparse_step":1,"eos_token_id":151643,"hidden_act":"silu","hidden_size":2048,"initializer_range":0.02,"intermediate_size":5632,"max_position_embeddings":32768,"max_window_layers":21,"model_type":"qwen2_moe","moe_intermediate_size":1408,"norm_topk_prob":false,"num_attention_heads":16,"num_experts":60,"num_experts_per_tok":4,"num_hidden_layers":24,"num_key_value_heads":16,"output_router_logits":false,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"router_aux_loss_coef":0.001,"shared_expert_intermediate_size":5632,"sliding_window":32768,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.39.0.dev0","use_cache":true,"use_sliding_window":false,"vocab_size":151936})"},
        {"meta-llama/Llama-4-Scout-17B-16E-Instruct",
         R"({"architectures":["Llama4ForConditionalGeneration"],"boi_token_index":200080,"eoi_token_index":200081,"image_token_index":200092,"model_type":"llama4","text_config":{"attention_bias":false,"attention_chunk_size":8192,"attention_dropout":0.0,"bos_token_id":200000,"eos_token_id":[200001,200007,200008],"head_dim":128,"hidden_act":"silu","hidden_size":5120,"initializer_range":0.02,"interleave_moe_layer_step":1,"intermediate_size":8192,"intermediate_size_mlp":16384,"max_position_embeddings":10485760,"model_type":"llama4_text","no_rope_layers":[],"num_attention_heads":40,"num_experts_per_tok":1,"num_hidden_layers":48,"num_key_value_heads":8,"num_local_experts":16,"output_router_logits":false,"pad_token_id":200018,"rms_norm_eps":1e-05,"rope_scaling":{"factor":16.0,"high_freq_factor":1.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},"rope_theta":500000.0,"router_aux_loss_coef":0.001,"torch_dtype":"bfloat16","use_cache":true,"use_qk_norm":true,"vocab_size":202048},"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.51.0.dev0"})"},
};

class RealConfig : public ::testing::TestWithParam<real_case> {};

TEST_P(RealConfig, GivesTheDatabaseArchitecture) {
  const auto& c = GetParam();
  const model_arch mine = convert(json::parse(c.config));
  model_arch db = arch_of(c.id);
  db.vision.reset();  // the database's vision towers hold more than these configs state
  const json a = to_json(mine);
  const json b = to_json(db);
  // Every value the database states must match; where it is silent (rope scaling that does not
  // change the length, the dtype, a class-default length), the config may say more.
  for (auto it = b.begin(); it != b.end(); ++it) {
    if (it.key() == "vision") continue;
    EXPECT_EQ(a.value(it.key(), json()), it.value()) << c.id << ": " << it.key();
  }
  auto p1 = count_parameters(mine);
  auto p2 = count_parameters(db);
  ASSERT_TRUE(p1 && p2);
  EXPECT_EQ(p1->total, p2->total) << c.id;
  EXPECT_EQ(p1->active, p2->active) << c.id;
  EXPECT_EQ(
      mine.derived_max_model_len() > 0 ? mine.derived_max_model_len() : 0,
      db.max_position_embeddings > 0 ? db.derived_max_model_len() : mine.derived_max_model_len())
      << c.id;
  EXPECT_EQ(mine.kv_heads_per_rank(1) * mine.kv_head_size() * mine.kv_entries_per_head(),
            db.kv_heads_per_rank(1) * db.kv_head_size() * db.kv_entries_per_head())
      << c.id;
  EXPECT_EQ(mine.num_sliding_layers(), db.num_sliding_layers()) << c.id;
  EXPECT_EQ(mine.quantization.method, db.quantization.method) << c.id;
}

INSTANTIATE_TEST_SUITE_P(Published, RealConfig, ::testing::ValuesIn(kRealConfigs));

TEST(HfConfig, StableLmCountIsThePublishedExactFigure) {
  const model_arch a = convert(json::parse(kRealConfigs[10].config));
  auto p = count_parameters(a);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->total, 2795443200ULL);
}

TEST(HfConfig, GemmaThreeNestedConfigTakesClassDefaults) {
  auto c = convert_hf_config(json::parse(kRealConfigs[12].config), "hf_config.");
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->model_type, "gemma3_text");
  EXPECT_EQ(c->canonical["multimodal_model_type"], "gemma3");
  EXPECT_EQ(c->canonical["num_heads"], 8);
  EXPECT_EQ(c->canonical["num_kv_heads"], 4);
  EXPECT_EQ(c->canonical["head_dim"], 256);
  EXPECT_EQ(c->canonical["vocab_size"], 262208);
  EXPECT_EQ(c->canonical["sliding_window_pattern"], 6);
  EXPECT_EQ(c->canonical["tie_word_embeddings"], true);
  EXPECT_EQ(c->canonical["torch_dtype"], "bfloat16");  // from the outer config
}

TEST(HfConfig, LlavaTextConfigIsADiffAgainstLlamaConfig) {
  // llava-1.5-7b: the text_config states only what differs from LlamaConfig's defaults.
  const model_arch a = convert(json::parse(
      R"({"architectures":["LlavaForConditionalGeneration"],"image_token_index":32000,"model_type":"llava","pad_token_id":32001,"projector_hidden_act":"gelu","text_config":{"_name_or_path":"lmsys/vicuna-7b-v1.5","architectures":["LlamaForCausalLM"],"max_position_embeddings":4096,"model_type":"llama","rms_norm_eps":1e-05,"torch_dtype":"float16","vocab_size":32064},"tie_word_embeddings":false,"torch_dtype":"float16","transformers_version":"4.36.0.dev0","vision_config":{"hidden_size":1024,"image_size":336,"intermediate_size":4096,"model_type":"clip_vision_model","num_attention_heads":16,"num_hidden_layers":24,"patch_size":14,"projection_dim":768,"vocab_size":32000},"vision_feature_layer":-2,"vocab_size":32064})"));
  EXPECT_EQ(a.model_type, "llama");
  EXPECT_EQ(a.multimodal_model_type, "llava");
  EXPECT_EQ(a.num_layers, 32U);
  EXPECT_EQ(a.hidden_size, 4096U);
  EXPECT_EQ(a.intermediate_size, 11008U);
  EXPECT_EQ(a.num_kv_heads, 32U);
  EXPECT_EQ(a.vocab_size, 32064U);
  EXPECT_EQ(a.max_position_embeddings, 4096U);
  EXPECT_FALSE(a.tie_word_embeddings);
  ASSERT_TRUE(a.vision);
  EXPECT_EQ(a.vision->num_layers, 24U);
}

TEST(HfConfig, VisionConfigBecomesTheVisionObject) {
  json cfg = json::parse(kRealConfigs[12].config);
  cfg["vision_config"] = {{"hidden_size", 1152},       {"image_size", 896},
                          {"intermediate_size", 4304}, {"model_type", "siglip_vision_model"},
                          {"num_attention_heads", 16}, {"num_hidden_layers", 27},
                          {"patch_size", 14}};
  const model_arch a = convert(cfg);
  ASSERT_TRUE(a.vision);
  EXPECT_EQ(a.vision->num_layers, 27U);
  EXPECT_EQ(a.vision->hidden_size, 1152U);
  EXPECT_EQ(a.vision->intermediate_size, 4304U);
  EXPECT_EQ(a.vision->patch_size, 14U);
  EXPECT_EQ(a.vision->type, "siglip_vision_model");
  // Qwen2-VL's tower is embed_dim wide and its FFN mlp_ratio x embed_dim.
  json qvl = json::parse(kRealConfigs[1].config);
  qvl["model_type"] = "qwen2_vl";
  qvl["vision_config"] = {{"depth", 32},     {"embed_dim", 1280},   {"mlp_ratio", 4},
                          {"num_heads", 16}, {"hidden_size", 3584}, {"patch_size", 14}};
  const model_arch q = convert(qvl);
  ASSERT_TRUE(q.vision);
  EXPECT_EQ(q.vision->hidden_size, 1280U);
  EXPECT_EQ(q.vision->intermediate_size, 5120U);
  EXPECT_EQ(q.vision->num_layers, 32U);
  EXPECT_EQ(q.multimodal_model_type, "qwen2_vl");
  EXPECT_TRUE(q.qkv_bias);
}

TEST(HfConfig, FalconMultiQueryIgnoresAResavedKvHeadCount) {
  // falcon-7b re-saved by newer transformers carries num_kv_heads 71; multi_query wins.
  const model_arch a = convert(json::parse(kRealConfigs[4].config));
  EXPECT_EQ(a.num_kv_heads, 1U);
  EXPECT_TRUE(a.tie_word_embeddings);  // FalconConfig keeps PretrainedConfig's default
  EXPECT_EQ(a.intermediate_size, 4U * 4544);
  EXPECT_EQ(a.max_position_embeddings, 2048U);  // FalconConfig default
  // The old RefinedWeb config of Falcon-40B: the new decoder architecture, n_head_kv.
  const model_arch rw = convert({{"model_type", "RefinedWeb"},
                                 {"hidden_size", 8192},
                                 {"n_head", 128},
                                 {"n_head_kv", 8},
                                 {"n_layer", 60},
                                 {"vocab_size", 65024},
                                 {"parallel_attn", true},
                                 {"bias", false}});
  EXPECT_EQ(rw.model_type, "falcon");
  EXPECT_TRUE(rw.new_decoder_architecture);
  EXPECT_EQ(rw.num_kv_heads, 8U);
  EXPECT_EQ(convert_error({{"model_type", "falcon"},
                           {"hidden_size", 64},
                           {"num_attention_heads", 4},
                           {"num_hidden_layers", 2},
                           {"vocab_size", 100},
                           {"new_decoder_architecture", true}})
                .field,
            "hf_config.num_kv_heads");
}

TEST(HfConfig, MptReadsAttnConfigKvHeads) {
  json cfg = json::parse(kRealConfigs[6].config);
  cfg["attn_config"]["kv_n_heads"] = 8;
  const model_arch a = convert(cfg);
  EXPECT_EQ(a.num_kv_heads, 8U);
  EXPECT_EQ(a.intermediate_size, 4U * 4096);
  EXPECT_TRUE(a.tie_word_embeddings);
  EXPECT_FALSE(a.attention_bias);  // no_bias
}

TEST(HfConfig, RopeScalingSetsTheDefaultMaxModelLen) {
  json cfg = tiny_qwen2_config();
  cfg["max_position_embeddings"] = 32768;
  cfg["rope_scaling"] = {
      {"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32768}};
  EXPECT_EQ(convert(cfg).derived_max_model_len(), 131072U);
  cfg["rope_scaling"] = {
      {"rope_type", "llama3"}, {"factor", 8.0}, {"original_max_position_embeddings", 8192}};
  EXPECT_EQ(convert(cfg).derived_max_model_len(), 32768U);  // llama3: already the scaled length
  cfg["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  EXPECT_EQ(convert(cfg).derived_max_model_len(), 65536U);
  // transformers 5 writes rope_parameters.
  cfg.erase("rope_scaling");
  cfg["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 10000.0}};
  EXPECT_EQ(convert(cfg).derived_max_model_len(), 131072U);
  // vLLM takes the minimum over the length keys; model_max_length overrides.
  cfg.erase("rope_parameters");
  cfg["seq_length"] = 4096;
  EXPECT_EQ(convert(cfg).max_position_embeddings, 4096U);
  cfg["model_max_length"] = 65536;
  EXPECT_EQ(convert(cfg).max_position_embeddings, 65536U);
}

TEST(HfConfig, LlamaDefaultsFillSecondaryKeys) {
  const model_arch a = convert({{"model_type", "llama"},
                                {"hidden_size", 2048},
                                {"intermediate_size", 5632},
                                {"num_hidden_layers", 22},
                                {"num_attention_heads", 32},
                                {"vocab_size", 32000}});
  EXPECT_EQ(a.num_kv_heads, 32U);               // num_key_value_heads None -> heads
  EXPECT_EQ(a.head_dim, 64U);                   // hidden // heads
  EXPECT_EQ(a.max_position_embeddings, 2048U);  // LlamaConfig default
  EXPECT_FALSE(a.tie_word_embeddings);          // LlamaConfig overrides PretrainedConfig
}

TEST(HfConfig, SlidingWindowLayouts) {
  // Mistral v0.1: every layer slides.
  const model_arch m = convert(json::parse(kRealConfigs[3].config));
  EXPECT_EQ(m.sliding_window, 4096U);
  EXPECT_EQ(m.num_sliding_layers(), 32U);
  // layer_types with every third layer full.
  json cfg = tiny_qwen2_config();
  cfg["model_type"] = "cohere2";
  cfg["num_hidden_layers"] = 6;
  cfg["sliding_window"] = 512;
  cfg["layer_types"] = {"sliding_attention", "sliding_attention", "full_attention",
                        "sliding_attention", "sliding_attention", "full_attention"};
  cfg.erase("use_sliding_window");
  const model_arch c = convert(cfg);
  EXPECT_EQ(c.sliding_window_pattern, 3U);
  EXPECT_EQ(c.num_sliding_layers(), 4U);
  // An irregular layout is reported, not approximated.
  cfg["layer_types"][1] = "full_attention";
  const error e = convert_error(cfg);
  EXPECT_EQ(e.code, error_code::unsupported);
  EXPECT_EQ(e.field, "hf_config.layer_types");
  cfg["layer_types"] = {"full_attention"};
  EXPECT_EQ(convert_error(cfg).field, "hf_config.layer_types");
  // Qwen with use_sliding_window on from layer 2 of 4: not expressible.
  json q = tiny_qwen2_config();
  q["use_sliding_window"] = true;
  q["max_window_layers"] = 2;
  EXPECT_EQ(convert_error(q).field, "hf_config.max_window_layers");
  q["max_window_layers"] = 0;
  EXPECT_EQ(convert(q).num_sliding_layers(), 4U);
}

TEST(HfConfig, QwenMoeDenseLeadingLayers) {
  json cfg = json::parse(kRealConfigs[15].config);
  cfg["mlp_only_layers"] = {0, 1};
  const model_arch a = convert(cfg);
  EXPECT_EQ(a.first_k_dense_replace, 2U);
  EXPECT_FALSE(a.is_moe_layer(1));
  EXPECT_TRUE(a.is_moe_layer(2));
  cfg["mlp_only_layers"] = {3};
  EXPECT_EQ(convert_error(cfg).code, error_code::unsupported);
}

TEST(HfConfig, GenericFallbackNeedsEverySize) {
  json cfg{{"model_type", "brand_new_arch"},
           {"n_embd", 512},
           {"n_head", 8},
           {"n_layer", 4},
           {"vocab_size", 1000},
           {"n_inner", 2048}};
  const model_arch a = convert(cfg);
  EXPECT_EQ(a.hidden_size, 512U);
  EXPECT_EQ(a.num_layers, 4U);
  EXPECT_EQ(a.intermediate_size, 2048U);
  EXPECT_TRUE(a.tie_word_embeddings);  // PretrainedConfig's default
  // GPT-2: n_inner None means 4 x n_embd; learned positions n_positions.
  const model_arch g = convert({{"model_type", "gpt2"},
                                {"n_embd", 768},
                                {"n_head", 12},
                                {"n_layer", 12},
                                {"n_inner", nullptr},
                                {"n_positions", 1024},
                                {"vocab_size", 50257}});
  EXPECT_EQ(g.intermediate_size, 4U * 768);
  EXPECT_EQ(g.max_position_embeddings, 1024U);
  EXPECT_EQ(g.mlp, mlp_kind::plain);
  cfg.erase("n_layer");
  const error e = convert_error(cfg);
  EXPECT_EQ(e.field, "hf_config.num_hidden_layers");
  EXPECT_NE(e.message.find("no known defaults"), std::string::npos) << e.message;
}

TEST(HfConfig, BrokenConfigsNameTheField) {
  json cfg = tiny_qwen2_config();
  cfg.erase("num_hidden_layers");
  EXPECT_EQ(convert_error(cfg).field, "hf_config.num_hidden_layers");  // required at top level
  cfg = tiny_qwen2_config();
  cfg["hidden_size"] = "1024";
  const error t = convert_error(cfg);
  EXPECT_EQ(t.field, "hf_config.hidden_size");
  EXPECT_NE(t.message.find("integer"), std::string::npos);
  cfg = tiny_qwen2_config();
  cfg["num_attention_heads"] = 10;  // 1024 / 10 is no whole head size
  EXPECT_EQ(convert_error(cfg).field, "hf_config.head_dim");
  cfg = tiny_qwen2_config();
  cfg.erase("model_type");
  EXPECT_EQ(convert_error(cfg).field, "hf_config.model_type");
  cfg = tiny_qwen2_config();
  cfg["num_hidden_layers"] = 100000;
  EXPECT_EQ(convert_error(cfg).field, "hf_config.num_hidden_layers");
  json moe = json::parse(kRealConfigs[2].config);
  moe["num_experts_per_tok"] = 9;
  EXPECT_EQ(convert_error(moe).field, "hf_config.num_experts_per_tok");
  json nested = json::parse(kRealConfigs[12].config);
  nested["text_config"]["num_key_value_heads"] = 3;
  EXPECT_EQ(convert_error(nested).field, "hf_config.text_config.num_key_value_heads");
  EXPECT_EQ(convert_error(json::array()).field, "hf_config");
  // The decoder reports it too.
  const error r = run_error({{"model_name", "x/y"}, {"max_seq_len", 10}, {"hf_config", "llama"}});
  EXPECT_EQ(r.field, "hf_config");
}

// ---------------------------------------------------------------------------------------------
// quantization_config

quant_spec quant_of(const json& qc) {
  json cfg = tiny_qwen2_config();
  cfg["quantization_config"] = qc;
  return convert(cfg).quantization;
}

TEST(HfConfig, QuantizationConfigs) {
  auto awq = quant_of({{"quant_method", "awq"},
                       {"bits", 4},
                       {"group_size", 64},
                       {"version", "gemm"},
                       {"zero_point", true}});
  EXPECT_EQ(awq.method, quant_method::awq);
  EXPECT_EQ(awq.group_size, 64U);
  auto gptq = quant_of({{"quant_method", "gptq"},
                        {"bits", 8},
                        {"group_size", -1},
                        {"desc_act", true},
                        {"sym", true}});
  EXPECT_EQ(gptq.method, quant_method::gptq);
  EXPECT_EQ(gptq.bits, 8U);
  EXPECT_EQ(gptq.group_size, 0U);
  EXPECT_TRUE(gptq.desc_act);
  auto fp8 = quant_of({{"quant_method", "fp8"},
                       {"activation_scheme", "dynamic"},
                       {"weight_block_size", {128, 64}}});
  EXPECT_EQ(fp8.method, quant_method::fp8_block);
  EXPECT_EQ(fp8.block_n, 128U);
  EXPECT_EQ(fp8.block_k, 64U);
  EXPECT_EQ(quant_of({{"quant_method", "fp8"}}).method, quant_method::fp8);
  auto ct = [](json weights) {
    return json{{"quant_method", "compressed-tensors"},
                {"format", "pack-quantized"},
                {"ignore", {"lm_head"}},
                {"config_groups",
                 {{"group_0", {{"targets", {"Linear"}}, {"weights", std::move(weights)}}}}}};
  };
  auto w4 = quant_of(ct({{"num_bits", 4},
                         {"type", "int"},
                         {"strategy", "group"},
                         {"group_size", 128},
                         {"symmetric", true}}));
  EXPECT_EQ(w4.method, quant_method::w4a16);
  EXPECT_EQ(w4.group_size, 128U);
  EXPECT_EQ(quant_of(ct({{"num_bits", 8}, {"type", "float"}, {"strategy", "channel"}})).method,
            quant_method::fp8);
  EXPECT_EQ(quant_of(ct({{"num_bits", 8}, {"type", "int"}, {"strategy", "channel"}})).method,
            quant_method::int8);
  EXPECT_EQ(quant_of(ct({{"num_bits", 4},
                         {"type", "float"},
                         {"strategy", "tensor_group"},
                         {"group_size", 16}}))
                .method,
            quant_method::nvfp4);
  auto bnb = quant_of({{"quant_method", "bitsandbytes"},
                       {"load_in_4bit", true},
                       {"bnb_4bit_quant_type", "nf4"},
                       {"bnb_4bit_use_double_quant", true}});
  EXPECT_EQ(bnb.method, quant_method::bitsandbytes);
  EXPECT_EQ(bnb.bits, 4U);
  EXPECT_TRUE(bnb.double_quant);
  EXPECT_FALSE(quant_of({{"quant_method", "bitsandbytes"}, {"load_in_4bit", true}}).double_quant);
  EXPECT_EQ(quant_of({{"quant_method", "bitsandbytes"}, {"load_in_8bit", true}}).bits, 8U);
  auto mx = quant_of({{"quant_method", "mxfp4"}});
  EXPECT_EQ(mx.method, quant_method::mxfp4);
  EXPECT_TRUE(mx.experts_only);
  EXPECT_EQ(quant_of({{"quant_method", "modelopt"}, {"quant_algo", "NVFP4"}}).method,
            quant_method::nvfp4);
  EXPECT_EQ(quant_of({{"quant_method", "modelopt"}, {"quant_algo", "FP8"}}).method,
            quant_method::fp8);
}

TEST(HfConfig, QuantizationErrorsNameTheField) {
  json cfg = tiny_qwen2_config();
  cfg["quantization_config"] = {{"quant_method", "hqq"}};
  error e = convert_error(cfg);
  EXPECT_EQ(e.code, error_code::unsupported);
  EXPECT_EQ(e.field, "hf_config.quantization_config.quant_method");
  cfg["quantization_config"] = {{"bits", 4}};
  EXPECT_EQ(convert_error(cfg).field, "hf_config.quantization_config.quant_method");
  cfg["quantization_config"] = {{"quant_method", "bitsandbytes"}};
  EXPECT_EQ(convert_error(cfg).field, "hf_config.quantization_config.load_in_4bit");
  cfg["quantization_config"] = {{"quant_method", "compressed-tensors"},
                                {"config_groups",
                                 {{"a", {{"weights", {{"num_bits", 4}, {"type", "int"}}}}},
                                  {"b", {{"weights", {{"num_bits", 8}, {"type", "float"}}}}}}}};
  e = convert_error(cfg);
  EXPECT_EQ(e.code, error_code::unsupported);
  EXPECT_EQ(e.field, "hf_config.quantization_config.config_groups");
}

TEST(HfConfig, CheckpointQuantizationSetsTheWeights) {
  // An AWQ checkpoint holds about a quarter of the float16 bytes in its linear layers.
  json cfg = tiny_qwen2_config();
  cfg["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4}, {"group_size", 128}};
  const auto q =
      run({{"model_name", "acme/tiny-qwen-awq"}, {"max_seq_len", 2048}, {"hf_config", cfg}});
  const auto f = run({{"model_name", "acme/tiny-qwen"},
                      {"max_seq_len", 2048},
                      {"hf_config", tiny_qwen2_config()}});
  EXPECT_LT(q.bytes.model_params, f.bytes.model_params);
  EXPECT_EQ(q.model.arch.quantization.method, quant_method::awq);
}

}  // namespace
}  // namespace vllm_mem::testing
