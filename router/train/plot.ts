// Cost-quality curves of one evaluation: accuracy on test against modelled GPU-seconds per request, with
// the random-mixing chord, the five ΔIBC cost regions and the 98%-of-largest line. One layout, written as
// SVG or PNG by the file's extension.
import { figureToSvg, type Figure, type Op } from './figure.js';
import { figureToPng } from './png.js';
import type { EvalReport } from './report.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#393b79'];

function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

export function curvesFigure(rep: EvalReport, title: string): Figure {
  const W = 1040;
  const H = 640;
  const m = { left: 64, right: 330, top: 74, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const smallest = rep.policies.find((p) => p.name === 'always-smallest')!;
  const largest = rep.policies.find((p) => p.name === 'always-largest')!;
  const all = rep.policies.flatMap((p) => p.curve);
  const xMax = Math.max(...all.map((c) => c.gpuSecondsPerRequest)) * 1.05;
  const accs = all.map((c) => c.accuracy);
  const yLo = Math.max(0, Math.min(...accs) - 0.02);
  const yHi = Math.min(1, Math.max(...accs) + 0.02);
  const X = (c: number) => m.left + (c / xMax) * pw;
  const Y = (a: number) => m.top + (1 - (a - yLo) / (yHi - yLo)) * ph;
  const ops: Op[] = [{ t: 'rect', x: 0, y: 0, w: W, h: H, fill: '#ffffff' }];
  const text = (x: number, y: number, s: string, extra: Partial<Extract<Op, { t: 'text' }>> = {}) => ops.push({ t: 'text', x, y, text: s, size: 12, ...extra });
  const line = (x1: number, y1: number, x2: number, y2: number, color: string, width = 1, dash?: number[]) =>
    ops.push({ t: 'path', points: [[x1, y1], [x2, y2]], color, width, ...(dash ? { dash } : {}) });

  text(m.left, 22, title, { size: 15, bold: true });
  const observed = rep.verifier === 'none' ? 'none (real signals only)' : `${rep.verifier} (SIMULATED observations)`;
  text(m.left, 42, `test split, n=${rep.n}; verifier: ${observed}`, { color: '#444444' });
  const k = rep.verifierSamples === null ? '' : `; k=${rep.verifierSamples} verifier samples`;
  text(m.left, 58, `GPU-seconds MODELLED from the simulator's latency profiles at batch ${rep.costModel.batchSize}${k}`, { color: '#444444' });
  const xs = niceStep(xMax, 8);
  for (let v = 0; v <= xMax + 1e-9; v += xs) {
    line(X(v), m.top, X(v), m.top + ph, '#eeeeee');
    text(X(v), m.top + ph + 18, String(+v.toFixed(3)), { anchor: 'middle' });
  }
  const ys = niceStep(yHi - yLo, 8);
  for (let v = Math.ceil(yLo / ys) * ys; v <= yHi + 1e-9; v += ys) {
    line(m.left, Y(v), m.left + pw, Y(v), '#eeeeee');
    text(m.left - 8, Y(v) + 4, String(+v.toFixed(3)), { anchor: 'end' });
  }
  ops.push({ t: 'rect', x: m.left, y: m.top, w: pw, h: ph, stroke: '#333333' });
  text(m.left + pw / 2, H - 16, 'GPU-seconds per request (modelled)', { anchor: 'middle' });
  text(20, m.top + ph / 2, 'accuracy (test)', { anchor: 'middle', rotate: -90 });
  const [c0, c1] = [smallest.gpuSecondsPerRequest, largest.gpuSecondsPerRequest];
  for (let r = 1; r < 5; r++) line(X(c0 + ((c1 - c0) * r) / 5), m.top, X(c0 + ((c1 - c0) * r) / 5), m.top + ph, '#bbbbbb', 1, [2, 4]);
  const y98 = Y(0.98 * largest.accuracy);
  line(m.left, y98, m.left + pw, y98, '#999999', 1, [6, 3]);
  text(m.left + 6, y98 - 5, '98% of largest tier', { color: '#777777' });

  const lx = W - m.right + 14;
  rep.policies.forEach((p, i) => {
    const color = p.name === 'random-mix' ? '#888888' : COLORS[i % COLORS.length]!;
    const pts = [...p.curve].sort((a, b) => a.gpuSecondsPerRequest - b.gpuSecondsPerRequest);
    const xy = pts.map((c): [number, number] => [X(c.gpuSecondsPerRequest), Y(c.accuracy)]);
    if (xy.length > 1) ops.push({ t: 'path', points: xy, color, width: 2, ...(p.name === 'random-mix' ? { dash: [6, 4] } : {}) });
    for (const [x, y] of xy) ops.push({ t: 'circle', cx: x, cy: y, r: 3, fill: color });
    ops.push({ t: 'circle', cx: X(p.gpuSecondsPerRequest), cy: Y(p.accuracy), r: 7, stroke: color, width: 2 });
    const ly = m.top + 10 + i * 20;
    line(lx, ly, lx + 24, ly, color, 3);
    text(lx + 30, ly + 4, `${p.name}${p.deltaIbc === null ? '' : ` (ΔIBC ${p.deltaIbc.toFixed(1)}%)`}`);
  });
  let ly = m.top + 20 + rep.policies.length * 20;
  for (const note of ['ring: operating point in the table', 'dotted: the five ΔIBC cost regions', ...rep.pending.map((p) => `pending: ${p.name}`)]) {
    text(lx, ly, note, { color: '#555555' });
    ly += 18;
  }
  return { width: W, height: H, ops };
}

/** The figure as PNG (2 pixels per unit) for a .png path, else SVG. */
export function renderCurves(rep: EvalReport, title: string, path: string): string | Buffer {
  const fig = curvesFigure(rep, title);
  return /\.png$/i.test(path) ? figureToPng(fig, 2) : figureToSvg(fig);
}
