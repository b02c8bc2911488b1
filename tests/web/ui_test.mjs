// ui_test.mjs — the page at /ui in a real headless browser (Debian's chromium driven by
// playwright-core from web/node_modules). It starts `vllm-mem serve` on a free loopback port,
// changes the model and the context like a person would, and checks that the numbers and the
// verdict on the page equal the API's for the same inputs, the chart the one /sweep call's and
// the ranked options POST /plan's, that a pasted config.json works, that no request leaves
// 127.0.0.1, that the console stays free of errors and that a phone never scrolls sideways; and
// that /docs renders GET /openapi.json with the bundled Swagger UI, offline.
//
// Usage: node tests/web/ui_test.mjs --binary build/vllm-mem [--screenshot out.png]
// Exits 77 (CTest: skipped) when chromium or playwright-core is missing, unless CI is set.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServer } from './serve.mjs';
import { after, before, test } from 'node:test';

const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const binary = arg('--binary') || 'build/vllm-mem';
const screenshot = arg('--screenshot');
const CHROMIUM = '/usr/bin/chromium';

let chromium;
try {
  ({ chromium } = createRequire(new URL('../../web/package.json', import.meta.url))('playwright-core'));
} catch { /* reported below */ }
if (!chromium || !existsSync(CHROMIUM)) {
  const why = !chromium ? 'playwright-core is not installed (scripts/build-web.sh installs it)' : `${CHROMIUM} is missing (scripts/install-deps.sh web installs it)`;
  console.error(`browser test: ${why}`);
  process.exit(process.env.CI ? 1 : 77);
}

let server, browser, base, profile;
const requests = []; // URLs of every page's requests
const consoleErrors = [];


before(async () => {
  ({ server, base } = await startServer(binary));
  profile = mkdtempSync(join(tmpdir(), 'vllm-mem-ui-'));
  // A persistent context on an empty directory is chromium's --user-data-dir, set the way
  // playwright accepts it.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  stopServer(server);
  if (profile) rmSync(profile, { recursive: true, force: true });
});

// expect400: the page will send a bad request on purpose, whose 400 chromium logs as an error.
async function newPage(width = 1280, height = 900, expect400 = false) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  page.posts = {}; // POSTs of this page by path, e.g. {'/sweep': 2}
  page.on('request', (r) => {
    requests.push(r.url());
    if (r.method() === 'POST') { const path = new URL(r.url()).pathname; page.posts[path] = (page.posts[path] || 0) + 1; }
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expect400 && m.text().includes('the server responded with a status of 400')) return;
    consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  return page;
}

