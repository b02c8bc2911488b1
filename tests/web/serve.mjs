// serve.mjs — what the Node tests share: `vllm-mem serve` on a free loopback port.
import { spawn } from 'node:child_process';

// Starts the server; resolves to { server, base } once it logs its address ("serving on ...").
export function startServer(binary) {
  return new Promise((resolve, reject) => {
    const server = spawn(binary, ['serve', '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    server.on('error', reject);
    server.on('exit', (code) => reject(new Error(`vllm-mem serve exited with ${code}: ${err}`)));
    server.stderr.on('data', (d) => {
      err += d;
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve({ server, base: m[1] });
    });
  });
}

// Stops it (SIGTERM: the graceful path), without the exit being taken for a failure.
export function stopServer(server) {
  server?.removeAllListeners('exit');
  server?.kill('SIGTERM');
}
