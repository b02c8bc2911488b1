// build.mjs — bundles the page into web/dist/ (embedded into the binary by CMake): src/main.js
// with uPlot and the CSS into content-hashed files, index.html pointing at them, the icon.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
const result = await build({
  absWorkingDir: here,
  entryPoints: ['src/main.js'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2021'],
  entryNames: '[name]-[hash]',
  outdir: 'dist',
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs);
const js = outputs.find(([, o]) => o.entryPoint === 'src/main.js')[0];
const css = outputs.find(([, o]) => o.entryPoint === 'src/main.js').at(1).cssBundle;
const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('%MAIN_JS%', basename(js))
  .replace('%MAIN_CSS%', basename(css));
writeFileSync(join(dist, 'index.html'), html);
copyFileSync(join(here, 'favicon.svg'), join(dist, 'favicon.svg'));
console.log(`web/dist: ${basename(js)} ${basename(css)} index.html favicon.svg`);
