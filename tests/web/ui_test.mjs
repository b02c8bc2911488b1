// ui_test.mjs — the page at /ui in a real headless browser (Debian's chromium driven by
// playwright-core from web/node_modules). It starts `vllm-mem serve` on a free loopback port,
// changes the model and the context like a person would, and checks that the numbers and the
// verdict on the page equal the API's for the same inputs, that no request leaves 127.0.0.1,
// and that the console stays free of errors.
//
// Usage: node tests/web/ui_test.mjs --binary build/vllm-mem [--screenshot out.png]
// Exits 77 (CTest: skipped) when chromium or playwright-core is missing, unless CI is set.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const requests = [];
const consoleErrors = [];

function startServer() {
  return new Promise((resolve, reject) => {
    server = spawn(binary, ['serve', '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    server.on('error', reject);
    server.on('exit', (code) => reject(new Error(`vllm-mem serve exited with ${code}: ${err}`)));
    server.stderr.on('data', (d) => {
      err += d;
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]);
    });
  });
}

before(async () => {
  base = await startServer();
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
  server?.removeAllListeners('exit');
  server?.kill('SIGTERM');
  if (profile) rmSync(profile, { recursive: true, force: true });
});

// expect400: the page will send a bad request on purpose, whose 400 chromium logs as an error.
async function newPage(width = 1280, height = 900, expect400 = false) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  page.on('request', (r) => requests.push(r.url()));
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

// Waits until the run for the URL's state has rendered its final figures.
async function settled(page, urlPart) {
  await page.waitForFunction((part) => location.search.includes(part) && document.body.dataset.state === 'done', urlPart, { timeout: 30000 });
}

const text = (page, field) => page.locator(`[data-field="${field}"]`).first().innerText();
const num = (s) => Number(/-?[\d,]+(\.\d+)?/.exec(s)[0].replace(/,/g, ''));

// Every figure the page shows, against the API's answer for the same request.
async function expectPageEquals(page, a) {
  const v = a.vllm_startup;
  assert.equal(await page.locator('#verdict-title').innerText(), v.fits ? 'Fits: vLLM starts' : 'Does not fit');
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
  assert.equal(await page.locator('#command code').innerText(), `vllm serve ${a.model_name} ${v.vllm_args}`);
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
  assert.ok(await page.locator('#chart-table tbody tr').count() >= 5, 'the chart has a handful of points');
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  // Search as you type offers database entries.
  await page.locator('#model').fill('qwen3-8');
  await page.waitForFunction(() => [...document.querySelectorAll('#model-list option')].some((o) => o.value === 'Qwen/Qwen3-8B'), null, { timeout: 10000 });

  // Another model, then a longer context.
  await page.locator('#model').fill('Qwen/Qwen3-8B');
  await page.locator('#model').press('Enter');
  await settled(page, 'model=Qwen');
  await expectPageEquals(page, await api('/estimate-gpu-memory', body({ model: 'Qwen/Qwen3-8B', len: 8192, gpu: 'L4', v: version })));
  await page.locator('#len').fill('32768');
  await settled(page, 'len=32768');
  const qwen32k = await api('/estimate-gpu-memory', body({ model: 'Qwen/Qwen3-8B', len: 32768, gpu: 'L4', v: version }));
  await expectPageEquals(page, qwen32k);
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

  // The link reproduces the page.
  const link = page.url();
  const again = await newPage(375, 800);
  await again.goto(link);
  await again.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  assert.equal(await again.locator('#gpu').inputValue(), 'A100-40GB');
  assert.equal(await again.locator('#len').inputValue(), String(fit));
  await expectPageEquals(again, big);

  // Phone width: nothing wider than the screen.
  assert.ok(await again.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll at 375 px');

  // The planner section: its table when the server has POST /plan, a note otherwise.
  if (Object.keys(root.endpoints).includes('POST /plan')) assert.ok(await again.locator('#plan tbody tr').count() > 0);
  else assert.match(await again.locator('#plan').innerText(), /no planner/);
});

test('every input has a label, the page is keyboard reachable and shows the API\'s errors', async () => {
  const page = await newPage(1280, 900, true);
  await page.goto(`${base}/ui`);
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 30000 });
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim())).map((e) => e.id || e.outerHTML));
  assert.deepEqual(unlabeled, []);
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

test('no request left 127.0.0.1 and the console stayed clean', () => {
  assert.ok(requests.length > 10, `${requests.length} requests recorded`);
  assert.deepEqual(requests.filter((u) => !u.startsWith(`${base}/`)), []);
  assert.deepEqual(consoleErrors, []);
});
