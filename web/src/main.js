// main.js — the page's state: form <-> URL <-> API request, and one render per answer.
// The state lives in the URL's query string, so a result is shared by copying the link.
import './style.css';
import * as api from './api.js';
import { renderChart } from './chart.js';
import { command, el, fmt, renderBudget, renderFigures, renderPlan, renderVerdict } from './view.js';

const DEFAULTS = {
  model: 'meta-llama/Llama-3.1-8B-Instruct', gpu: 'L4', n: '1', dtype: 'auto', q: '', kv: 'auto', len: '8192', seqs: '', util: '0.9', v: '', other: '', spec: '', k: '',
  over: 'all', maxg: '8', maxusd: '', price: '', trades: 'yes', // the planner's
};
const $ = (id) => document.getElementById(id);
const fields = Object.keys(DEFAULTS);
let gpuList = [];
let runId = 0;

function readUrl() {
  const q = new URLSearchParams(location.search);
  return Object.fromEntries(fields.map((k) => [k, q.get(k) ?? DEFAULTS[k]]));
}
const readForm = () => Object.fromEntries(fields.map((k) => [k, $(k).value.trim()]));
function writeForm(s) {
  for (const k of fields) $(k).value = s[k];
  syncRanges();
}

// The API request for a state (tests/web/ui_test.mjs builds the same body to compare).
function requestBody(s) {
  const body = {
    model_name: s.model, max_seq_len: Number(s.len), max_model_len: Number(s.len), gpu: s.gpu,
    tensor_parallel_size: Number(s.n), dtype: s.dtype, kv_cache_dtype: s.kv, gpu_memory_utilization: Number(s.util),
  };
  if (s.q) body.quantization = s.q;
  if (s.seqs) body.max_batch_size = Number(s.seqs);
  if (s.v) body.vllm_version = s.v;
  if (s.other) body.reserved_memory_gib = Number(s.other); // a shared GPU
  if (s.spec) body.speculative_config = { method: s.spec, ...(s.k ? { num_speculative_tokens: Number(s.k) } : {}) };
  const pasted = $('hf_config').value.trim();
  if (pasted) body.hf_config = JSON.parse(pasted); // a syntax error is reported by run()
  return body;
}

// The /plan request: the estimate's fields less the GPU setup, which the planner chooses, plus
// the planner's own (tests/web/ui_test.mjs builds the same body to compare).
function planBody(s, body) {
  const { gpu, tensor_parallel_size, max_batch_size, ...p } = body;
  // The workload is the context and, when asked for, the batch; vLLM's default max_num_seqs
  // is not a requirement (without it an option fits when vLLM starts, as in the verdict).
  if (s.seqs) p.max_batch_size = max_batch_size;
  Object.assign(p, { max_gpus: Number(s.maxg), precision_trades: s.trades === 'yes' });
  if (s.over === 'type') p.gpus = [gpu];
  if (s.maxusd) p.budget_usd_per_hour = Number(s.maxusd);
  if (s.price) p.prices = { [gpu]: Number(s.price) };
  return p;
}

// Sliders are log2 views of the number inputs next to them.
function syncRanges() {
  $('len-range').value = Math.log2(Number($('len').value) || 8192);
  $('seqs-range').value = Math.log2(Number($('seqs').value) || 256);
  $('util-range').value = $('util').value;
}
function bindRange(range, input, toValue) {
  $(range).addEventListener('input', () => { $(input).value = toValue(Number($(range).value)); schedule(); });
}

