// chart.js — memory per GPU against max model length (uPlot), from one /sweep (api.sweep): the
// GPU's memory and vLLM's budget as horizontal lines, the fit boundaries as vertical ones.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el, fmt } from './view.js';

let plot = null;
let observer = null;

const size = (box) => ({ width: Math.max(280, box.clientWidth), height: box.clientWidth < 500 ? 240 : 300 });
const shortTokens = (t) => (t == null ? null : t >= 1024 ? `${+(t / 1024).toFixed(1)}k` : String(t)); // null: a tick uPlot hides
const yesNo = (b) => (b == null ? '–' : b ? 'yes' : 'no');

// c: api.sweep's arrays and limits; note: the <p> that names the vertical lines.
export function renderChart(box, table, note, c) {
  plot?.destroy();
  observer?.disconnect();
  const xs = c.max_model_len;
  const T = c.total_gib;
  const n = fmt.int(c.max_num_seqs);
  const line = (label, stroke, dash) => ({ label, stroke, width: 2, dash, points: { show: !dash }, value: (u, y) => (y == null ? '–' : fmt.gib(y)) });
  // [tokens, colour, dash]: the chosen length, the longest that starts, the longest holding all.
  const verticals = [[c.chosen_len, '#57606a', [1, 3]], [c.start_len, '#137a4b', [6, 4]], [c.fit_len, '#0b5cad', []]];
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
      line(`${n} sequences`, '#0b5cad'),
      line('1 sequence', '#137a4b'),
      line(`vLLM budget (× ${c.utilization})`, '#b35900', [6, 4]),
      line('GPU memory', '#b3261e', [2, 3]),
    ],
    hooks: {
      // The error bar as a band around the budget: a curve inside it may or may not start.
      drawAxes: [(u) => {
        if (!(c.uncertainty_gib > 0)) return;
        const top = u.valToPos(c.budget_gib + c.uncertainty_gib, 'y', true);
        const bottom = u.valToPos(Math.max(0, c.budget_gib - c.uncertainty_gib), 'y', true);
        u.ctx.save();
        u.ctx.fillStyle = 'rgba(179, 89, 0, 0.15)';
        u.ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
        u.ctx.restore();
      }],
      draw: [(u) => {
        for (const [tokens, colour, dash] of verticals) {
          if (!tokens || tokens < xs[0] || tokens > xs[xs.length - 1]) continue;
          const x = Math.round(u.valToPos(tokens, 'x', true));
          u.ctx.save();
          u.ctx.strokeStyle = colour;
          u.ctx.lineWidth = 2;
          u.ctx.setLineDash(dash);
          u.ctx.beginPath();
          u.ctx.moveTo(x, u.bbox.top);
          u.ctx.lineTo(x, u.bbox.top + u.bbox.height);
          u.ctx.stroke();
          u.ctx.restore();
        }
      }],
    },
  };
  plot = new uPlot(opts, [xs, c.need_all_gib, c.need_one_gib, xs.map(() => c.budget_gib), xs.map(() => T)], box);
  observer = new ResizeObserver(() => plot.setSize(size(box)));
  observer.observe(box);
  note.replaceChildren(
    `Vertical lines: the chosen length, ${fmt.tokens(c.chosen_len)} (grey, dotted); the longest context that starts, `,
    el('strong', { 'data-field': 'start_len', text: c.start_len ? fmt.tokens(c.start_len) : 'none' }),
    ` (green, dashed); the longest whose KV cache holds all ${n} sequences at once, `,
    el('strong', { 'data-field': 'fit_len', text: c.fit_len ? fmt.tokens(c.fit_len) : 'none' }),
    ' (blue).',
    c.uncertainty_gib > 0 ? ' The shaded band around the budget is the estimate\'s error bar, ± ' : '',
    c.uncertainty_gib > 0 ? el('strong', { 'data-field': 'chart_uncertainty', text: fmt.gib(c.uncertainty_gib) }) : '',
    c.uncertainty_gib > 0 ? ': where a curve crosses the budget inside it, the start is marginal.' : '');
  // The same numbers as a table, for screen readers and for copying.
  const head = ['max model length', 'starts', `holds ${n}`, 'KV cache', 'concurrency', `${n} sequences`, '1 sequence'];
  table.replaceChildren(
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...xs.map((x, i) => el('tr', {},
      el('td', { class: 'num', text: fmt.tokens(x) }),
      el('td', { text: yesNo(c.starts[i]) }),
      el('td', { text: yesNo(c.fits[i]) }),
      el('td', { class: 'num', text: c.kv_cache_tokens[i] == null ? '–' : fmt.tokens(c.kv_cache_tokens[i]) }),
      el('td', { class: 'num', text: c.max_concurrency[i] == null ? '–' : `${c.max_concurrency[i].toFixed(2)} ×` }),
      ...[c.need_all_gib[i], c.need_one_gib[i]].map((g) => el('td', { class: 'num', text: g == null ? '–' : fmt.gib(g) }))))));
}