async function api(path, body) {
  const res = await fetch(base + path, body && { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

// The body the page sends for its inputs (web/src/main.js requestBody), written out here.
const body = (s) => ({
  model_name: s.model, max_seq_len: s.len, max_model_len: s.len, gpu: s.gpu, tensor_parallel_size: s.n ?? 1,
  dtype: 'auto', kv_cache_dtype: 'auto', gpu_memory_utilization: 0.9, vllm_version: s.v,
});

// The /plan body the page sends for the same inputs (web/src/main.js planBody): the estimate's
// fields less the GPU setup, plus the planner's.
function planBody(s, extra = {}) {
  const { gpu, tensor_parallel_size, ...p } = body(s);
  return { ...p, max_gpus: 8, precision_trades: true, ...extra };
}

// The page's sweep: the estimate's body with vLLM's max_num_seqs as the batch.
const sweepBody = (s, a) => ({ ...body(s), max_batch_size: a.vllm_startup.max_num_seqs });

// Waits until the run for the URL's state has rendered its final figures.
async function settled(page, urlPart) {
  await page.waitForFunction((part) => location.search.includes(part) && document.body.dataset.state === 'done', urlPart, { timeout: 30000 });
}

const text = (page, field) => page.locator(`[data-field="${field}"]`).first().innerText();
const num = (s) => Number(/-?[\d,]+(\.\d+)?/.exec(s)[0].replace(/,/g, ''));

// Every figure the page shows, against the API's answer for the same request.
async function expectPageEquals(page, a) {
  const v = a.vllm_startup;
  const title = !v.fits ? 'Does not fit' : v.verdict !== 'marginal' ? 'Fits: vLLM starts'
    : Math.abs(v.margin_gib) <= v.uncertainty_gib ? 'Marginal: starts, but within the error bar' : 'Marginal: the architecture is a guess';
  assert.equal(await page.locator('#verdict-title').innerText(), title);
  const margin = await text(page, 'margin');
  assert.equal(num(margin), Math.abs(v.margin_gib));
  assert.ok(margin.startsWith(v.margin_gib >= 0 ? 'Margin ' : 'Short by '), margin);
  assert.equal(num(margin.split('off by ')[1]), v.uncertainty_gib);
  if (v.verdict_advice) assert.equal(await text(page, 'verdict_advice'), `To be safe: ${v.verdict_advice}`);
  assert.match(await text(page, 'limiting_factor'), new RegExp(`^Limiting factor: ${v.limiting_factor}\\.`));
  if (v.error) assert.equal(await text(page, 'error'), `vLLM would say: ${v.error}`);
  const kv = await text(page, 'kv_cache_tokens');
  assert.match(kv, / tokens in [\d,]+ blocks of \d+$/);
  assert.equal(num(kv), v.kv_cache_tokens);
  assert.equal(num(kv.split(' in ')[1]), v.num_gpu_blocks);
  assert.equal(await text(page, 'max_concurrency'), `${v.max_concurrency.toFixed(2)} ×`);
  assert.equal(num(await text(page, 'max_model_len_fit')), v.max_model_len_fit);
  for (const [field, gib] of [['kv_cache_gib', v.kv_cache_gib], ['weights_gib', v.weights_gib], ['process_footprint_gib', v.process_footprint_gib],
    ['weights', v.weights_gib], ['activation', v.activation_peak_gib], ['nontorch', v.non_torch_gib], ['graphs', v.cuda_graph_gib]]) {
    assert.equal(await text(page, field), `${gib.toFixed(2)} GiB`, field);
  }
  assert.equal(await text(page, 'total_max_memory_gb'), `${a.total_max_memory_gb.toFixed(2)} GB`);
  assert.equal(await text(page, 'recommended_memory_gb'), `${a.recommended_memory_gb.toFixed(2)} GB`);
  assert.ok(await page.locator('#budget .bar').isVisible(), 'the memory bar is shown');
  // The error bar is drawn on the bar: ± uncertainty_gib around where the KV cache begins.
  const band = page.locator('#budget [data-field="uncertainty_band"]');
  assert.equal(await band.count(), v.uncertainty_gib > 0 ? 1 : 0, 'one error band on the bar');
  if (v.uncertainty_gib > 0) {
    assert.equal(Number(await band.getAttribute('data-gib')), v.uncertainty_gib);
    const [bw, barw] = await page.evaluate(() => [document.querySelector('#budget .band').getBoundingClientRect().width, document.querySelector('#budget .bar').getBoundingClientRect().width]);
    const scale = Math.max(v.total_gpu_memory_gib, v.weights_gib + v.activation_peak_gib + v.non_torch_gib + v.cuda_graph_gib + Math.max(0, v.kv_cache_gib));
    assert.ok(bw > 0 && bw <= barw * (2 * v.uncertainty_gib) / scale + 1.5, `band ${bw} px of a ${barw} px bar`);
  }
  assert.equal(await page.locator('#command code').innerText(), `vllm serve ${a.model_name} ${v.vllm_args}`);
}

// The ranked options on the page, against POST /plan's for the same request.
async function expectPlanEquals(page, p) {
  const shown = await page.locator('#plan li.option').evaluateAll((cards) => cards.map((c) => ({
    gpu: c.dataset.gpu, num_gpus: Number(c.dataset.numGpus),
    fits: c.querySelector('[data-field=fits]').textContent,
    trade: c.querySelector('[data-field=trades_precision]')?.textContent ?? null,
    cost: c.querySelector('[data-field=cost]').textContent,
    kv: c.querySelector('[data-field=kv_cache_tokens]').textContent,
    command: c.querySelector('.command code').textContent,
  })));
  assert.ok(p.options.length > 0);
  assert.equal(shown.length, p.options.length, 'one card per option');
  p.options.forEach((o, i) => {
    const s = shown[i];
    assert.equal(s.gpu, o.gpu, `option ${i + 1}: gpu`);
    assert.equal(s.num_gpus, o.num_gpus, `option ${i + 1}: num_gpus`);
    assert.equal(s.fits, o.fits ? 'Fits' : 'Does not fit', `option ${i + 1}: fits`);
    assert.equal(s.trade, o.trades_precision ? `Trades precision: ${o.trades_precision}` : null, `option ${i + 1}: trades_precision`);
    assert.equal(s.cost, o.hourly_cost_usd == null ? 'no price in the catalog'
      : `$${o.hourly_cost_usd.toLocaleString('en-US', { minimumFractionDigits: 2 })} per hour · $${o.monthly_cost_usd.toLocaleString('en-US', { minimumFractionDigits: 2 })} per month`, `option ${i + 1}: cost`);
    assert.equal(num(s.kv), o.kv_cache_tokens, `option ${i + 1}: kv_cache_tokens`);
    assert.equal(s.command, o.vllm_command, `option ${i + 1}: vllm_command`);
  });
  assert.equal(await text(page, 'summary'), p.summary);
}

// The chart's table and boundaries, against POST /sweep's for the same request.
async function expectChartEquals(page, sw) {
  const rows = await page.locator('#chart-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal(rows.length, sw.context.length, 'one row per sweep point');
  sw.context.forEach((pt, i) => {
    assert.equal(num(rows[i][0]), pt.max_model_len);
    assert.equal(rows[i][1], pt.starts ? 'yes' : 'no', `starts at ${pt.max_model_len}`);
    assert.equal(rows[i][2], pt.fits ? 'yes' : 'no', `fits at ${pt.max_model_len}`);
    if (pt.kv_cache_tokens != null) assert.equal(num(rows[i][3]), pt.kv_cache_tokens);
  });
  assert.equal(await text(page, 'fit_len'), sw.max_model_len_fit ? `${sw.max_model_len_fit.toLocaleString('en-US')} tokens` : 'none');
  const starts = sw.setup.vllm_startup.max_model_len_fit;
  assert.equal(await text(page, 'start_len'), starts ? `${starts.toLocaleString('en-US')} tokens` : 'none');
  const u = sw.setup.vllm_startup.uncertainty_gib;
  if (u > 0) assert.equal(await text(page, 'chart_uncertainty'), `${u.toFixed(2)} GiB`);
}

// Nothing wider than the screen: neither the page nor any planner card.
async function expectNoSideScroll(page) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width + 1, `no horizontal scroll at ${width} px (the page is ${scroll} px wide)`);
  const wide = await page.locator('#plan li.option, #results section').evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).length);
  assert.equal(wide, 0, 'every section and option card inside the screen');
}

