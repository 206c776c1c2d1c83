// The JSON API (docs/api.md). Errors come back as {"error": {"code", "message"}}. The
// browser sends the HttpOnly session cookie set by POST /api/login; a 401 (no session, or
// it ended) makes the app show the login page (app.js).
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, params, body) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || String(res.status), e.message || `HTTP ${res.status}`);
  }
  return data;
}

export const get = (path, params) => call('GET', path, params);
export const post = (path, body = {}) => call('POST', path, undefined, body);

// Sessions: the key is sent once; the server answers with a session cookie (never the key).
export const login = (apiKey) => post('/api/login', { api_key: apiKey });
export const logout = () => post('/api/logout');
export const whoami = () => get('/api/whoami');
