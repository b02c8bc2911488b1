// view.js — turns API answers into the page's DOM: verdict, memory bar, figures, planner options.
// Every number is printed with its unit: GiB for vLLM's figures (as vLLM logs them), GB
// (decimal) for the seed's fields.

export const fmt = {
  gib: (x) => `${x.toFixed(2)} GiB`,
  gb: (x) => `${x.toFixed(2)} GB`,
  int: (x) => Math.round(x).toLocaleString('en-US'),
  tokens: (x) => `${fmt.int(x)} tokens`,
  usd: (x) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`,
};

// Builds an element: el('p', {class: 'x', text: 'hi'}, child, ...). Never parses HTML.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

const LIMITS = {
  max_num_seqs: 'Memory is not the limit: concurrency is bounded by max_num_seqs.',
  kv_cache: 'The KV cache limits how many tokens are in flight at once.',
  weights: 'The weights alone do not fit in the GPU memory.',
  activation: "The profile run's activation peak leaves no room for a KV cache.",
  gpu_memory_utilization: 'gpu_memory_utilization leaves too little memory for the model.',
  cuda_graphs: 'CUDA graphs do not fit in the memory left after the KV cache.',
  max_position_embeddings: 'max_model_len is longer than the model supports.',
  dtype: 'vLLM refuses this dtype for this model; use bfloat16.',
};

// What to change, as [text, optional {state patch}] pairs (a patch becomes a button).
function hints(v, s) {
  const out = [];
  const more = [`Use more GPUs (now ${s.n}) or a larger GPU.`];
  const quant = !s.q && ['Quantize the weights (fp8, awq, gptq, ...).', { q: 'fp8' }];
  const kvFp8 = !String(s.kv).startsWith('fp8') && ['Store the KV cache in fp8.', { kv: 'fp8' }];
  const util = Number(s.util) < 0.95 && ['Raise gpu_memory_utilization to 0.95.', { util: '0.95' }];
  const shorter = v.max_model_len_fit > 0 && [`Lower max model length to ${fmt.tokens(v.max_model_len_fit)}.`, { len: String(v.max_model_len_fit) }];
  if (v.fits) {
    if (v.limiting_factor === 'kv_cache') out.push([`To hold ${fmt.int(v.max_num_seqs)} requests of ${fmt.tokens(v.max_model_len)} at once, the KV cache must grow:`], kvFp8, more);
  } else if (['weights', 'activation', 'gpu_memory_utilization'].includes(v.limiting_factor)) {
    out.push(more, quant, util);
  } else if (v.limiting_factor === 'cuda_graphs') {
    out.push(['Lower gpu_memory_utilization, or start vLLM with --enforce-eager.'], util);
  } else {
    out.push(shorter, kvFp8, util, more);
  }
  return out.filter(Boolean).map((h) => (Array.isArray(h) ? h : [h]));
}

// The verdict in words: fits, fits only within the error bar, or does not fit.
export function verdictTitle(v) {
  if (!v.fits) return 'Does not fit';
  if (v.verdict !== 'marginal') return 'Fits: vLLM starts';
  return Math.abs(v.margin_gib) <= v.uncertainty_gib ? 'Marginal: starts, but within the error bar' : 'Marginal: the architecture is a guess';
}

export function renderVerdict(root, a, s, apply) {
  const v = a.vllm_startup;
  const marginal = v.fits && v.verdict === 'marginal';
  root.className = `verdict ${marginal ? 'warn' : v.fits ? 'ok' : 'bad'}`;
  root.replaceChildren(...[
    el('h2', { id: 'verdict-title', text: verdictTitle(v) }),
    // The margin against the error bar of this vLLM era (docs/accuracy.md, "Verdicts").
    el('p', { 'data-field': 'margin', text: `${v.margin_gib >= 0 ? 'Margin' : 'Short by'} ${fmt.gib(Math.abs(v.margin_gib))} at the check that decides the start; the estimate may be off by ${fmt.gib(v.uncertainty_gib)}.` }),
    v.verdict_advice && el('p', { 'data-field': 'verdict_advice', text: `To be safe: ${v.verdict_advice}` }),
    el('p', { 'data-field': 'limiting_factor', text: `Limiting factor: ${v.limiting_factor}. ${LIMITS[v.limiting_factor] || ''}` }),
    v.error && el('p', { class: 'error', 'data-field': 'error', text: `vLLM would say: ${v.error}` }),
    el('ul', { class: 'hints' }, ...hints(v, s).map(([text, patch]) =>
      el('li', {}, patch ? el('button', { type: 'button', onclick: () => apply(patch), text }) : text))),
    a.warning && el('p', { class: 'warning', text: `Note: ${a.warning}` }),
  ].filter(Boolean));
}

// The stacked bar of one GPU's memory, in vLLM's order of accounting (memory model §3–§8).
export function renderBudget(root, v) {
  const T = v.total_gpu_memory_gib;
  const inBudget = v.cuda_graph_in_budget;
  const parts = [
    ['weights', 'Weights', v.weights_gib],
    ['activation', 'Activation peak', v.activation_peak_gib],
    ['nontorch', 'Non-torch memory', v.non_torch_gib],
    inBudget && ['graphs', 'CUDA graphs', v.cuda_graph_gib],
    ['kv', 'KV cache', Math.max(0, v.kv_cache_gib)],
    !inBudget && ['graphs', 'CUDA graphs (outside the budget)', v.cuda_graph_gib],
  ].filter(Boolean);
  const used = parts.reduce((t, p) => t + p[2], 0);
  if (used <= T) parts.push(['free', 'Headroom', T - used]);
  const scale = Math.max(T, used);
  const bar = el('div', { class: 'bar', role: 'img', 'aria-label': parts.map((p) => `${p[1]} ${fmt.gib(p[2])}`).join(', ') + `; GPU ${fmt.gib(T)}` });
  for (const [cls, , gib] of parts) {
    const seg = el('span', { class: `seg ${cls}` });
    seg.style.width = `${(100 * gib) / scale}%`;
    bar.append(seg);
  }
  // The error bar (docs/accuracy.md, "Verdicts"): what is uncertain is the sum of the terms before
  // the KV cache, so the KV cache begins somewhere in this band.
  const kvStart = parts.filter((p) => p[0] !== 'kv' && p[0] !== 'free' && !(p[0] === 'graphs' && !inBudget)).reduce((t, p) => t + p[2], 0);
  const u = v.uncertainty_gib || 0;
  if (u > 0) {
    const lo = Math.max(0, kvStart - u);
    const band = el('span', { class: 'band', 'data-field': 'uncertainty_band', 'data-gib': String(u), title: `error bar of the estimate: ± ${fmt.gib(u)} where the KV cache begins` });
    band.style.left = `${(100 * lo) / scale}%`;
    band.style.width = `${(100 * (Math.min(scale, kvStart + u) - lo)) / scale}%`;
    bar.append(band);
  }
  const marks = [[v.requested_memory_gib, `budget ${fmt.gib(v.requested_memory_gib)} (× ${v.gpu_memory_utilization})`], [T, `GPU ${fmt.gib(T)}`]];
  for (const [gib, label] of marks) {
    const m = el('span', { class: 'mark', title: label });
    m.style.left = `${(100 * gib) / scale}%`;
    bar.append(m);
  }
  const rows = parts.map(([cls, name, gib]) => el('tr', {},
    el('td', {}, el('span', { class: `swatch ${cls}` }), name),
    el('td', { class: 'num', 'data-field': cls, text: fmt.gib(gib) }),
    el('td', { class: 'num', text: `${((100 * gib) / T).toFixed(1)} %` })));
  root.replaceChildren(bar, el('table', { class: 'legend' },
    el('caption', { text: `One GPU's memory: ${fmt.gib(T)} as CUDA reports it; vLLM's budget is ${fmt.gib(v.requested_memory_gib)}${u > 0 ? `; the hatched band is the error bar, ± ${fmt.gib(u)}, where the KV cache begins` : ''}` }),
    el('thead', {}, el('tr', {}, el('th', { text: 'Component' }), el('th', { class: 'num', text: 'Memory' }), el('th', { class: 'num', text: 'Share of GPU' }))),
    el('tbody', {}, ...rows, used > T && el('tr', { class: 'over' },
      el('td', {}, el('span', { class: 'swatch over' }), 'More than the GPU has'),
      el('td', { class: 'num', 'data-field': 'over', text: fmt.gib(used - T) }),
      el('td', { class: 'num', text: `${((100 * (used - T)) / T).toFixed(1)} %` })))));
}

function copyButton(text, label) {
  return el('button', {
    type: 'button', class: 'copy', 'aria-label': label,
    onclick: async (e) => {
      try { await navigator.clipboard.writeText(text); e.target.textContent = 'Copied'; } catch { e.target.textContent = 'Select and copy'; }
      setTimeout(() => { e.target.textContent = 'Copy'; }, 1500);
    },
    text: 'Copy',
  });
}

export const command = (text, label = 'Copy the command') => el('div', { class: 'command' }, el('code', { text }), copyButton(text, label));

export function renderFigures(root, a, s, gpu) {
  const v = a.vllm_startup;
  const price = s.price ? Number(s.price) : gpu && gpu.cheapest_usd_per_gpu_hour;
  const n = a.num_gpus || 1;
  const rows = [
    ['kv_cache_tokens', 'KV cache (all GPUs)', `${fmt.tokens(v.kv_cache_tokens)} in ${fmt.int(v.num_gpu_blocks)} blocks of ${v.block_size}`],
    ['max_concurrency', `Maximum concurrency at ${fmt.tokens(v.max_model_len)} per request`, `${v.max_concurrency.toFixed(2)} ×`],
    ['max_model_len_fit', 'Longest context that starts', fmt.tokens(v.max_model_len_fit)],
    ['kv_cache_gib', 'Available KV cache memory (per GPU)', fmt.gib(v.kv_cache_gib)],
    ['weights_gib', 'Model loading took (per GPU)', fmt.gib(v.weights_gib)],
    ...(v.draft_weights_gib === undefined ? [] : [['draft_weights_gib', `Of which the ${v.speculative_method} drafter`,
      `${fmt.gib(v.draft_weights_gib)} · ${v.num_speculative_tokens} speculative tokens`]]),
    ['process_footprint_gib', 'Whole process on one GPU', fmt.gib(v.process_footprint_gib)],
    ['max_num_seqs', 'max_num_seqs · max_num_batched_tokens', `${fmt.int(v.max_num_seqs)} sequences · ${fmt.tokens(v.max_num_batched_tokens)}`],
    ['parameters', 'Parameters', `${(a.parameters.total / 1e9).toFixed(2)} billion (${(a.parameters.active / 1e9).toFixed(2)} billion active)`],
    ['kv_per_token', 'KV cache per token (per GPU)', `${fmt.int(a.components_bytes.kv_cache_per_token)} bytes`],
    ['total_max_memory_gb', "Seed estimate: total at full batch and length (per GPU)", fmt.gb(a.total_max_memory_gb)],
    ['recommended_memory_gb', 'Seed estimate: recommended (per GPU)', fmt.gb(a.recommended_memory_gb)],
    ['cost', `Cost of ${n} × ${gpu ? gpu.id : 'GPU'}`, price ? `${fmt.usd(price * n)} per hour · ${fmt.usd(price * n * 730)} per month (730 h)` : 'no price in the catalog'],
  ];
  root.replaceChildren(...rows.flatMap(([key, dt, dd]) => [el('dt', { text: dt }), el('dd', { 'data-field': key, text: dd })]));
}

// The planner's ranked options as a list of cards (they stack on a phone). apply(patch) shows
// an option's setup in the sections above.
export function renderPlan(root, p, apply) {
  const sizes = ['1', '2', '4', '8', '16']; // the GPU count list of the form
  const cards = p.options.map((o, i) => {
    const er = o.estimate_request;
    const usable = o.pipeline_parallel_size === 1 && sizes.includes(String(o.tensor_parallel_size));
    const rows = [
      ['limiting_factor', 'Limiting factor', o.limiting_factor],
      ['parallel', 'Tensor × pipeline parallel', `${o.tensor_parallel_size} × ${o.pipeline_parallel_size}`],
      ['max_concurrency', `Concurrency at ${fmt.tokens(o.max_model_len)}`, `${Number(o.max_concurrency).toFixed(2)} ×`],
      ['kv_cache_tokens', 'KV cache', fmt.tokens(o.kv_cache_tokens)],
      ['max_model_len_fit', 'Longest context that starts', fmt.tokens(o.max_model_len_fit)],
      ['cost', 'Cost', o.hourly_cost_usd == null ? 'no price in the catalog' : `${fmt.usd(o.hourly_cost_usd)} per hour · ${fmt.usd(o.monthly_cost_usd)} per month`],
    ];
    return el('li', { class: `option ${o.fits ? 'ok' : 'bad'}${o.trades_precision ? ' trade' : ''}`, 'data-gpu': o.gpu, 'data-num-gpus': o.num_gpus },
      el('h3', { text: `${i + 1}. ${o.num_gpus} × ${o.gpu}` }),
      el('p', { class: 'tags' },
        el('span', { class: `tag ${o.fits ? 'ok' : 'bad'}`, 'data-field': 'fits', text: o.fits ? 'Fits' : 'Does not fit' }),
        o.trades_precision && el('span', { class: 'tag trade', 'data-field': 'trades_precision', text: `Trades precision: ${o.trades_precision}` }),
        o.within_budget === false && el('span', { class: 'tag bad', text: 'Over budget' })),
      el('dl', {}, ...rows.flatMap(([key, dt, dd]) => [el('dt', { text: dt }), el('dd', { 'data-field': key, text: dd })])),
      ...o.notes.map((t) => el('p', { class: 'hint', text: t })),
      command(o.vllm_command, `Copy the command of option ${i + 1}`),
      usable && el('button', { type: 'button', class: 'use', 'aria-label': `Show this setup above: option ${i + 1}`, onclick: () => apply({ gpu: o.gpu, n: String(o.tensor_parallel_size), q: er.quantization || '', kv: er.kv_cache_dtype || 'auto' }), text: 'Show this setup above' }));
  });
  const shown = 6; // the rest, precision trades and what does not fit, one click away
  root.replaceChildren(
    el('p', { 'data-field': 'summary', text: p.summary }),
    ...p.suggestions.map((x) => el('p', { class: 'hint', text: `Suggestion: ${x.text}` })),
    el('ol', { class: 'options' }, ...cards.slice(0, shown)),
    cards.length > shown && el('details', { class: 'more' },
      el('summary', { text: `All ${cards.length} options (${cards.length - shown} more)` }),
      el('ol', { class: 'options', start: shown + 1 }, ...cards.slice(shown))));
}
