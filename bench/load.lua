-- load.lua — the wrk script of `make bench`: every connection cycles through pre-formatted
-- requests, so the client spends the same (small) effort per request on both servers.
--   wrk ... -s load.lua URL -- estimate         POST /estimate-gpu-memory, varied bodies
--   wrk ... -s load.lua URL -- static /file     GET of one static file (the nginx ceiling)
-- The estimate bodies follow the seed's example request and vary the model, the context length
-- and the batch size (and whether a GPU is given), so a response cache cannot stand in for the
-- calculation. `done` prints one machine-readable RESULT line for bench/run.sh.

local reqs = {}
local next_req = 1

local models = {
  "meta-llama/Llama-2-7b", "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct",
  "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen3-30B-A3B", "mistralai/Mixtral-8x7B-v0.1",
  "google/gemma-2-9b", "deepseek-ai/DeepSeek-V3", "openai/gpt-oss-20b", "microsoft/phi-4",
  "tiiuae/falcon-7b", "mistralai/Mistral-7B-v0.3",
}
local contexts = { 2048, 4096, 8192, 32768 }
local batches = { 1, 8, 32, 64 }
local gpus = { "", ',"gpu":"H100-80GB"', ',"gpu":"A100-40GB"', ',"gpu":"L4"' }

local function estimate_body(k)
  local m = models[(k % #models) + 1]
  local ctx = contexts[math.floor(k / #models) % #contexts + 1]
  local batch = batches[math.floor(k / (#models * #contexts)) % #batches + 1]
  local gpu = gpus[(k * 7) % #gpus + 1]
  local arch = ""
  if m == "meta-llama/Llama-2-7b" then
    -- the seed's example: an architecture given in the request
    arch = ',"architecture":{"num_layers":32,"hidden_size":4096,"num_heads":32,"head_dim":128,' ..
           '"intermediate_size":11008}'
  end
  return string.format('{"model_name":"%s","max_seq_len":%d,"dtype":"float16","max_batch_size":%d,' ..
                       '"gpu_memory_utilization":0.9,"quantization":null,"params_billions":null%s%s}',
                       m, ctx, batch, gpu, arch)
end

function init(args)
  local mode = args[1] or "estimate"
  if mode == "static" then
    for k = 1, 64 do reqs[k] = wrk.format("GET", args[2] or "/estimate.json") end
  else
    local headers = { ["Content-Type"] = "application/json" }
    for k = 0, #models * #contexts * #batches - 1 do
      reqs[#reqs + 1] = wrk.format("POST", "/estimate-gpu-memory", headers, estimate_body(k))
    end
  end
  -- Start each thread at a different place in the cycle (each thread has its own Lua state,
  -- so a fresh table's address differs between threads).
  local addr = tonumber(tostring({}):match("0x(%x+)") or "0", 16) or 0
  next_req = addr % #reqs + 1
end

function request()
  local r = reqs[next_req]
  next_req = next_req % #reqs + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d connect_errors=%d read_errors=%d " ..
    "write_errors=%d status_errors=%d timeouts=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
