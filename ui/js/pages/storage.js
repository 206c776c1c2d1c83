// Storage: kind and non-secret config only (the server stores no secrets at all).
import { h, time } from '../dom.js';
import { get } from '../api.js';
import { setQuery } from '../app.js';

export async function render(view, _params, query) {
  const cursor = query.get('cursor') || '';
  const page = await get('/api/storages', { limit: 50, cursor });
  const rows = page.storages.map((st) => h('tr', {},
    h('td', {}, st.name, st.is_default ? h('span', { class: 'tag' }, 'default') : null),
    h('td', {}, st.kind),
    h('td', {}, Object.keys(st.config).length ? h('span', { class: 'mono' }, Object.entries(st.config).map(([k, v]) => `${k}=${v}`).join('  ')) : '—'),
    h('td', {}, st.used_by.length ? st.used_by.join(', ') : h('span', { class: 'muted' }, 'unused')),
    h('td', {}, time(st.created))));
  view.append(h('h1', {}, 'Storage'),
    h('p', { class: 'muted' }, 'Credentials are never stored by the server: they come from the environment of whoever reads or writes bundles.'),
    h('div', { class: 'panel' },
      rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Config', 'Used by', 'Created'].map((x) => h('th', {}, x)))), h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'No storage.'),
      h('div', { class: 'pager' },
        cursor ? h('button', { onclick: () => setQuery({ cursor: '' }) }, 'First page') : null,
        page.next_cursor ? h('button', { onclick: () => setQuery({ cursor: page.next_cursor }) }, 'Next page') : null)));
}
