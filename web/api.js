// api: the client of ONE's HTTP API (/api/v1) for the web app. The session
// is a cookie (HttpOnly, SameSite=Strict); writes echo its CSRF token.

let csrf = sessionStorage.getItem('one.csrf') || '';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error && body.error.code;
    this.path = body && body.error && body.error.path;
  }
}

export async function api(method, path, body) {
  const headers = {'Accept': 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch('/api/v1' + path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = path => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = path => api('DELETE', path);

export async function signIn(email, password, signup, name) {
  const body = {email, password, session: 'cookie'};
  if (signup && name) body.name = name;
  const r = await api('POST', signup ? '/auth/signup' : '/auth/signin', body);
  csrf = r.csrf || r.csrfToken || '';
  sessionStorage.setItem('one.csrf', csrf);
  return r;
}

export async function session() {
  const s = await api('GET', '/auth/session');
  if (s && (s.csrf || s.csrfToken)) {
    csrf = s.csrf || s.csrfToken;
    sessionStorage.setItem('one.csrf', csrf);
  }
  return s;
}

export async function signOut() {
  try { await api('POST', '/auth/signout', {}); } finally {
    csrf = '';
    sessionStorage.removeItem('one.csrf');
  }
}

// Server-Sent Events on path: handlers is {event: fn(data)}. The browser
// reconnects by itself with Last-Event-ID, so nothing is missed; a "reset"
// (the server's log no longer reaches back that far) reloads the page.
export function stream(path, handlers) {
  const es = new EventSource('/api/v1' + path, {withCredentials: true});
  // the log no longer reaches back to where this stream stood: start over
  es.addEventListener('reset', () => location.reload());
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, ev => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      fn(data);
    });
  }
  return es;
}
