// Shared pieces: htm templates over Preact (text is escaped by construction:
// never innerHTML), links that stay in the app, and small components.

import {
  html, render, useState, useEffect, useRef, useMemo, useCallback,
} from '../vendor/htm-preact-standalone.module.js';
import { t } from './i18n.js';

export { html, render, useState, useEffect, useRef, useMemo, useCallback };

const listeners = new Set();

/** Goes to an app path without reloading the page. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  listeners.forEach((listener) => listener(location.pathname + location.search));
}

window.addEventListener('popstate', () => {
  listeners.forEach((listener) => listener(location.pathname + location.search));
});

/** The current path, re-rendering on navigation. */
export function useLocation() {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    listeners.add(setPath);
    return () => listeners.delete(setPath);
  }, []);
  return path;
}

/** Goes to `to` once rendered (never during a render). */
export function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

/** An in-app link: a real <a href>, so it opens in a new tab and works
 *  with the keyboard, handled here on a plain click. */
export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

/** Loads data for a page: [value, error, reload]. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ value: undefined, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ value: undefined, error: null });
    load().then(
      (value) => live && setState({ value, error: null }),
      (error) => live && setState({ value: undefined, error }),
    );
    return () => { live = false; };
  }, [...deps, round]);
  return [state.value, state.error, () => setRound((r) => r + 1)];
}

/** A page's loading or error state, or its content. */
export function Loaded({ value, error, retry, children }) {
  if (error) {
    return html`<div class="notice error" role="alert">
      <strong>${t('error')}:</strong> ${error.message}
      ${retry && html` <button type="button" onClick=${retry}>${t('retry')}</button>`}
    </div>`;
  }
  if (value === undefined) return html`<p class="loading" role="status">${t('loading')}</p>`;
  return children(value);
}

/** A message that screen readers announce. */
export function Notice({ kind = 'info', children }) {
  if (!children) return null;
  return html`<div class=${`notice ${kind}`} role=${kind === 'error' ? 'alert' : 'status'}>${children}</div>`;
}

/** A status pill; the class gives its colour, the text says it. */
export function Badge({ kind, children }) {
  return html`<span class=${`badge badge-${kind}`}>${children}</span>`;
}

/** Today in Vietnam, as YYYY-MM-DD. */
export function today() {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit',
  }).format(new Date());
  return parts;
}
