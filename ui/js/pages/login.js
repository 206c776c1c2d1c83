// The login page, shown whenever the API answers 401: one API key field. The key goes to
// POST /api/login once; the server keeps the session in an HttpOnly cookie (the page never
// stores the key), then the current route is shown again.
import { h, errorBox } from '../dom.js';
import { login } from '../api.js';

export function render(view, reason) {
  const key = h('input', { id: 'login-key', type: 'password', autocomplete: 'off', required: true,
    placeholder: 'weft_…', size: 60, 'aria-label': 'API key' });
  const problem = h('div', { id: 'login-error' });
  const button = h('button', { class: 'primary', id: 'login-submit', type: 'submit' }, 'Log in');
  const form = h('form', { id: 'login-form', class: 'panel', onsubmit: async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    problem.replaceChildren();
    try {
      await login(key.value.trim());
      key.value = '';
      window.dispatchEvent(new Event('weft:login'));
    } catch (err) {
      problem.replaceChildren(errorBox(err));
      button.disabled = false;
    }
  } },
  h('p', {}, h('label', { for: 'login-key' }, 'API key')),
  h('p', {}, key, ' ', button),
  problem,
  h('p', { class: 'muted' }, 'A viewer, operator or admin key: ',
    h('span', { class: 'mono' }, 'weft api-key create NAME --scope viewer'),
    ' makes one; the server\'s local admin key is in ',
    h('span', { class: 'mono' }, '$WEFT_HOME/admin.key'), '.'));
  view.append(h('h1', {}, 'Log in'));
  if (reason) view.append(h('p', { class: 'muted', id: 'login-reason' }, reason));
  view.append(form);
  key.focus();
}
