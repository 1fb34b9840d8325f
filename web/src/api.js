// The console's only way to the server: /console/api/session for sign-in and
// /console/api/<service>/<Operation> for every API call (the server runs the API's own
// handler as the signed-in account). The CSRF token lives in memory only; the secret is
// sent once at sign-in and never kept.
let csrfToken = null;
let region = 'us-east-1';
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

async function parse(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, (body && body.__type) || 'Error', (body && body.message) || res.statusText);
    if (res.status === 401) {
      csrfToken = null;
      onSignedOut();
    }
    throw err;
  }
  return body || {};
}

export function setSignedOutHandler(fn) {
  onSignedOut = fn;
}

export function getRegion() {
  return region;
}

export function setRegion(r) {
  if (/^[a-z0-9-]{1,32}$/.test(r)) region = r;
}

export async function currentSession() {
  const res = await fetch('/console/api/session', { credentials: 'same-origin' });
  if (res.status === 401) return null;
  const s = await parse(res);
  csrfToken = s.csrfToken;
  return s;
}

export async function signIn(accessKeyId, secretAccessKey) {
  const res = await fetch('/console/api/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ accessKeyId, secretAccessKey }),
  });
  const s = await parse(res);
  csrfToken = s.csrfToken;
  return s;
}

export async function signOut() {
  const res = await fetch('/console/api/session', {
    method: 'DELETE',
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken || '' },
  });
  csrfToken = null;
  return parse(res);
}

export async function call(service, operation, input = {}) {
  const res = await fetch(`/console/api/${service}/${operation}?region=${encodeURIComponent(region)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken || '' },
    body: JSON.stringify(input),
  });
  return parse(res);
}

// Which of operations ([service, Operation] pairs) the session may call in the current
// region: { "service:Operation": true|false }.
export async function permissions(operations) {
  const res = await fetch(`/console/api/permissions?region=${encodeURIComponent(region)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken || '' },
    body: JSON.stringify({ operations: operations.map(([service, operation]) => ({ service, operation })) }),
  });
  const out = await parse(res);
  const map = {};
  (out.results || []).forEach((r) => {
    map[r.service + ':' + r.operation] = !!r.allowed;
  });
  return map;
}

export const iot = (op, input) => call('iot', op, input);
export const iam = (op, input) => call('iam', op, input);
export const sns = (op, input) => call('sns', op, input);

// Which input field an API error message names (the server's messages name the field).
export function fieldOf(err, fields) {
  if (!err || !err.message) return null;
  const m = err.message;
  for (const f of fields) {
    if (m.includes(f)) return f;
  }
  return null;
}
