// api.js — every call the page makes to the server, and nothing else. Endpoint names live
// here only, so wiring a renamed or new endpoint (the planner's /plan, a context sweep) is a
// one-line change. All URLs are relative: the page talks to the origin that served it.

const ENDPOINTS = {
  root: '/',
  estimate: '/estimate-gpu-memory',
  models: '/known-architectures',
  gpus: '/gpus',
  plan: '/plan', // issue 6's planner: used only when GET / lists it
  sweep: null, // issue 6's context sweep, e.g. '/sweep': until set, the page sweeps by estimates
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

let endpointList = null; // the keys of GET /'s "endpoints", e.g. "POST /plan"
async function has(method, path) {
  endpointList ??= call(ENDPOINTS.root).then((r) => Object.keys(r.endpoints || {}), () => []);
  return (await endpointList).includes(`${method} ${path}`);
}

export const rootInfo = () => call(ENDPOINTS.root);
export const gpus = () => call(ENDPOINTS.gpus).then((r) => r.gpus);
export const searchModels = (q) => call(`${ENDPOINTS.models}?q=${encodeURIComponent(q)}`);
export const estimate = (body) => call(ENDPOINTS.estimate, body);

// The planner's ranked options ({"options": [...]}) or null when this server has no planner.
export async function plan(body) {
  if (!(await has('POST', ENDPOINTS.plan))) return null;
  return call(ENDPOINTS.plan, body);
}

// Memory per GPU against context length for `body`'s deployment, as arrays:
// {max_model_len: [tokens], need_all_gib: [GiB], need_one_gib: [GiB]} where need_all is the
// memory to hold max_num_seqs sequences of that length and need_one a single one.
export async function sweep(body, lengths) {
  if (ENDPOINTS.sweep && (await has('POST', ENDPOINTS.sweep)))
    return call(ENDPOINTS.sweep, { ...body, max_model_len_values: lengths });
  const answers = await Promise.all(lengths.map((len) =>
    estimate({ ...body, max_seq_len: len, max_model_len: len }).catch(() => null)));
  const out = { max_model_len: [], need_all_gib: [], need_one_gib: [] };
  answers.forEach((a, i) => {
    if (!a || !a.vllm_startup) return;
    const v = a.vllm_startup;
    const fixed = v.weights_gib + v.activation_peak_gib + v.non_torch_gib + (v.cuda_graph_in_budget ? v.cuda_graph_gib : 0);
    const kvAll = a.components_bytes.max_kv_cache / 2 ** 30; // max_num_seqs x length, this GPU
    out.max_model_len.push(lengths[i]);
    out.need_all_gib.push(fixed + kvAll);
    out.need_one_gib.push(fixed + kvAll / v.max_num_seqs);
  });
  return out;
}
