// Flow runs: history chart + paged, filterable list.
import { h, badge, tags, time, duration } from '../dom.js';
import { get } from '../api.js';
import { historyChart } from '../chart.js';
import { setQuery } from '../app.js';

const STATES = ['', 'SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLING', 'CANCELLED',
  'CRASHED', 'PAUSED', 'Late', 'AwaitingRetry', 'Retrying', 'TimedOut', 'Cached'];
const FILTERS = ['flow', 'deployment', 'state', 'tag', 'since', 'until'];

function toIso(local) { return local ? new Date(local).toISOString() : ''; }
function toLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function render(view, _params, query) {
  const filter = {};
  for (const k of FILTERS) filter[k] = query.get(k) || '';
  const cursor = query.get('cursor') || '';
  const [history, page] = await Promise.all([
    get('/api/flow-runs/history', { ...filter, limit: 200 }),
    get('/api/flow-runs', { ...filter, limit: 50, cursor }),
  ]);

  const inputs = {
    flow: h('input', { name: 'flow', value: filter.flow, placeholder: 'flow name', size: 14 }),
    deployment: h('input', { name: 'deployment', value: filter.deployment, placeholder: 'flow/deployment', size: 16 }),
    state: h('select', { name: 'state' }, STATES.map((st) => h('option', { value: st, selected: st === filter.state }, st || 'any state'))),
    tag: h('input', { name: 'tag', value: filter.tag, placeholder: 'tag', size: 10 }),
    since: h('input', { name: 'since', type: 'datetime-local', value: toLocal(filter.since) }),
    until: h('input', { name: 'until', type: 'datetime-local', value: toLocal(filter.until) }),
  };
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    setQuery({ flow: inputs.flow.value.trim(), deployment: inputs.deployment.value.trim(), state: inputs.state.value,
      tag: inputs.tag.value.trim(), since: toIso(inputs.since.value), until: toIso(inputs.until.value), cursor: '' });
  } },
  h('label', {}, 'Flow', inputs.flow), h('label', {}, 'Deployment', inputs.deployment),
  h('label', {}, 'State', inputs.state), h('label', {}, 'Tag', inputs.tag),
  h('label', {}, 'Created since', inputs.since), h('label', {}, 'until', inputs.until),
  h('button', { class: 'primary', type: 'submit' }, 'Filter'),
  h('button', { type: 'button', onclick: () => setQuery(Object.fromEntries([...FILTERS, 'cursor'].map((k) => [k, '']))) }, 'Clear'));

  const rows = page.flow_runs.map((r) => [
    h('a', { href: `#/runs/${r.id}`, class: 'run-link' }, r.name),
    h('a', { href: `#/runs?flow=${encodeURIComponent(r.flow_name)}` }, r.flow_name),
    badge(r.state),
    r.deployment_id ? h('a', { href: `#/deployments/${r.deployment_id}` }, r.deployment_name) : h('span', { class: 'muted' }, '—'),
    time(r.start_time || r.expected_start_time || r.created),
    r.start_time ? duration(r.duration_seconds) : h('span', { class: 'muted' }, '—'),
    tags(r.tags),
  ]);
  const table = rows.length
    ? h('table', { id: 'runs-table' }, h('thead', {}, h('tr', {}, ['Run', 'Flow', 'State', 'Deployment', 'Start', 'Duration', 'Tags'].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows.map((r, i) => h('tr', { 'data-run-id': page.flow_runs[i].id }, r.map((c) => h('td', {}, c))))))
    : h('p', { class: 'muted', id: 'runs-empty' }, 'No flow runs match. Run a flow (for example ./build/dev/examples/hello_flow) and it shows up here.');

  view.append(
    h('h1', {}, 'Flow runs ', h('button', { id: 'refresh', onclick: () => window.dispatchEvent(new Event('weft:refresh')) }, 'Refresh')),
    h('div', { class: 'panel' }, h('h2', {}, `History (newest ${history.points.length} runs)`),
      historyChart(history.points, (p) => { window.location.hash = `#/runs/${p.id}`; })),
    h('div', { class: 'panel' }, form, table,
      h('div', { class: 'pager' },
        cursor ? h('button', { onclick: () => setQuery({ cursor: '' }) }, 'First page') : null,
        page.next_cursor ? h('button', { onclick: () => setQuery({ cursor: page.next_cursor }) }, 'Next page') : null)));
}
