// Pages whose server side is not in this build yet: say so, show no made-up data.
import { h } from '../dom.js';

const TITLES = {
  'concurrency-limits': ['Concurrency limits', 'weft concurrency-limit'],
  notifications: ['Notifications', 'weft notification'],
  logs: ['Logs', 'weft flow-run logs ID'],
};

export async function render(view, [which]) {
  const [title, cli] = TITLES[which] || [which, ''];
  view.append(h('h1', {}, title), h('div', { class: 'panel' },
    h('p', { class: 'placeholder' }, `${title}: not available yet in the dashboard.`),
    cli ? h('p', { class: 'muted' }, 'Use the CLI: ', h('span', { class: 'mono' }, cli)) : null));
}