test('the calculator at /ui shows the API numbers, follows the inputs and keeps its state in the URL', async () => {
  const root = await api('/');
  const version = root.example_request_with_gpu.vllm_version;
  const gpus = (await api('/gpus')).gpus;
  const page = await newPage();
  await page.goto(`${base}/ui`);
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });

  // First load: the defaults give a result.
  const first = await api('/estimate-gpu-memory', body({ model: 'meta-llama/Llama-3.1-8B-Instruct', len: 8192, gpu: 'L4', v: version }));
  await expectPageEquals(page, first);
  assert.ok(first.vllm_startup.fits);
  const l4 = gpus.find((g) => g.id === 'L4');
  assert.equal(await text(page, 'cost'), `$${l4.cheapest_usd_per_gpu_hour.toFixed(2)} per hour · $${(l4.cheapest_usd_per_gpu_hour * 730).toFixed(2)} per month (730 h)`);
  assert.ok(await page.locator('#chart canvas').count() > 0, 'the context chart is drawn');
  const s0 = { model: 'meta-llama/Llama-3.1-8B-Instruct', len: 8192, gpu: 'L4', v: version };
  const sw0 = await api('/sweep', sweepBody(s0, first));
  assert.ok(sw0.context.length >= 5, 'the chart has a handful of points');
  await expectChartEquals(page, sw0);
  await expectPlanEquals(page, await api('/plan', planBody(s0)));
  // One request each: the chart's data come from one /sweep, not from a run of estimates.
  assert.deepEqual(page.posts, { '/estimate-gpu-memory': 1, '/sweep': 1, '/plan': 1 });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  // Search as you type offers database entries.
  await page.locator('#model').fill('qwen3-8');
  await page.waitForFunction(() => [...document.querySelectorAll('#model-list option')].some((o) => o.value === 'Qwen/Qwen3-8B'), null, { timeout: 10000 });

  // Another model, then a longer context.
  await page.locator('#model').fill('Qwen/Qwen3-8B');
  await page.locator('#model').press('Enter');
  await settled(page, 'model=Qwen');
  await expectPageEquals(page, await api('/estimate-gpu-memory', body({ model: 'Qwen/Qwen3-8B', len: 8192, gpu: 'L4', v: version })));
  const before = { ...page.posts };
  await page.locator('#len').fill('32768');
  await settled(page, 'len=32768');
  for (const path of ['/estimate-gpu-memory', '/sweep', '/plan']) assert.equal(page.posts[path] - before[path], 1, `one ${path} for one change`);
  const qwen32k = await api('/estimate-gpu-memory', body({ model: 'Qwen/Qwen3-8B', len: 32768, gpu: 'L4', v: version }));
  await expectPageEquals(page, qwen32k);
  await expectChartEquals(page, await api('/sweep', sweepBody({ model: 'Qwen/Qwen3-8B', len: 32768, gpu: 'L4', v: version }, qwen32k)));
  assert.match(await page.locator('#model-info').innerText(), /Qwen\/Qwen3-8B/);

  // A context that does not fit: the verdict says so, and its suggestion makes it fit.
  await page.locator('#model').fill('meta-llama/Llama-3.1-8B-Instruct');
  await page.locator('#model').press('Enter');
  await page.locator('#len').fill('131072');
  await settled(page, 'len=131072');
  const long = await api('/estimate-gpu-memory', body({ model: 'meta-llama/Llama-3.1-8B-Instruct', len: 131072, gpu: 'L4', v: version }));
  assert.equal(long.vllm_startup.fits, false);
  await expectPageEquals(page, long);
  const fit = long.vllm_startup.max_model_len_fit;
  await page.getByRole('button', { name: /^Lower max model length to/ }).click();
  await settled(page, `len=${fit}`);
  const fixed = await api('/estimate-gpu-memory', body({ model: 'meta-llama/Llama-3.1-8B-Instruct', len: fit, gpu: 'L4', v: version }));
  assert.ok(fixed.vllm_startup.fits);
  await expectPageEquals(page, fixed);

  // Two GPUs of another type, and a model whose weights do not fit.
  await page.locator('#gpu').selectOption('A100-40GB');
  await page.locator('#n').selectOption('2');
  await page.locator('#model').fill('meta-llama/Llama-3.3-70B-Instruct');
  await page.locator('#model').press('Enter');
  await settled(page, 'model=meta-llama%2FLlama-3.3-70B');
  const big = await api('/estimate-gpu-memory', body({ model: 'meta-llama/Llama-3.3-70B-Instruct', len: fit, gpu: 'A100-40GB', n: 2, v: version }));
  assert.equal(big.vllm_startup.limiting_factor, 'weights');
  await expectPageEquals(page, big);
  assert.equal(await page.locator('[data-field="over"]').count(), 1, 'the bar shows the memory over the GPU');
  const sBig = { model: 'meta-llama/Llama-3.3-70B-Instruct', len: fit, gpu: 'A100-40GB', n: 2, v: version };
  await expectChartEquals(page, await api('/sweep', sweepBody(sBig, big)));
  const bigPlan = await api('/plan', planBody(sBig));
  await expectPlanEquals(page, bigPlan);
  assert.ok(bigPlan.options.some((o) => o.trades_precision), 'the 70B plan offers a precision trade');
  assert.ok(await page.locator('#plan .tag.trade').count() > 0, 'precision trades are marked');

  // The link reproduces the page.
  const link = page.url();
  const again = await newPage(375, 800);
  await again.goto(link);
  await again.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  assert.equal(await again.locator('#gpu').inputValue(), 'A100-40GB');
  assert.equal(await again.locator('#len').inputValue(), String(fit));
  await expectPageEquals(again, big);

  // Phone width: the planner's options are there, and nothing is wider than the screen.
  assert.ok(Object.keys(root.endpoints).includes('POST /plan'));
  await expectPlanEquals(again, bigPlan);
  await expectNoSideScroll(again);
  await again.locator('#chart-table, #plan .more').evaluateAll((els) => els.forEach((e) => { e.closest('details').open = true; }));
  await expectNoSideScroll(again);
});

