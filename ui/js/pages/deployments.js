// Deployments: list with schedule, paused state and work queue.
import { h, tags, time } from '../dom.js';
import { get } from '../api.js';
import { setQuery } from '../app.js';

export async function render(view, _params, query) {
  const cursor = query.get('cursor') || '';
  const page = await get('/api/deployments', { limit: 50, cursor, flow: query.get('flow') || '' });
  const rows = page.deployments.map((d) => h('tr', { 'data-deployment': d.full_name },
    h('td', {}, h('a', { href: `#/deployments/${d.id}` }, d.full_name)),
    h('td', {}, d.schedule_description || h('span', { class: 'muted' }, 'no schedule')),
    h('td', {}, h('span', { class: 'badge ' + (d.paused ? 'paused' : 'ready') }, d.paused ? 'paused' : 'active')),
    h('td', {}, h('a', { href: `#/work-queues/${d.work_queue}` }, d.work_queue)),
    h('td', {}, d.storage), h('td', {}, tags(d.tags)), h('td', {}, time(d.updated))));
  view.append(h('h1', {}, 'Deployments'), h('div', { class: 'panel' },
    rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Deployment', 'Schedule', 'Status', 'Work queue', 'Storage', 'Tags', 'Updated'].map((x) => h('th', {}, x)))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No deployments yet: weft deployment create deploy.yaml'),
    h('div', { class: 'pager' },
      cursor ? h('button', { onclick: () => setQuery({ cursor: '' }) }, 'First page') : null,
      page.next_cursor ? h('button', { onclick: () => setQuery({ cursor: page.next_cursor }) }, 'Next page') : null)));
}
