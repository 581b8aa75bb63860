// Fetch wrapper for the admin API: the session cookie goes along by itself, this adds the CSRF
// header to every change and turns `{error:{code,message,details}}` answers into ApiError.

let session = null;
let skewMs = 0;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** 404 because the server has no such route (a feature not on this server yet). */
  get noRoute() {
    return this.status === 404 && /^no route for /.test(this.message);
  }
}

/** Loads the console session (actor, CSRF token, server time); sends the browser to sign-in without one. */
export async function loadSession() {
  const res = await fetch('/admin/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (res.status === 401) {
    location.assign('/admin/login');
    return new Promise(() => {});
  }
  session = await res.json();
  skewMs = Date.parse(session.serverTime) - Date.now();
  return session;
}

export const currentSession = () => session;

/** Only an admin changes anything: a readonly viewer is not offered what the API would refuse (403). */
export const canChange = () => session?.actor?.role === 'admin';

/** Now on the server's clock (the browser's clock may differ). */
export const serverNow = () => Date.now() + skewMs;

/**
 * api('GET', '/devices', { query }) → parsed JSON (or text for non-JSON answers).
 * opts.json: a body sent as JSON; opts.text + opts.type: a raw body; opts.raw: answer {body, headers}.
 */
export async function api(method, path, opts = {}) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { Accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.text !== undefined) {
    headers['Content-Type'] = opts.type ?? 'text/plain';
    body = opts.text;
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = session?.csrfToken ?? '';
  const res = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  if (res.status === 401) {
    location.assign('/admin/login?error=expired');
    return new Promise(() => {});
  }
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  const payload = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const e = typeof payload === 'object' && payload?.error ? payload.error : { code: 'http', message: `${res.status} ${res.statusText}` };
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  return opts.raw ? { body: payload, headers: res.headers } : payload;
}

/** Like api(), but a route this server does not have yet answers `fallback` instead of throwing. */
export async function optional(method, path, opts, fallback = null) {
  try {
    return await api(method, path, opts);
  } catch (err) {
    if (err instanceof ApiError && err.noRoute) return fallback;
    throw err;
  }
}

export async function signOut() {
  await fetch('/admin/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': session?.csrfToken ?? '' } });
  location.assign('/admin/login?signedOut=1');
}