test('a GPU shared with another process: the page sends what it holds', async () => {
  const version = (await api('/')).example_request_with_gpu.vllm_version;
  const page = await newPage(1280, 900);
  await page.goto(`${base}/ui?model=Qwen%2FQwen3-8B&len=16384&other=4`);
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  assert.equal(await page.locator('#other').inputValue(), '4');
  const s = { model: 'Qwen/Qwen3-8B', len: 16384, gpu: 'L4', v: version };
  const shared = await api('/estimate-gpu-memory', { ...body(s), reserved_memory_gib: 4 });
  assert.equal(shared.vllm_startup.reserved_memory_gib, 4);
  // 15.3 GiB of weights beside 4 GiB held elsewhere on a 22.2 GiB L4: it starts alone, not shared.
  assert.equal((await api('/estimate-gpu-memory', body(s))).vllm_startup.fits, true);
  assert.equal(shared.vllm_startup.fits, false);
  await expectPageEquals(page, shared);
});

test('speculative decoding: the page sends the method and its tokens, and shows the drafter', async () => {
  const version = (await api('/')).example_request_with_gpu.vllm_version;
  const page = await newPage(1280, 900);
  await page.goto(`${base}/ui?model=Qwen%2FQwen3-Next-80B-A3B-Instruct&gpu=H100-80GB&n=4&len=16384&spec=mtp&k=2`);
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  assert.equal(await page.locator('#spec').inputValue(), 'mtp');
  assert.equal(await page.locator('#k').inputValue(), '2');
  const s = { model: 'Qwen/Qwen3-Next-80B-A3B-Instruct', len: 16384, gpu: 'H100-80GB', n: 4, v: version };
  const mtp = await api('/estimate-gpu-memory', { ...body(s), speculative_config: { method: 'mtp', num_speculative_tokens: 2 } });
  const alone = await api('/estimate-gpu-memory', body(s));
  assert.ok(mtp.vllm_startup.draft_weights_gib > 0);
  assert.ok(mtp.vllm_startup.weights_gib > alone.vllm_startup.weights_gib);
  await expectPageEquals(page, mtp);
  assert.equal(await page.locator('dd[data-field="draft_weights_gib"]').textContent(),
    `${mtp.vllm_startup.draft_weights_gib.toFixed(2)} GiB · 2 speculative tokens`);
});

