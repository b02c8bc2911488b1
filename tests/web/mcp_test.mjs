// mcp_test.mjs — the MCP tools through the official client (@modelcontextprotocol/sdk, pinned in
// web/package-lock.json), over both transports: `vllm-mem mcp` on stdio, and POST /mcp of
// `vllm-mem serve` on a free loopback port. Each session initializes, lists the tools, calls
// every tool with a real question and checks the answer against the HTTP API's for the same
// request, and checks that a bad argument is a tool error (isError) and the session lives on.
//
// Usage: node tests/web/mcp_test.mjs --binary build/vllm-mem
// Exits 77 (CTest: skipped) when the SDK is not installed, unless CI is set.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startServer, stopServer } from './serve.mjs';
import { after, before, describe, test } from 'node:test';

const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const binary = arg('--binary') || 'build/vllm-mem';

let sdk;
try {
  const require = createRequire(new URL('../../web/package.json', import.meta.url));
  const load = (p) => import(require.resolve(`@modelcontextprotocol/sdk/${p}`));
  sdk = {
    Client: (await load('client/index.js')).Client,
    Stdio: (await load('client/stdio.js')).StdioClientTransport,
    Http: (await load('client/streamableHttp.js')).StreamableHTTPClientTransport,
  };
} catch (e) {
  console.error(`mcp test: @modelcontextprotocol/sdk is not installed (scripts/build-web.sh installs it): ${e.message}`);
  process.exit(process.env.CI ? 1 : 77);
}

const TOOLS = ['estimate_gpu_memory', 'get_model', 'list_gpus', 'list_models', 'parse_vllm_command',
  'place_models', 'plan_deployment', 'solve', 'sweep'];

let server, base;


