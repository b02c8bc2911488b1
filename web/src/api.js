// api.js — every call the page makes to the server, and nothing else. Endpoint names live
// here only. All URLs are relative: the page talks to the origin that served it.

const ENDPOINTS = {
  root: '/',
  estimate: '/estimate-gpu-memory',
  models: '/known-architectures',
  gpus: '/gpus',
  plan: '/plan',
  sweep: '/sweep',
};

// Answers the parsed JSON, or throws an Error carrying the API's {"detail", "field"}.
async function call(path, body) {
  const init = body === undefined
    ? { headers: { Accept: 'application/json' } }
    : { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const json = await res.json().catch(() => ({ detail: `HTTP ${res.status}` }));
  if (!res.ok) throw Object.assign(new Error(json.detail || `HTTP ${res.status}`), { field: json.field });
  return json;
}

export const rootInfo = () => call(ENDPOINTS.root);
export const gpus = () => call(ENDPOINTS.gpus).then((r) => r.gpus);
export const searchModels = (q) => call(`${ENDPOINTS.models}?q=${encodeURIComponent(q)}`);
export const estimate = (body) => call(ENDPOINTS.estimate, body);
// The planner's ranked options: {"options": [...], "summary", "suggestions", ...}.
export const plan = (body) => call(ENDPOINTS.plan, body);

// One /sweep call for `body`'s setup (estimate fields with max_batch_size = vLLM's max_num_seqs),
// mapped to the chart's arrays over max_model_len. need_all_gib / need_one_gib: memory per GPU
// to hold all max_num_seqs sequences / one sequence of that length (weights, activation peak,
// non-torch memory and in-budget CUDA graphs, plus the KV cache they need; null where the
// length breaks a rule). fit_len: the longest context whose KV cache holds all sequences
// (null: none); start_len: the longest that starts (vLLM's own estimate); uncertainty_gib: the
// estimate's error bar, drawn as a band around the budget.
export async function sweep(body) {
  const r = await call(ENDPOINTS.sweep, body);
  const v = r.setup.vllm_startup;
  const other = v.non_torch_gib + (v.cuda_graph_in_budget ? v.cuda_graph_gib : 0);
  const need = (p, seqs) => (p.kv_needed_gib == null ? null : p.weights_gib + p.activation_peak_gib + other + (p.kv_needed_gib * seqs) / v.max_num_seqs);
  const col = (f) => r.context.map(f);
  return {
    max_model_len: col((p) => p.max_model_len),
    need_all_gib: col((p) => need(p, v.max_num_seqs)),
    need_one_gib: col((p) => need(p, 1)),
    starts: col((p) => p.starts),
    fits: col((p) => p.fits),
    kv_cache_tokens: col((p) => p.kv_cache_tokens ?? null),
    max_concurrency: col((p) => p.max_concurrency ?? null),
    fit_len: r.max_model_len_fit,
    start_len: v.max_model_len_fit || null,
    chosen_len: v.max_model_len,
    max_num_seqs: v.max_num_seqs,
    budget_gib: v.requested_memory_gib,
    total_gib: v.total_gpu_memory_gib,
    utilization: v.gpu_memory_utilization,
    uncertainty_gib: v.uncertainty_gib || 0,
  };
}