test('the planner follows its inputs, and an option shows its setup on the page', async () => {
  const version = (await api('/')).example_request_with_gpu.vllm_version;
  const page = await newPage(375, 800);
  await page.goto(`${base}/ui?model=Qwen%2FQwen3-8B&len=16384`);
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  const s = { model: 'Qwen/Qwen3-8B', len: 16384, gpu: 'L4', v: version };
  await expectPlanEquals(page, await api('/plan', planBody(s)));
  await expectNoSideScroll(page);

  // Only the GPU type above, at your own price, at most 4 of them, no precision trades.
  await page.locator('#over').selectOption('type');
  await page.locator('#maxg').selectOption('4');
  await page.locator('#trades').selectOption('no');
  await page.locator('#price').fill('0.5');
  await settled(page, 'price=0.5');
  const own = await api('/plan', planBody(s, { gpus: ['L4'], max_gpus: 4, precision_trades: false, prices: { L4: 0.5 } }));
  await expectPlanEquals(page, own);
  assert.equal(own.options[0].gpu, 'L4');
  assert.equal(own.options[0].hourly_cost_usd, 0.5 * own.options[0].num_gpus);
  assert.match(await text(page, 'cost'), /^\$0\.50 per hour/);

  // "Show this setup above" on the first option that is not the current setup.
  await page.locator('#over').selectOption('all');
  await page.locator('#price').fill('');
  await page.waitForFunction(() => !/price=|over=/.test(location.search) && document.body.dataset.state === 'done', null, { timeout: 30000 });
  const p = await api('/plan', planBody(s, { max_gpus: 4, precision_trades: false }));
  await expectPlanEquals(page, p);
  const i = p.options.findIndex((o) => o.gpu !== 'L4' && o.pipeline_parallel_size === 1 && [1, 2, 4, 8, 16].includes(o.tensor_parallel_size));
  assert.ok(i >= 0);
  const o = p.options[i];
  await page.getByRole('button', { name: `Show this setup above: option ${i + 1}` }).click();
  await settled(page, `gpu=${o.gpu}`);
  assert.equal(await page.locator('#n').inputValue(), String(o.tensor_parallel_size));
  const shown = await api('/estimate-gpu-memory', body({ ...s, gpu: o.gpu, n: o.tensor_parallel_size }));
  await expectPageEquals(page, shown);
  assert.deepEqual(shown.vllm_startup, o.vllm_startup, "the page shows the option's own figures");
});

