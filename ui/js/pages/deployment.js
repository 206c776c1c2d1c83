// One deployment: schedule, upcoming runs, pause/resume, run now with parameters.
import { h, badge, tags, time, facts, json, table, errorBox } from '../dom.js';
import { get, post } from '../api.js';

export async function render(view, [id]) {
  const [d, upcoming, recent] = await Promise.all([
    get(`/api/deployments/${id}`),
    get(`/api/deployments/${id}/upcoming`, { limit: 10 }),
    get('/api/flow-runs', { deployment: id, limit: 10 }),
  ]);
  const status = h('div', { id: 'deployment-status' });
  const refresh = () => window.dispatchEvent(new Event('weft:refresh'));
  const params = h('textarea', { id: 'run-parameters', spellcheck: 'false' }, JSON.stringify(d.parameters || {}, null, 2));
  const runNow = async () => {
    status.replaceChildren();
    let parameters;
    try { parameters = JSON.parse(params.value || '{}'); } catch (e) {
      status.append(errorBox(new Error('parameters: not valid JSON: ' + e.message)));
      return;
    }
    try {
      const r = await post(`/api/deployments/${id}/run`, { parameters });
      status.append(h('div', { class: 'notice', id: 'run-created' }, 'Created flow run ',
        h('a', { href: `#/runs/${r.flow_run.id}` }, r.flow_run.name), ' (', r.flow_run.state ? r.flow_run.state.name : '', ')'));
    } catch (e) { status.append(errorBox(e)); }
  };
  const togglePause = async () => {
    try { await post(`/api/deployments/${id}/${d.paused ? 'resume' : 'pause'}`); refresh(); } catch (e) { status.append(errorBox(e)); }
  };
  const runRow = (r) => [h('a', { href: `#/runs/${r.id}` }, r.name), badge(r.state), time(r.expected_start_time || r.created)];
  view.append(
    h('h1', {}, d.full_name, ' ', h('span', { class: 'badge ' + (d.paused ? 'paused' : 'ready') }, d.paused ? 'paused' : 'active')),
    status,
    h('div', { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Deployment'), facts([
        ['Flow', h('a', { href: `#/runs?flow=${encodeURIComponent(d.flow_name)}` }, d.flow_name)],
        ['Description', d.description || '—'], ['Version', d.version || '—'],
        ['Schedule', d.schedule_description || 'no schedule'],
        ['Work queue', h('a', { href: `#/work-queues/${d.work_queue}` }, d.work_queue)],
        ['Entrypoint', h('span', { class: 'mono' }, (d.entrypoint || []).join(' '))],
        ['Storage', d.storage], ['Bundle', h('span', { class: 'mono' }, d.bundle_digest)],
        ['Runner', h('span', { class: 'mono' }, JSON.stringify(d.runner))],
        ['Tags', tags(d.tags)], ['Last scheduled', time(d.last_scheduled_time)],
      ]), h('div', { class: 'actions', style: 'margin-top:12px' },
        h('button', { id: 'toggle-pause', onclick: togglePause }, d.paused ? 'Resume schedule' : 'Pause schedule'))),
      h('div', { class: 'panel' }, h('h2', {}, 'Run now'),
        h('p', { class: 'muted' }, 'Parameters (JSON object, merged over the deployment\'s):'), params,
        h('div', { class: 'actions', style: 'margin-top:8px' }, h('button', { class: 'primary', id: 'run-now', onclick: runNow }, 'Run')),
        h('h2', { style: 'margin-top:14px' }, 'Default parameters'), json(d.parameters))),
    h('div', { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Upcoming runs'), table(['Run', 'State', 'When'], upcoming.flow_runs.map(runRow), 'No upcoming runs.')),
      h('div', { class: 'panel' }, h('h2', {}, 'Recent runs'), table(['Run', 'State', 'When'], recent.flow_runs.map(runRow), 'No runs yet.'),
        h('p', {}, h('a', { href: `#/runs?deployment=${id}` }, 'All runs of this deployment')))));
}
