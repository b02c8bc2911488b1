// core_bench.cpp — microbenchmarks of the pure core, the pieces one request goes through:
// decode (JSON text -> estimate_request), estimate (one database model), encode (result -> JSON
// text), the whole POST /estimate-gpu-memory route without sockets, a planner search over the
// GPU catalog and a context sweep. Inputs are built once; each iteration does the work a request
// does. `make bench` runs this with --benchmark_format=json and reports the means.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "router.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/api/plan_json.hpp"
#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/catalogs.hpp"
#include "vllm_mem/util/json_limits.hpp"

namespace {

using namespace vllm_mem;
using json = nlohmann::json;

// The seed's example request (docs: POST /estimate-gpu-memory), and a database model on a GPU.
constexpr const char* kSeedBody =
    R"({"model_name": "meta-llama/Llama-2-7b", "max_seq_len": 2048, "dtype": "float16", )"
    R"("max_batch_size": 32, "gpu_memory_utilization": 0.9, "quantization": null, )"
    R"("params_billions": null, "architecture": {"num_layers": 32, "hidden_size": 4096, )"
    R"("num_heads": 32, "head_dim": 128, "intermediate_size": 11008}})";
constexpr const char* kGpuBody =
    R"({"model_name": "meta-llama/Llama-3.1-8B-Instruct", "max_seq_len": 8192, )"
    R"("max_batch_size": 64, "gpu": "H100-80GB"})";
constexpr const char* kPlanBody =
    R"({"model_name": "meta-llama/Llama-3.1-70B-Instruct", "max_model_len": 8192})";
constexpr const char* kSweepBody =
    R"({"model_name": "meta-llama/Llama-3.1-8B-Instruct", "max_model_len": 8192, )"
    R"("gpu": "H100-80GB"})";

const catalogs& cats() {
  static const catalogs c = [] {
    auto r = load_embedded_catalogs();
    if (!r) std::abort();
    return std::move(*r);
  }();
  return c;
}

template <class T>
T must(result<T> r) {
  if (!r) std::abort();
  return std::move(*r);
}

estimate_request request_of(const char* body) {
  return must(parse_estimate_request(must(parse_json_strict(body))));
}

void BM_DecodeRequest(benchmark::State& state, const char* body) {
  const std::string text = body;
  for (auto _ : state) {
    auto doc = parse_json_strict(text);
    auto req = parse_estimate_request(*doc);
    benchmark::DoNotOptimize(req);
  }
}
BENCHMARK_CAPTURE(BM_DecodeRequest, seed_example, kSeedBody);
BENCHMARK_CAPTURE(BM_DecodeRequest, db_model_gpu, kGpuBody);

void BM_Estimate(benchmark::State& state, const char* body) {
  const estimate_request req = request_of(body);
  const catalogs& c = cats();
  for (auto _ : state) {
    auto est = estimate(req, c.models, c.gpus);
    benchmark::DoNotOptimize(est);
  }
}
BENCHMARK_CAPTURE(BM_Estimate, seed_example, kSeedBody);
BENCHMARK_CAPTURE(BM_Estimate, db_model_gpu, kGpuBody);

void BM_EncodeResponse(benchmark::State& state, const char* body) {
  const catalogs& c = cats();
  const estimate_result est = must(estimate(request_of(body), c.models, c.gpus));
  std::string out;
  for (auto _ : state) {
    out.clear();
    append_json(out, est);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK_CAPTURE(BM_EncodeResponse, seed_example, kSeedBody);
BENCHMARK_CAPTURE(BM_EncodeResponse, db_model_gpu, kGpuBody);

// Decode + estimate + encode, as the server's router does it (no sockets).
void BM_Route(benchmark::State& state, const char* body) {
  const http::router router(cats());
  const std::string text = body;
  const http::request req{"POST", "/estimate-gpu-memory", text, "application/json", ""};
  http::response out;
  for (auto _ : state) {
    router.handle(req, out);
    benchmark::DoNotOptimize(out.body.data());
  }
  if (out.status != 200) state.SkipWithError("the route did not answer 200");
}
BENCHMARK_CAPTURE(BM_Route, seed_example, kSeedBody);
BENCHMARK_CAPTURE(BM_Route, db_model_gpu, kGpuBody);

// Every GPU of the catalog, every GPU count and parallel layout the planner tries.
void BM_PlanSearch(benchmark::State& state) {
  const catalogs& c = cats();
  const plan_request req = must(parse_plan_request(json::parse(kPlanBody), c.gpus));
  std::size_t options = 0;
  for (auto _ : state) {
    auto p = plan(req, c.models, c.gpus);
    options = p ? p->options.size() : 0;
    benchmark::DoNotOptimize(p);
  }
  state.counters["options"] = static_cast<double>(options);
}
BENCHMARK(BM_PlanSearch)->Unit(benchmark::kMicrosecond);

// Estimates over the default context lengths (powers of two up to the model's maximum) and
// batch sizes, with the solved boundaries.
void BM_ContextSweep(benchmark::State& state) {
  const catalogs& c = cats();
  const sweep_request req = must(parse_sweep_request(json::parse(kSweepBody), c.gpus));
  std::size_t points = 0;
  for (auto _ : state) {
    auto s = sweep(req, c.models, c.gpus);
    points = s ? s->context.size() + s->batch.size() : 0;
    benchmark::DoNotOptimize(s);
  }
  state.counters["points"] = static_cast<double>(points);
}
BENCHMARK(BM_ContextSweep)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
