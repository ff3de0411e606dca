// The chiso web app: sign-in, the page frame, and which page each path
// shows. Served as-is (no build step); see docs/WEBAPP.md.

import {
  html, render, useState, useEffect, useRef, navigate, useLocation, Link, Notice, Redirect,
} from './ui.js';
import { api, Problem, whenSignedOut } from './api.js';
import { t, lang, setLang } from './i18n.js';
import { ReportList, ReportEntry, OwnResults } from './reporter.js';
import { ReviewQueue, CompletenessPage } from './officer.js';
import { Dashboard } from './dashboard.js';
import { Rankings } from './rankings.js';
import { Catalogue } from './catalogue.js';
import {
  AgencyTree, Registrations, UnlockPage, Plans,
} from './registry.js';

/** Renew this long before the token expires. */
const RENEW_MARGIN_SECS = 120;

function SignIn({ onSignedIn, notice }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const first = useRef(null);
  useEffect(() => first.current?.focus(), []);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const session = await api('POST', '/api/v1/session', {
        client_id: String(form.get('client_id') || '').trim(),
        client_secret: String(form.get('client_secret') || ''),
      });
      onSignedIn(session);
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="signin" aria-labelledby="signin-title">
    <h1 id="signin-title">${t('sign_in_title')}</h1>
    <${Notice} kind="info">${notice}<//>
    <p class="help">${t('sign_in_help')}</p>
    <form onSubmit=${submit} novalidate>
      <label for="client_id">${t('client_id')}</label>
      <input id="client_id" name="client_id" ref=${first} autocomplete="username" required
        aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? 'signin-error' : undefined} />
      <label for="client_secret">${t('client_secret')}</label>
      <input id="client_secret" name="client_secret" type="password" autocomplete="current-password" required
        aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? 'signin-error' : undefined} />
      ${error && html`<p id="signin-error" class="field-error" role="alert">${error.message}</p>`}
      <button type="submit" class="primary" disabled=${busy}>${busy ? t('signing_in') : t('sign_in')}</button>
    </form>
  </section>`;
}

function navFor(session) {
  switch (session.role) {
    case 'agency_reporter':
      return [['/app/reports', 'nav_reports'], ['/app/results', 'nav_results']];
    case 'province_officer':
    case 'admin':
      return [['/app/dashboard', 'nav_dashboard'], ['/app/rankings', 'nav_rankings'], ['/app/review', 'nav_review'],
        ['/app/completeness', 'nav_completeness'], ['/app/unlock', 'nav_unlock'], ['/app/agencies', 'nav_agencies'],
        ['/app/registrations', 'nav_registrations'], ['/app/plans', 'nav_plans'], ['/app/catalogue', 'nav_catalogue']];
    default:
      return [['/app/dashboard', 'nav_dashboard'], ['/app/rankings', 'nav_rankings'], ['/app/completeness', 'nav_completeness'],
        ['/app/plans', 'nav_plans']];
  }
}

function home(session) {
  return session.role === 'agency_reporter' ? '/app/reports' : '/app/dashboard';
}

function Frame({ session, onSignOut, onLanguage, children, path }) {
  return html`<div class="frame">
    <a class="skip" href="#main">${lang() === 'en' ? 'Skip to content' : 'Chuyển đến nội dung'}</a>
    <header class="top">
      <${Link} href=${home(session)} class="brand">${t('app_name')}<//>
      <nav aria-label=${lang() === 'en' ? 'Main' : 'Chính'}>
        <ul>${navFor(session).map(([href, key]) => html`<li>
          <${Link} href=${href} aria-current=${path.startsWith(href) ? 'page' : undefined}>${t(key)}<//>
        </li>`)}</ul>
      </nav>
      <div class="who">
        <span class="role">${t(`role_${session.role}`)}</span>
        ${session.agency_code && html` <span class="code">${session.agency_code}</span>`}
        ${!session.agency_code && session.province_code && html` <span class="code">${session.province_code}</span>`}
      </div>
      <button type="button" class="link" onClick=${onLanguage} aria-label=${t('switch_language_label')} lang=${lang() === 'en' ? 'vi' : 'en'}>${t('switch_language')}</button>
      <button type="button" onClick=${onSignOut} id="sign-out">${t('sign_out')}</button>
    </header>
    <main id="main" tabindex="-1">${children}</main>
  </div>`;
}

function Page({ session, path }) {
  const [pathname, search] = path.split('?');
  const params = new URLSearchParams(search || '');
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (pathname === '/' || pathname === '/app' || pathname === '/app/' || pathname.startsWith('/app/signin')) {
    return html`<${Redirect} to=${home(session)} />`;
  }
  if (parts[0] === 'app') {
    if (parts[1] === 'reports' && parts.length === 2) return html`<${ReportList} session=${session} />`;
    if (parts[1] === 'reports' && parts.length === 4) {
      return html`<${ReportEntry} session=${session} form=${parts[2]} period=${parts[3]}
        agency=${params.get('agency') || session.agency_code} />`;
    }
    if (parts[1] === 'review') return html`<${ReviewQueue} session=${session} />`;
    if (parts[1] === 'completeness') return html`<${CompletenessPage} session=${session} params=${params} />`;
    if (parts[1] === 'dashboard') return html`<${Dashboard} session=${session} params=${params} />`;
    if (parts[1] === 'rankings') return html`<${Rankings} session=${session} params=${params} />`;
    if (parts[1] === 'results') return html`<${OwnResults} session=${session} params=${params} />`;
    if (parts[1] === 'agencies') return html`<${AgencyTree} session=${session} params=${params} />`;
    if (parts[1] === 'registrations') return html`<${Registrations} session=${session} params=${params} />`;
    if (parts[1] === 'unlock') return html`<${UnlockPage} session=${session} params=${params} />`;
    if (parts[1] === 'plans') return html`<${Plans} session=${session} params=${params} />`;
    if (parts[1] === 'catalogue') return html`<${Catalogue} session=${session} params=${params} />`;
  }
  return html`<p>${t('not_found')}</p>`;
}

function App() {
  const [session, setSession] = useState(undefined);
  const [notice, setNotice] = useState(null);
  const [, setLanguage] = useState(lang());
  const path = useLocation();

  useEffect(() => {
    document.documentElement.lang = lang();
    whenSignedOut(() => {
      setSession(null);
      setNotice(t('session_ended'));
    });
    api('GET', '/api/v1/session').then(setSession, () => setSession(null));
  }, []);

  // Renew the token before it expires, for as long as the page is open and
  // the session's cap allows; a refusal ends the session.
  useEffect(() => {
    if (!session) return undefined;
    const wait = Math.max(session.token_expires_in - RENEW_MARGIN_SECS, 15) * 1000;
    const timer = setTimeout(async () => {
      try {
        setSession(await api('POST', '/api/v1/session/renew'));
      } catch (problem) {
        if (problem instanceof Problem && problem.status === 401) {
          setSession(null);
          setNotice(t('session_ended'));
        }
      }
    }, wait);
    return () => clearTimeout(timer);
  }, [session]);

  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  const onSignOut = async () => {
    try {
      await api('DELETE', '/api/v1/session');
    } finally {
      setSession(null);
      setNotice(null);
      navigate('/app/signin', { replace: true });
    }
  };
  const onLanguage = () => {
    setLang(lang() === 'en' ? 'vi' : 'en');
    setLanguage(lang());
  };

  if (session === undefined) return html`<p class="loading" role="status">${t('loading')}</p>`;
  if (session === null) {
    return html`<div class="frame signed-out">
      <header class="top">
        <span class="brand">${t('app_name')}</span>
        <button type="button" class="link" onClick=${onLanguage} aria-label=${t('switch_language_label')}>${t('switch_language')}</button>
      </header>
      <main id="main" tabindex="-1">
        <${SignIn} notice=${notice} onSignedIn=${(s) => {
          setNotice(null);
          setSession(s);
          navigate(home(s), { replace: true });
        }} />
      </main>
    </div>`;
  }
  return html`<${Frame} session=${session} path=${path} onSignOut=${onSignOut} onLanguage=${onLanguage}>
    <${Page} key=${`${path}|${lang()}`} session=${session} path=${path} />
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
