// Notifications: policies (states x tags -> webhook), pause/resume, recent deliveries.
// Webhook URLs come masked from the server (a Slack webhook's path is its key).
import { h, tags, time, table, errorBox } from '../dom.js';
import { get, post } from '../api.js';

export async function render(view) {
  let policies, deliveries;
  try {
    [policies, deliveries] = await Promise.all([
      get('/api/notifications'),
      get('/api/notifications/deliveries', { limit: 50 }),
    ]);
  } catch (e) {
    if (e.status !== 404) throw e;
    view.append(h('h1', {}, 'Notifications'), h('div', { class: 'panel' },
      h('p', { class: 'placeholder' }, 'Notifications: not available yet on this server.')));
    return;
  }
  const status = h('div', {});
  const toggle = async (p) => {
    try { await post(`/api/notifications/${p.id}/${p.paused ? 'resume' : 'pause'}`); window.dispatchEvent(new Event('weft:refresh')); } catch (e) { status.append(errorBox(e)); }
  };
  const statusBadge = (s) => h('span', { class: 'badge ' + ({ delivered: 'COMPLETED', failed: 'FAILED', pending: 'SCHEDULED' }[s] || '') }, s);
  view.append(
    h('h1', {}, 'Notifications'),
    status,
    h('div', { class: 'panel' }, h('h2', {}, 'Policies'),
      table(['States', 'Tags', 'Webhook', 'Format', 'Status', ''], policies.notifications.map((p) => [
        p.states.join(', '), p.tags.length ? tags(p.tags) : h('span', { class: 'muted' }, 'any run'),
        h('span', { class: 'mono' }, p.webhook), p.format,
        h('span', { class: 'badge ' + (p.paused ? 'paused' : 'ready') }, p.paused ? 'paused' : 'active'),
        h('button', { onclick: () => toggle(p) }, p.paused ? 'Resume' : 'Pause'),
      ]), 'No notification policies: weft notification create --state Failed --state Crashed --webhook URL')),
    h('div', { class: 'panel' }, h('h2', {}, 'Recent deliveries'),
      table(['Run', 'State', 'When', 'Status', 'Attempts', 'Last error'], deliveries.deliveries.map((d) => [
        h('a', { href: `#/runs/${d.flow_run_id}` }, `${d.flow_name} / ${d.flow_run_name}`),
        h('span', { class: 'badge ' + d.state_type }, d.state_name), time(d.state_timestamp),
        statusBadge(d.status), d.attempts, d.last_error || '',
      ]), 'Nothing sent yet.')));
}
