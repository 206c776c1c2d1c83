// Work queues: filters, concurrency, paused badge.
import { h, tags } from '../dom.js';
import { get } from '../api.js';
import { setQuery } from '../app.js';

export function statusBadge(q) {
  return h('span', { class: 'badge queue-status ' + (q.paused ? 'paused' : 'ready') }, q.paused ? 'paused' : 'ready');
}

export async function render(view, _params, query) {
  const cursor = query.get('cursor') || '';
  const page = await get('/api/work-queues', { limit: 50, cursor });
  const rows = page.work_queues.map((q) => h('tr', { 'data-queue': q.name },
    h('td', {}, h('a', { href: `#/work-queues/${q.name}` }, q.name)),
    h('td', {}, statusBadge(q)),
    h('td', {}, q.priority),
    h('td', {}, q.concurrency_limit === null ? 'unlimited' : q.concurrency_limit),
    h('td', {}, tags(q.filter.tags), q.filter.deployments.map((d) => h('span', { class: 'tag' }, 'deployment:' + d)),
      q.filter.runner_types.map((r) => h('span', { class: 'tag' }, 'runner:' + r))),
    h('td', {}, q.description)));
  view.append(h('h1', {}, 'Work queues'), h('div', { class: 'panel' },
    rows.length ? h('table', { id: 'queues-table' }, h('thead', {}, h('tr', {}, ['Queue', 'Status', 'Priority', 'Concurrency', 'Filters', 'Description'].map((x) => h('th', {}, x)))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No work queues.'),
    h('div', { class: 'pager' },
      cursor ? h('button', { onclick: () => setQuery({ cursor: '' }) }, 'First page') : null,
      page.next_cursor ? h('button', { onclick: () => setQuery({ cursor: page.next_cursor }) }, 'Next page') : null)));
}