// The HTTP API's answer, the reference every tool result is checked against.
async function api(method, path, body) {
  const res = await fetch(base + path, {
    method, headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

const structured = (r) => {
  assert.equal(r.isError, false, r.content?.[0]?.text);
  // The JSON also comes as text, for clients that read only text content.
  assert.deepEqual(JSON.parse(r.content[1].text), r.structuredContent);
  return r.structuredContent;
};

function session(name, connect) {
  describe(name, () => {
    let client;
    before(async () => {
      client = new sdk.Client({ name: 'vllm-mem-test', version: '1.0.0' });
      await client.connect(connect());
    });
    after(async () => { await client?.close(); });

    test('initialize names the server and its tool capability', () => {
      assert.equal(client.getServerVersion().name, 'vllm-mem');
      assert.ok(client.getServerCapabilities().tools);
      assert.match(client.getInstructions(), /estimate_gpu_memory/);
    });

    test('tools/list has every tool, each with an object input schema', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
      for (const t of tools) {
        assert.equal(t.inputSchema.type, 'object', t.name);
        assert.ok(t.description.length > 20, t.name);
      }
      const est = tools.find((t) => t.name === 'estimate_gpu_memory').inputSchema;
      // The schema is openapi.json's EstimateRequest, standalone: its references resolve in $defs.
      assert.ok(est.$defs.EstimateFields.properties.max_seq_len);
      assert.ok(!JSON.stringify(est).includes('#/components/'));
    });

    test('estimate_gpu_memory answers what POST /estimate-gpu-memory answers', async () => {
      const args = { model_name: 'Qwen/Qwen3-8B', max_seq_len: 32768, gpu: 'H100-80GB' };
      const r = await client.callTool({ name: 'estimate_gpu_memory', arguments: args });
      const got = structured(r);
      const want = (await api('POST', '/estimate-gpu-memory', args)).json;
      assert.deepEqual(got, want);
      assert.match(r.content[0].text, new RegExp(`on H100-80GB: ${want.vllm_startup.verdict}, margin ${want.vllm_startup.margin_gib} GiB`));
    });

    test('a vllm serve line is an argument, and parse_vllm_command reads it', async () => {
      const line = 'vllm serve Qwen/Qwen3-8B --max-model-len 16k -tp 2 --port 8001 --kv-cache-dtype fp8';
      const parsed = structured(await client.callTool({ name: 'parse_vllm_command', arguments: { vllm_command: line } }));
      assert.deepEqual(parsed.fields, { model_name: 'Qwen/Qwen3-8B', max_model_len: 16000, tensor_parallel_size: 2, kv_cache_dtype: 'fp8' });
      assert.deepEqual(parsed.ignored_flags.map((f) => f.flag), ['--port']);
      const est = structured(await client.callTool({ name: 'estimate_gpu_memory', arguments: { vllm_command: line, gpu: 'L40S' } }));
      assert.equal(est.tensor_parallel_size, 2);
      assert.equal(est.vllm_startup.max_model_len, 16000);
    });

    test('plan_deployment, solve, sweep and place_models answer as their endpoints', async () => {
      const cases = [
        ['plan_deployment', '/plan', { model_name: 'meta-llama/Llama-3.1-8B-Instruct', max_model_len: 8192, gpus: ['L4', 'H100-80GB'] }],
        ['solve', '/solve', { model_name: 'meta-llama/Llama-3.1-8B-Instruct', max_model_len: 8192, gpu: 'L4', solve: 'max_model_len' }],
        ['sweep', '/sweep', { model_name: 'meta-llama/Llama-3.1-8B-Instruct', gpu: 'L4', context_lengths: [4096, 8192], batch_sizes: [1, 8] }],
        ['place_models', '/placement', { models: [{ model_name: 'Qwen/Qwen3-8B', max_model_len: 8192 }], gpu: 'H100-80GB', num_gpus: 1 }],
      ];
      for (const [tool, path, args] of cases) {
        const r = await client.callTool({ name: tool, arguments: args });
        const want = await api('POST', path, args);
        assert.equal(want.status, 200, `${path}: ${JSON.stringify(want.json)}`);
        assert.deepEqual(structured(r), want.json, tool);
        assert.ok(r.content[0].text.length > 0, tool);
      }
    });

    test('list_models, get_model and list_gpus read the database', async () => {
      const models = structured(await client.callTool({ name: 'list_models', arguments: { q: 'Qwen3-8B' } }));
      assert.deepEqual(models, (await api('GET', '/known-architectures?q=Qwen3-8B')).json);
      assert.ok(Object.keys(models).includes('Qwen/Qwen3-8B'));
      const entry = structured(await client.callTool({ name: 'get_model', arguments: { id: 'Qwen/Qwen3-8B' } }));
      assert.equal(entry.id, 'Qwen/Qwen3-8B');
      const gpus = structured(await client.callTool({ name: 'list_gpus', arguments: {} }));
      assert.deepEqual(gpus, (await api('GET', '/gpus')).json);
    });

    test('a bad argument is a tool error naming the field, and the session goes on', async () => {
      const bad = await client.callTool({ name: 'estimate_gpu_memory', arguments: { model_name: 'Qwen/Qwen3-8B', max_seq_len: -5 } });
      assert.equal(bad.isError, true);
      assert.match(bad.content[0].text, /max_seq_len/);
      const flag = await client.callTool({ name: 'parse_vllm_command', arguments: { vllm_command: 'vllm serve x --no-such-flag 1' } });
      assert.equal(flag.isError, true);
      assert.match(flag.content[0].text, /--no-such-flag/);
      await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /unknown tool/);
      const ok = await client.callTool({ name: 'list_gpus', arguments: {} });
      assert.equal(ok.isError, false);
      await client.ping();
    });
  });
}

before(async () => { ({ server, base } = await startServer(binary)); });
after(() => { stopServer(server); });

session('stdio: vllm-mem mcp', () => new sdk.Stdio({ command: binary, args: ['mcp'], stderr: 'inherit' }));
session('streamable HTTP: POST /mcp', () => new sdk.Http(new URL(`${base}/mcp`)));

test('POST /mcp: a notification is accepted with 202, GET is refused with 405', async () => {
  const note = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' });
  assert.equal(note.status, 202);
  const get = await fetch(`${base}/mcp`, { headers: { accept: 'text/event-stream' } });
  assert.equal(get.status, 405);
  const foreign = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  assert.equal(foreign.status, 403);
  const junk = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":' });
  assert.equal(junk.status, 400);
  assert.equal((await junk.json()).error.code, -32700);
});
