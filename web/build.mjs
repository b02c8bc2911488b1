// build.mjs — bundles the pages into web/dist/ (embedded into the binary by CMake): src/main.js
// with uPlot and the CSS into content-hashed files, index.html pointing at them, the icon; and
// the API viewer at /docs: src/docs.js with Swagger UI (swagger-ui-dist) into docs.html.
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
  entryPoints: ['src/main.js', 'src/docs.js'],
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
const entry = (name) => outputs.find(([, o]) => o.entryPoint === name);
const [js, { cssBundle: css }] = entry('src/main.js');
const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('%MAIN_JS%', basename(js))
  .replace('%MAIN_CSS%', basename(css));
writeFileSync(join(dist, 'index.html'), html);
const [docsJs, { cssBundle: docsCss }] = entry('src/docs.js');
const docs = readFileSync(join(here, 'docs.html'), 'utf8')
  .replace('%DOCS_JS%', basename(docsJs))
  .replace('%DOCS_CSS%', basename(docsCss));
writeFileSync(join(dist, 'docs.html'), docs);
copyFileSync(join(here, 'favicon.svg'), join(dist, 'favicon.svg'));
console.log(`web/dist: ${basename(js)} ${basename(css)} index.html ${basename(docsJs)} ${basename(docsCss)} docs.html favicon.svg`);
