// The flow-run history chart: one dot per run, x = start time, y = duration (square-root
// scale, so short runs stay visible next to long ones), colour = state. Pure SVG.
import { s, h, STATE_COLOURS, time, duration } from './dom.js';

export function historyChart(points, onPick) {
  const W = 1000, H = 200, L = 56, R = 12, T = 10, B = 26;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': `history of ${points.length} flow runs` });
  if (!points.length) {
    svg.appendChild(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'No runs yet'));
    return h('div', {}, svg);
  }
  const xs = points.map((p) => new Date(p.start).getTime());
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (x1 - x0 < 60000) { x0 -= 30000; x1 += 30000; }
  const pad = (x1 - x0) * 0.03;
  x0 -= pad; x1 += pad;
  const maxD = Math.max(1, ...points.map((p) => p.duration_seconds || 0));
  const sx = (t) => L + ((t - x0) / (x1 - x0)) * (W - L - R);
  const sy = (d) => H - B - Math.sqrt(Math.max(0, d) / maxD) * (H - T - B);
  svg.appendChild(s('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }));
  svg.appendChild(s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }));
  for (const frac of [0, 0.25, 1]) {
    const d = maxD * frac;
    svg.appendChild(s('text', { x: L - 6, y: sy(d) + 4, 'text-anchor': 'end' }, duration(d)));
  }
  for (const frac of [0, 0.5, 1]) {
    const t = x0 + (x1 - x0) * frac;
    svg.appendChild(s('text', { x: sx(t), y: H - 8, 'text-anchor': frac === 0 ? 'start' : frac === 1 ? 'end' : 'middle' },
      time(new Date(t).toISOString())));
  }
  for (const p of points) {
    const c = s('circle', { cx: sx(new Date(p.start).getTime()), cy: sy(p.duration_seconds || 0), r: 5,
      fill: STATE_COLOURS[p.state_type] || '#888', 'fill-opacity': 0.85, style: 'cursor:pointer',
      onclick: () => onPick && onPick(p) });
    c.appendChild(s('title', {}, `${p.flow_name} / ${p.name}\n${p.state_name} · ${time(p.start)} · ${duration(p.duration_seconds)}`));
    svg.appendChild(c);
  }
  const seen = [...new Set(points.map((p) => p.state_type))];
  const legend = h('div', { class: 'legend' }, seen.map((t) => h('span', { style: `--c:${STATE_COLOURS[t] || '#888'}` }, t.toLowerCase())));
  return h('div', {}, svg, legend);
}

// Task runs on a timeline: one bar per task run from its start to its end (or now).
export function timeline(taskRuns, runStart, runEnd) {
  const rows = taskRuns.filter((t) => t.start_time);
  if (!rows.length) return h('p', { class: 'muted' }, 'No task run has started yet.');
  const starts = rows.map((t) => new Date(t.start_time).getTime());
  const ends = rows.map((t) => (t.end_time ? new Date(t.end_time).getTime() : Date.now()));
  let t0 = Math.min(...starts, runStart ? new Date(runStart).getTime() : Infinity);
  let t1 = Math.max(...ends, runEnd ? new Date(runEnd).getTime() : -Infinity);
  if (t1 <= t0) t1 = t0 + 1;
  const W = 1000, label = 220, rowH = 22, H = rows.length * rowH + 24;
  const sx = (t) => label + ((t - t0) / (t1 - t0)) * (W - label - 10);
  const svg = s('svg', { class: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'task runs timeline' });
  rows.forEach((t, i) => {
    const y = i * rowH + 4;
    const a = new Date(t.start_time).getTime(), b = t.end_time ? new Date(t.end_time).getTime() : Date.now();
    svg.appendChild(s('line', { class: 'grid', x1: 0, x2: W, y1: y + rowH - 2, y2: y + rowH - 2 }));
    svg.appendChild(s('text', { x: 4, y: y + 14 }, t.name.length > 30 ? t.name.slice(0, 29) + '…' : t.name));
    const bar = s('rect', { x: sx(a), y: y + 3, width: Math.max(3, sx(b) - sx(a)), height: rowH - 8, rx: 3,
      fill: STATE_COLOURS[t.state && t.state.type] || '#888' });
    bar.appendChild(s('title', {}, `${t.name}: ${t.state ? t.state.name : ''} · ${duration((b - a) / 1000)}`));
    svg.appendChild(bar);
  });
  svg.appendChild(s('text', { x: label, y: H - 4 }, '+0'));
  svg.appendChild(s('text', { x: W - 10, y: H - 4, 'text-anchor': 'end' }, '+' + duration((t1 - t0) / 1000)));
  return svg;
}
