// The app's one way to the server: the public REST API, signed in by the
// HttpOnly session cookie the browser sends by itself. Writes carry
// `X-Chiso-Web: 1` (the CSRF rule); every request says the language, so
// problem details come back in the language on screen.

import { lang } from './i18n.js';

/** An RFC 9457 problem the API answered with. */
export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || 'unknown';
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    this.requestId = body?.request_id;
  }
}

let onSignedOut = () => {};

/** What to do when the API says the session is gone (401). */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/** Calls the API; resolves to the parsed JSON (or null for 204), or
 *  rejects with a Problem. */
export async function api(method, path, body) {
  const headers = { 'Accept-Language': lang(), Accept: 'application/json' };
  if (method !== 'GET') headers['X-Chiso-Web'] = '1';
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text };
  }
  if (!response.ok) {
    const problem = new Problem(response.status, parsed);
    if (response.status === 401 && !path.startsWith('/api/v1/session')) onSignedOut(problem);
    throw problem;
  }
  return parsed;
}

export const get = (path) => api('GET', path);

/** Every page of a list (cursor in the `x-next-page-token` header). */
export async function getAll(path, pageSize = 200) {
  const items = [];
  let token = '';
  for (let page = 0; page < 50; page += 1) {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}page_size=${pageSize}${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
    const response = await fetch(url, {
      headers: { 'Accept-Language': lang(), Accept: 'application/json' },
      credentials: 'same-origin',
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const problem = new Problem(response.status, body);
      if (response.status === 401) onSignedOut(problem);
      throw problem;
    }
    items.push(...body);
    token = response.headers.get('x-next-page-token') || '';
    if (!token) break;
  }
  return items;
}

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Sends a filled XLSX template (its bytes as the body). */
export async function uploadXlsx(path, file) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Accept-Language': lang(),
      'X-Chiso-Web': '1',
      'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    },
    body: file,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Problem(response.status, body);
  return body;
}