// The input behind an API error's "field" (prices.<gpu>: the price input) gets aria-invalid.
const INPUT_OF = {
  model_name: 'model', gpu: 'gpu', max_seq_len: 'len', max_model_len: 'len', max_batch_size: 'seqs', gpu_memory_utilization: 'util', vllm_version: 'v',
  tensor_parallel_size: 'n', kv_cache_dtype: 'kv', dtype: 'dtype', quantization: 'q', hf_config: 'hf_config', budget_usd_per_hour: 'maxusd', max_gpus: 'maxg',
  reserved_memory_gib: 'other', speculative_config: 'spec',
};
function markInvalid(field = '') {
  for (const k of [...fields, 'hf_config']) $(k).removeAttribute('aria-invalid');
  const bad = field.startsWith('prices.') ? 'price' : INPUT_OF[field.split(/[.[]/)[0]];
  if (bad) $(bad).setAttribute('aria-invalid', 'true');
}
const message = (e) => e.message + (e.field ? ` (field: ${e.field})` : '');

function showError(e) {
  const v = $('verdict');
  v.className = 'verdict bad';
  v.replaceChildren(el('h2', { text: 'No answer' }), el('p', { class: 'error', 'data-field': 'error', text: message(e) }));
  markInvalid(e.field);
}

async function run() {
  const id = ++runId;
  const s = readForm();
  const params = new URLSearchParams(Object.entries(s).filter(([k, v]) => v !== DEFAULTS[k]));
  history.replaceState(null, '', params.size ? `?${params}` : location.pathname);
  document.body.dataset.state = 'loading';
  let body;
  try {
    body = requestBody(s);
    const a = await api.estimate(body);
    if (id !== runId) return;
    markInvalid();
    const v = a.vllm_startup;
    const gpu = gpuList.find((g) => g.id === s.gpu);
    renderVerdict($('verdict'), a, s, apply);
    renderBudget($('budget'), v);
    renderFigures($('figures'), a, s, gpu);
    $('model-info').textContent = `${a.resolved_model_id || a.model_name} · ${a.model_source}${a.model_match ? ` (${a.model_match})` : ''} · ${(a.parameters.total / 1e9).toFixed(2)} billion parameters`;
    $('command').replaceChildren(command(`vllm serve ${s.model} ${v.vllm_args}`));
    if (!s.seqs) $('seqs').placeholder = String(v.max_num_seqs);
    document.body.dataset.state = 'ready';
    // The chart and the planner follow; the figures above are already final.
    const failed = (e) => ({ error: e });
    const [sw, p] = await Promise.all([
      api.sweep({ ...body, max_batch_size: v.max_num_seqs }).catch(failed),
      api.plan(planBody(s, body)).catch(failed),
    ]);
    if (id !== runId) return;
    const problem = (r) => el('p', { class: 'error', text: message(r.error) });
    if (sw.error) $('chart-note').replaceChildren(problem(sw));
    else renderChart($('chart'), $('chart-table'), $('chart-note'), sw);
    if (p.error) {
      $('plan').replaceChildren(problem(p));
      markInvalid(p.error.field);
    } else {
      renderPlan($('plan'), p, (patch) => { apply(patch); $('verdict').scrollIntoView(); });
    }
    document.body.dataset.state = 'done';
  } catch (e) {
    if (id !== runId) return;
    showError(e instanceof SyntaxError ? Object.assign(new Error(`config.json is not valid JSON: ${e.message}`), { field: 'hf_config' }) : e);
    document.body.dataset.state = 'error';
  }
}

function apply(patch) {
  writeForm({ ...readForm(), ...patch });
  run();
}

let timer = 0;
function schedule(ms = 250) {
  clearTimeout(timer);
  timer = setTimeout(run, ms);
}

let searchTimer = 0;
function searchModels() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(async () => {
    const found = await api.searchModels($('model').value.trim()).catch(() => ({}));
    $('model-list').replaceChildren(...Object.values(found).slice(0, 60).map((m) =>
      el('option', { value: m.id, label: `${m.params_billions ?? '?'} billion · ${m.family}` })));
  }, 150);
}

async function start() {
  const [gpus, root] = await Promise.all([api.gpus(), api.rootInfo()]);
  gpuList = gpus.filter((g) => g.cuda_total_gib);
  $('gpu').replaceChildren(...gpuList.map((g) => el('option', { value: g.id, text: `${g.id} · ${fmt.gib(g.cuda_total_gib)}` })));
  DEFAULTS.v = root.example_request_with_gpu?.vllm_version || '';
  writeForm(readUrl());
  bindRange('len-range', 'len', (x) => 2 ** x);
  bindRange('seqs-range', 'seqs', (x) => 2 ** x);
  bindRange('util-range', 'util', (x) => x.toFixed(2));
  // Free text (model, version) runs when committed (Enter, leaving the field, a picked entry);
  // numbers and lists run as they change.
  for (const k of fields.filter((f) => f !== 'model' && f !== 'v')) $(k).addEventListener('input', () => { syncRanges(); schedule(); });
  for (const k of ['model', 'v']) $(k).addEventListener('change', () => schedule(0));
  $('model').addEventListener('input', () => {
    if ([...$('model-list').options].some((o) => o.value === $('model').value)) schedule(0);
    searchModels();
  });
  $('hf_config').addEventListener('change', () => schedule(0));
  $('inputs').addEventListener('submit', (e) => { e.preventDefault(); schedule(0); });
  searchModels();
  await run();
}

start().catch((e) => showError(e));