test('a pasted config.json of a model outside the database is sent as hf_config', async () => {
  const version = (await api('/')).example_request_with_gpu.vllm_version;
  const name = 'example-org/Tiny-Qwen2-1B-test';
  const known = await api(`/known-architectures?q=${encodeURIComponent('Tiny-Qwen2')}`);
  assert.deepEqual(Object.keys(known), [], 'the database does not hold the model');
  const config = {
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 20,
    num_attention_heads: 16, num_key_value_heads: 4, vocab_size: 64000, max_position_embeddings: 16384, rope_theta: 1000000.0,
    rms_norm_eps: 1e-6, tie_word_embeddings: false, torch_dtype: 'bfloat16', use_sliding_window: false,
  };
  const page = await newPage();
  await page.goto(`${base}/ui`);
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  await page.locator('summary', { hasText: 'Paste a config.json' }).click();
  await page.locator('#hf_config').fill(JSON.stringify(config, null, 2));
  await page.locator('#model').fill(name);
  await page.locator('#model').press('Enter');
  await settled(page, 'model=example-org');
  const s = { model: name, len: 8192, gpu: 'L4', v: version };
  const a = await api('/estimate-gpu-memory', { ...body(s), hf_config: config });
  assert.equal(a.model_source, 'hf_config');
  await expectPageEquals(page, a);
  assert.match(await page.locator('#model-info').innerText(), /hf_config/);
  await expectChartEquals(page, await api('/sweep', { ...sweepBody(s, a), hf_config: config }));
  await expectPlanEquals(page, await api('/plan', planBody(s, { hf_config: config })));
  assert.doesNotMatch(page.url(), /hf_config|Qwen2ForCausalLM/, 'the config is not part of the link');
});

