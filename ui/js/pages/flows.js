// Flows: every flow that has registered, with its tags.
import { h, tags, time } from '../dom.js';
import { get } from '../api.js';
import { setQuery } from '../app.js';

export async function render(view, _params, query) {
  const cursor = query.get('cursor') || '';
  const page = await get('/api/flows', { limit: 50, cursor });
  const rows = page.flows.map((f) => h('tr', {},
    h('td', {}, h('a', { href: `#/runs?flow=${encodeURIComponent(f.name)}` }, f.name)),
    h('td', {}, tags(f.tags)),
    h('td', {}, f.parameters_schema ? h('span', { class: 'mono' }, (Array.isArray(f.parameters_schema) ? f.parameters_schema.map((p) => p.name) : Object.keys(f.parameters_schema.properties || f.parameters_schema)).join(', ')) : '—'),
    h('td', {}, time(f.created)),
    h('td', {}, h('a', { href: `#/deployments?flow=${encodeURIComponent(f.name)}` }, 'deployments'))));
  view.append(h('h1', {}, 'Flows'), h('div', { class: 'panel' },
    rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Flow', 'Tags', 'Parameters', 'Created', ''].map((x) => h('th', {}, x)))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No flows yet.'),
    h('div', { class: 'pager' },
      cursor ? h('button', { onclick: () => setQuery({ cursor: '' }) }, 'First page') : null,
      page.next_cursor ? h('button', { onclick: () => setQuery({ cursor: page.next_cursor }) }, 'Next page') : null)));
}
