// chart.js — memory per GPU against max model length (uPlot), with the GPU's limits drawn.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el, fmt } from './view.js';

let plot = null;
let observer = null;

const size = (box) => ({ width: Math.max(280, box.clientWidth), height: box.clientWidth < 500 ? 240 : 300 });
const shortTokens = (t) => (t == null ? null : t >= 1024 ? `${t / 1024}k` : String(t)); // null: a tick uPlot hides

// sw: the sweep's arrays; v: the current answer's vllm_startup (limits and the chosen length).
export function renderChart(box, table, sw, v) {
  plot?.destroy();
  observer?.disconnect();
  const xs = sw.max_model_len;
  const budget = xs.map(() => v.requested_memory_gib);
  const T = v.total_gpu_memory_gib;
  const total = xs.map(() => T);
  const line = (label, stroke, dash) => ({ label, stroke, width: 2, dash, points: { show: !dash }, value: (u, y) => (y == null ? '–' : fmt.gib(y)) });
  const opts = {
    ...size(box),
    // Up to 2.5 x the GPU's memory: enough to see where each curve crosses the limits.
    scales: { x: { distr: 3, log: 2 }, y: { range: (u, lo, hi) => [0, Math.max(1.15 * T, 1.05 * Math.min(hi, 2.5 * T))] } },
    legend: { live: false },
    axes: [
      { label: 'max model length (tokens)', values: (u, ticks) => ticks.map(shortTokens), stroke: '#1f2328' },
      { label: 'GiB per GPU', size: 56, stroke: '#1f2328' },
    ],
    series: [
      { label: 'max model length', value: (u, x) => (x == null ? '–' : fmt.tokens(x)) },
      line(`${fmt.int(v.max_num_seqs)} sequences`, '#0b5cad'),
      line('1 sequence', '#137a4b'),
      line(`vLLM budget (× ${v.gpu_memory_utilization})`, '#b35900', [6, 4]),
      line('GPU memory', '#b3261e', [2, 3]),
    ],
    hooks: {
      draw: [(u) => { // the chosen max model length
        const x = Math.round(u.valToPos(v.max_model_len, 'x', true));
        u.ctx.save();
        u.ctx.strokeStyle = '#57606a';
        u.ctx.setLineDash([1, 3]);
        u.ctx.beginPath();
        u.ctx.moveTo(x, u.bbox.top);
        u.ctx.lineTo(x, u.bbox.top + u.bbox.height);
        u.ctx.stroke();
        u.ctx.restore();
      }],
    },
  };
  plot = new uPlot(opts, [xs, sw.need_all_gib, sw.need_one_gib, budget, total], box);
  observer = new ResizeObserver(() => plot.setSize(size(box)));
  observer.observe(box);
  // The same numbers as a table, for screen readers and for copying.
  table.replaceChildren(
    el('thead', {}, el('tr', {}, ...['max model length', `${fmt.int(v.max_num_seqs)} sequences`, '1 sequence'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...xs.map((x, i) => el('tr', {},
      el('td', { class: 'num', text: fmt.tokens(x) }),
      el('td', { class: 'num', text: fmt.gib(sw.need_all_gib[i]) }),
      el('td', { class: 'num', text: fmt.gib(sw.need_one_gib[i]) })))));
}