test('every input has a label, the page is keyboard reachable and shows the API\'s errors', async () => {
  const page = await newPage(1280, 900, true);
  await page.goto(`${base}/ui`);
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim())).map((e) => e.id || e.outerHTML));
  assert.deepEqual(unlabeled, []);
  const ids = await page.evaluate(() => [...document.querySelectorAll('[id]')].map((e) => e.id));
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'ids are unique');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'model');

  await page.locator('#len').fill('0');
  await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 30000 });
  const res = await fetch(`${base}/estimate-gpu-memory`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...body({ model: 'meta-llama/Llama-3.1-8B-Instruct', len: 0, gpu: 'L4' }), vllm_version: undefined }) });
  assert.equal(res.status, 400);
  const err = await res.json();
  assert.equal(await text(page, 'error'), `${err.detail} (field: ${err.field})`);
  assert.equal(await page.locator('#len').getAttribute('aria-invalid'), 'true');
});

test('/ui is served from the binary with a CSP of self only; a browser asking for / is sent there', async () => {
  const ui = await fetch(`${base}/ui`);
  assert.equal(ui.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(ui.headers.get('content-security-policy'), /^default-src 'self';/);
  const html = await ui.text();
  assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL in the page');
  const asset = /src="(\/ui\/main-[A-Z0-9]+\.js)"/.exec(html)[1];
  const js = await fetch(base + asset);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.match(js.headers.get('cache-control'), /immutable/);
  const nav = await fetch(`${base}/?model=x`, { headers: { Accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
  assert.equal(nav.status, 302);
  assert.equal(nav.headers.get('location'), '/ui?model=x');
  assert.equal((await fetch(`${base}/`)).headers.get('content-type'), 'application/json');
});

test('/docs renders /openapi.json with the bundled viewer: every path, the seed example, a CSP of self', async () => {
  const res = await fetch(`${base}/docs`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /^default-src 'self';/);
  assert.doesNotMatch(csp, /unsafe|https?:/);
  assert.doesNotMatch(await res.text(), /https?:\/\//, 'no absolute URL in the page');
  const spec = await api('/openapi.json');
  const page = await newPage();
  await page.goto(`${base}/docs`);
  const estimate = page.locator('.opblock-summary-path[data-path="/estimate-gpu-memory"]');
  await estimate.waitFor({ timeout: 30000 });
  assert.ok(await estimate.isVisible(), '/estimate-gpu-memory is shown');
  assert.match(await page.locator('.information-container .title').innerText(), new RegExp(`^${spec.info.title}`));
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of Object.keys(item)) {
      const op = page.locator(`.opblock-${method} .opblock-summary-path[data-path="${path}"]`);
      assert.equal(await op.count(), 1, `${method.toUpperCase()} ${path} is listed once`);
    }
  }
  // Opening the seed endpoint shows its request example and the documented answers.
  await estimate.click();
  const body = page.locator('.opblock-post.is-open .opblock-body');
  await body.locator('text=meta-llama/Llama-2-7b').first().waitFor({ timeout: 30000 });
  for (const code of ['200', '400', '415']) {
    assert.equal(await body.locator(`tr.response[data-code="${code}"]`).count(), 1, `response ${code} is documented`);
  }
  await page.close();
});

test('no request left 127.0.0.1 and the console stayed clean', () => {
  assert.ok(requests.length > 10, `${requests.length} requests recorded`);
  assert.deepEqual(requests.filter((u) => !u.startsWith(`${base}/`)), []);
  assert.deepEqual(consoleErrors, []);
});
