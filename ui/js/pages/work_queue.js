// One work queue: filters, paused state, preview of the runs it would hand out, agents.
import { h, badge, tags, time, ago, facts, table, errorBox } from '../dom.js';
import { get, post } from '../api.js';
import { statusBadge } from './work_queues.js';

export async function render(view, [name]) {
  const [q, preview] = await Promise.all([
    get(`/api/work-queues/${name}`),
    get(`/api/work-queues/${name}/preview`, { limit: 20 }),
  ]);
  const status = h('div', {});
  const toggle = async () => {
    try { await post(`/api/work-queues/${name}/${q.paused ? 'resume' : 'pause'}`); window.dispatchEvent(new Event('weft:refresh')); } catch (e) { status.append(errorBox(e)); }
  };
  view.append(
    h('h1', {}, `Work queue ${q.name} `, statusBadge(q)),
    status,
    h('div', { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Queue'), facts([
        ['Description', q.description || '—'], ['Priority', q.priority],
        ['Concurrency limit', q.concurrency_limit === null ? 'unlimited' : q.concurrency_limit],
        ['Tags (all required)', q.filter.tags.length ? tags(q.filter.tags) : 'any'],
        ['Deployments', q.filter.deployments.length ? tags(q.filter.deployments) : 'any'],
        ['Runner types', q.filter.runner_types.length ? tags(q.filter.runner_types) : 'any'],
        ['Runs active', preview.active_runs], ['Held back (paused or at the limit)', preview.held_back],
      ]), h('div', { class: 'actions', style: 'margin-top:12px' },
        h('button', { id: 'toggle-queue', onclick: toggle }, q.paused ? 'Resume' : 'Pause'))),
      h('div', { class: 'panel', id: 'queue-agents' }, h('h2', {}, 'Agents'), table(['Agent', 'Host', 'Running', 'Last poll', 'Last seen'],
        q.agents.map((a) => [a.name, a.hostname, a.limit ? `${a.running} / ${a.limit}` : String(a.running), h('span', { title: time(a.last_polled) }, ago(a.last_polled)), h('span', { title: time(a.last_seen) }, ago(a.last_seen))]),
        'No agent has polled this queue in the last hour: weft agent start -q ' + q.name))),
    h('div', { class: 'panel' }, h('h2', {}, `Preview: runs due in the next ${preview.hours} h (${preview.total})`),
      q.paused ? h('p', { class: 'notice' }, 'This queue is paused: agents get nothing from it until it is resumed.') : null,
      table(['Run', 'Flow', 'State', 'Due'], preview.flow_runs.map((r) => [h('a', { href: `#/runs/${r.id}` }, r.name), r.flow_name, badge(r.state), time(r.expected_start_time)]), 'Nothing due.')));
}
