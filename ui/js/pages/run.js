// One flow run: facts, parameters, state history, task runs on a timeline, logs,
// retry / cancel.
import { h, badge, tags, time, duration, facts, json, table, errorBox } from '../dom.js';
import { get, post } from '../api.js';
import { timeline } from '../chart.js';

const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED'];

async function loadLogs(id, afterId = 0) {
  try {
    return await get(`/api/flow-runs/${id}/logs`, { limit: 1000, after_id: afterId || '' });
  } catch (e) {
    if (e.status === 404) return null;  // this server has no log service
    throw e;
  }
}

function logLine(l) {
  return h('div', { class: `line lvl-${l.level}` },
    `${time(l.timestamp)} ${String(l.level).padEnd(8)} ${l.task_run_name ? '[' + l.task_run_name + '] ' : ''}${l.message}`);
}

// The logs panel; while the run is not finished it polls for new lines (live).
function logsPanel(id, logs, live) {
  if (logs === null) {
    return h('p', { class: 'placeholder' }, 'Logs are not available yet on this server.');
  }
  const box = h('div', { class: 'logs', id: 'logs' }, logs.logs.map(logLine));
  const empty = h('p', { class: 'muted' }, live ? 'No log lines yet (following).' : 'No log lines.');
  let after = logs.next_after_id || (logs.logs.length ? logs.logs[logs.logs.length - 1].id : 0);
  if (live) {
    requestAnimationFrame(() => { box.scrollTop = box.scrollHeight; });
    const timer = setInterval(async () => {
      if (!box.isConnected && !empty.isConnected) { clearInterval(timer); return; }
      try {
        const more = await loadLogs(id, after);
        if (!more || !more.logs.length) return;
        const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
        for (const l of more.logs) box.appendChild(logLine(l));
        after = more.next_after_id || more.logs[more.logs.length - 1].id;
        if (empty.isConnected) empty.replaceWith(box);
        if (stick) box.scrollTop = box.scrollHeight;
      } catch (_) { /* the next tick tries again */ }
    }, 2000);
  }
  return logs.logs.length ? box : empty;
}

// Which runs fed a task run (task_inputs): upstream names, "after x" for wait_for.
function taskInputs(inputs, runs) {
  if (!inputs) return '—';
  const names = new Map(runs.map((r) => [r.id, r.name]));
  const name = (i) => names.get(i.task_run_id) || i.task_run_id.slice(0, 8);
  const parts = [...(inputs.args || []).map(name), ...(inputs.wait_for || []).map((i) => `after ${name(i)}`)];
  return parts.length ? [...new Set(parts)].join(', ') : '—';
}

export async function render(view, [id]) {
  const [run, tasks, logs] = await Promise.all([
    get(`/api/flow-runs/${id}`),
    get(`/api/flow-runs/${id}/task-runs`, { limit: 200 }),
    loadLogs(id),
  ]);
  const status = h('div', {});
  const act = async (what) => {
    status.replaceChildren();
    try {
      const r = await post(`/api/flow-runs/${id}/${what}`);
      status.append(h('div', { class: 'notice' }, `${what}: ${r.decision}${r.state ? ' → ' + r.state.name : ''}${r.reason ? ' (' + r.reason + ')' : ''}`));
      setTimeout(() => window.dispatchEvent(new Event('weft:refresh')), 600);
    } catch (e) { status.append(errorBox(e)); }
  };
  const terminal = run.state && TERMINAL.includes(run.state.type);
  // A run that is not finished: its state, task runs and history refresh every 10 s (the
  // logs panel follows on its own, every 2 s).
  if (!terminal) {
    setTimeout(() => {
      if (view.isConnected && document.body.dataset.route === `/runs/${id}`) {
        window.dispatchEvent(new Event('weft:refresh'));
      }
    }, 10000);
  }
  view.append(
    h('h1', {}, `${run.flow_name} / ${run.name} `, badge(run.state)),
    status,
    h('div', { class: 'panel actions' },
      h('button', { id: 'retry', onclick: () => act('retry'), disabled: !terminal, title: 'propose a new Scheduled state' }, 'Retry'),
      h('button', { id: 'cancel', class: 'danger', onclick: () => act('cancel'), disabled: terminal }, 'Cancel'),
      run.state && run.state.type === 'PAUSED'
        ? h('button', { id: 'resume', onclick: () => act('resume'), title: 'Paused -> Running: the flow goes on' }, 'Resume')
        : '',
      h('span', { class: 'muted' }, run.state && run.state.message ? run.state.message : '')),
    h('div', { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Run'), facts([
        ['Id', h('span', { class: 'mono' }, run.id)],
        ['Flow', h('a', { href: `#/runs?flow=${encodeURIComponent(run.flow_name)}` }, run.flow_name)],
        ['Deployment', run.deployment_id ? h('a', { href: `#/deployments/${run.deployment_id}` }, run.deployment_name) : '—'],
        ['Work queue', run.work_queue ? h('a', { href: `#/work-queues/${run.work_queue}` }, run.work_queue) : '—'],
        ['Agent', run.agent_name || '—'],
        ['Expected start', time(run.expected_start_time)],
        ['Start', time(run.start_time)], ['End', time(run.end_time)],
        ['Duration', duration(run.duration_seconds)], ['Run count', run.run_count],
        ['Tags', tags(run.tags)],
        ['Parent run', run.parent_flow_run_id ? h('a', { href: `#/runs/${run.parent_flow_run_id}` }, run.parent_flow_run_id) : '—'],
        ['Subflow runs', run.subflow_runs && run.subflow_runs.length
          ? h('span', {}, ...run.subflow_runs.map((ch) => h('a', { href: `#/runs/${ch.id}`, style: 'margin-right:0.6em' }, `${ch.flow_name}/${ch.name}`)))
          : '—'],
      ])),
      h('div', { class: 'panel' }, h('h2', {}, 'Parameters'), json(run.parameters))),
    h('div', { class: 'panel' }, h('h2', {}, `Task runs (${tasks.task_runs.length}${tasks.next_cursor ? '+' : ''})`),
      timeline(tasks.task_runs, run.start_time, run.end_time),
      h('div', { id: 'task-runs' }, table(['Task run', 'State', 'Start', 'End', 'Duration', 'Inputs'], tasks.task_runs.map((t) => [
        h('span', { class: 'task-run-name' }, t.name), badge(t.state), time(t.start_time), time(t.end_time), duration(t.total_run_time_seconds),
        h('span', { class: 'task-run-inputs' }, taskInputs(t.task_inputs, tasks.task_runs)),
      ]), 'This run has no task runs.'))),
    h('div', { class: 'panel' }, h('h2', {}, run.states_truncated ? `State history (newest ${run.states.length})` : 'State history'),
      table(['Time', 'State', 'Message'], run.states.map((st) => [time(st.timestamp), badge(st), st.message || '']))),
    h('div', { class: 'panel' }, h('h2', {}, 'Logs'), logsPanel(id, logs, !terminal)));
}
