// Concurrency limits: each tag's limit, the slots in use and the task runs holding them
// (linked to their flow runs), with a Reset action that frees every slot of a tag.
import { h, time, ago, table, errorBox } from '../dom.js';
import { get, post } from '../api.js';

const MAX_DETAILED = 50;  // holders are fetched per limit: at most this many limits

export async function render(view) {
  let list;
  try {
    list = await get('/api/concurrency-limits');
  } catch (e) {
    if (e.status !== 404) throw e;
    view.append(h('h1', {}, 'Concurrency limits'), h('div', { class: 'panel' },
      h('p', { class: 'placeholder' }, 'Concurrency limits: not available yet on this server.')));
    return;
  }
  const limits = list.concurrency_limits;
  const details = await Promise.all(limits.slice(0, MAX_DETAILED).map((l) =>
    get(`/api/concurrency-limits/${encodeURIComponent(l.tag)}`).catch(() => l)));
  const status = h('div', {});
  const reset = async (tag) => {
    if (!window.confirm(`Free every slot of tag "${tag}"? The task runs holding them keep running.`)) return;
    try {
      await post(`/api/concurrency-limits/${encodeURIComponent(tag)}/reset`);
      window.dispatchEvent(new Event('weft:refresh'));
    } catch (e) { status.append(errorBox(e)); }
  };
  const usage = (l) => {
    const full = l.active_slots >= l.limit;
    return h('span', { class: 'badge ' + (full ? 'FAILED' : 'COMPLETED'), 'data-usage': l.tag },
      `${l.active_slots} / ${l.limit}`);
  };
  view.append(
    h('h1', {}, 'Concurrency limits'),
    status,
    h('div', { class: 'panel' }, h('h2', {}, 'Limits'),
      table(['Tag', 'Limit', 'In use', 'Updated', ''], limits.map((l) => [
        h('span', { class: 'mono' }, l.tag), l.limit, usage(l), time(l.updated),
        h('button', { onclick: () => reset(l.tag) }, 'Reset'),
      ]), 'No concurrency limits: weft concurrency-limit create TAG N')));
  for (const l of details) {
    const holders = l.holders || [];
    view.append(h('div', { class: 'panel', 'data-limit': l.tag },
      h('h2', {}, 'Tag ', h('span', { class: 'mono' }, l.tag), ' ', usage(l)),
      table(['Task run', 'Flow run', 'Holding since'], holders.map((x) => [
        h('span', { class: 'mono' }, x.task_run_name || x.task_run_id),
        h('a', { href: `#/runs/${x.flow_run_id}` }, x.flow_run_name || x.flow_run_id),
        h('span', { title: x.since }, `${time(x.since)} (${ago(x.since)})`),
      ]), 'No task run holds a slot.')));
  }
  if (limits.length > MAX_DETAILED) {
    view.append(h('p', { class: 'muted' },
      `Holders shown for the first ${MAX_DETAILED} tags; weft concurrency-limit inspect TAG shows any.`));
  }
}
