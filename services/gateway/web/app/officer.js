// The province officer's pages: the review queue (accept, or return with a
// comment) and completeness for a form and period.

import {
  html, useState, useLoad, Loaded, Link, Notice, Badge, today, navigate,
} from './ui.js';
import { api, get, getAll, query } from './api.js';
import { Downloads } from './dashboard.js';
import {
  t, named, byName, formatDate, formatInstant, formatNumber, formatPeriod, formatValue,
} from './i18n.js';

/** The province a page is about: the officer's own, or the one chosen
 *  (an admin's), Quảng Bình by default. */
export function provinceOf(session, params) {
  return session.province_code || params?.get('province') || '44';
}

/** Code → name of every agency of a province. */
async function agencyNames(province) {
  const agencies = await getAll(`/api/v1/agencies?province=${province}`, 1000);
  return new Map(agencies.map((a) => [a.code, a]));
}

function ReviewRow({ report, agencies, forms, onDone }) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const agency = agencies.get(report.agency_code);
  const form = forms.get(report.form);
  const id = `comment-${report.id}`;
  const decide = async (action) => {
    setBusy(true);
    setError(null);
    try {
      const body = comment.trim() ? { comment: comment.trim() } : (action === 'accept' ? {} : { comment: '' });
      await api('POST', `/api/v1/reports/${report.id}/${action}`, body);
      onDone(action === 'accept' ? t('accepted_ok') : t('returned_ok'));
    } catch (problem) {
      setError(problem.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<tr data-report=${report.id} data-agency=${report.agency_code}>
    <th scope="row"><span class="agency-name">${agency ? named(agency) : report.agency_code}</span>
      <br /><span class="code">${report.agency_code}</span></th>
    <td>${form ? named(form) : report.form}</td>
    <td>${formatPeriod(report.period)}</td>
    <td>${formatInstant(report.submitted_at)}${report.days_late > 0 && html`<br /><${Badge} kind="late">${t('status_submitted_late', { days: report.days_late })}<//>`}</td>
    <td class="review">
      <${Link} href=${`/app/reports/${report.form}/${report.period}?agency=${encodeURIComponent(report.agency_code)}`}>${t('view')}<//>
      <label for=${id}>${t('comment')}</label>
      <textarea id=${id} rows="2" value=${comment} onInput=${(e) => setComment(e.currentTarget.value)}
        aria-describedby=${error ? `${id}-error` : undefined}></textarea>
      ${error && html`<p id=${`${id}-error`} class="field-error" role="alert">${error}</p>`}
      <div class="actions">
        <button type="button" class="primary" disabled=${busy} onClick=${() => decide('accept')}>${t('accept')}</button>
        <button type="button" disabled=${busy} onClick=${() => decide('return')}>${t('return')}</button>
      </div>
    </td>
  </tr>`;
}

export function ReviewQueue({ session }) {
  const province = provinceOf(session, new URLSearchParams(location.search));
  const [message, setMessage] = useState(null);
  const [round, setRound] = useState(0);
  const [data, error, retry] = useLoad(async () => {
    const [reports, agencies, forms] = await Promise.all([
      getAll(`/api/v1/reports${query({ province, status: 'submitted' })}`, 1000),
      agencyNames(province),
      get('/api/v1/forms'),
    ]);
    reports.sort((a, b) => String(a.submitted_at).localeCompare(String(b.submitted_at)));
    return { reports, agencies, forms: new Map(forms.map((f) => [f.code, f])) };
  }, [province, round]);
  return html`<h1>${t('review_queue')}</h1>
    ${message && html`<${Notice} kind="success">${message}<//>`}
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ reports, agencies, forms }) => (reports.length === 0
      ? html`<p>${t('nothing_to_review')}</p>`
      : html`<div class="table-wrap"><table class="queue">
        <thead><tr><th scope="col">${t('agency')}</th><th scope="col">${t('form')}</th><th scope="col">${t('period')}</th>
          <th scope="col">${t('submitted_at')}</th><th scope="col">${t('actions')}</th></tr></thead>
        <tbody>${reports.map((report) => html`<${ReviewRow} key=${report.id} report=${report} agencies=${agencies} forms=${forms}
          onDone=${(text) => { setMessage(text); setRound((r) => r + 1); }} />`)}</tbody>
      </table></div>`)}<//>`;
}

/** The period a form is being reported for now: the latest one whose
 *  deadline has come, else the latest begun. */
function currentPeriod(periods, now = today()) {
  const begun = periods.filter((p) => p.start_date <= now);
  const due = begun.filter((p) => p.end_date < now);
  return (due.length ? due : begun).at(-1);
}

function AgencyList({ id, title, agencies, extra }) {
  const [copied, setCopied] = useState(false);
  const sorted = byName(agencies);
  const copy = async () => {
    const text = sorted.map((a) => `${a.name}\t${a.code}${extra ? `\t${extra(a)}` : ''}`).join('\n');
    await navigator.clipboard.writeText(text);
    setCopied(true);
  };
  return html`<section class="card" aria-labelledby=${id}>
    <h2 id=${id}>${title} (${formatNumber(sorted.length)})</h2>
    ${sorted.length > 0 && html`<button type="button" onClick=${copy}>${t('copy_list')}</button>
      ${copied && html` <span role="status">${t('copied')}</span>`}`}
    <ul class="agencies">${sorted.map((a) => html`<li><span class="agency-name">${a.name}</span> <span class="code">${a.code}</span>${extra && html` — ${extra(a)}`}</li>`)}</ul>
  </section>`;
}

export function CompletenessPage({ session, params }) {
  const province = provinceOf(session, params);
  const formCode = params.get('form') || 'it_fast_quarterly';
  const [data, error, retry] = useLoad(async () => {
    const [forms, periods] = await Promise.all([
      get('/api/v1/forms'),
      get(`/api/v1/forms/${encodeURIComponent(formCode)}/periods`),
    ]);
    const period = params.get('period') || currentPeriod(periods)?.code;
    const completeness = await get(`/api/v1/completeness${query({ form: formCode, period, area: province })}`);
    return { forms, periods: periods.filter((p) => p.start_date <= today()).slice(-8).reverse(), period, completeness };
  }, [province, formCode, params.get('period')]);
  const choose = (form, period) => {
    const search = query({ form, period, province: session.province_code ? undefined : province });
    navigate(`/app/completeness${search}`);
  };
  return html`<h1>${t('completeness')}</h1>
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ forms, periods, period, completeness: c }) => html`
      <form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <label for="c-form">${t('form')}</label>
        <select id="c-form" value=${formCode} onChange=${(e) => choose(e.currentTarget.value, '')}>
          ${forms.map((f) => html`<option value=${f.code}>${named(f)}</option>`)}
        </select>
        <label for="c-period">${t('period')}</label>
        <select id="c-period" value=${period} onChange=${(e) => choose(formCode, e.currentTarget.value)}>
          ${periods.map((p) => html`<option value=${p.code}>${formatPeriod(p.code)}</option>`)}
        </select>
      </form>
      <p class="subtitle">${formatPeriod(c.period)} · ${t('deadline')} ${formatDate(c.deadline)}</p>
      <${Downloads} kind="completeness" params=${{ form: formCode, period, area: province }} />
      <dl class="tiles counts">
        ${[['expected', c.expected], ['received', c.received], ['on_time', c.on_time], ['late', c.late],
          ['missing', c.missing_count], ['returned', c.returned_count]].map(([key, n]) => html`
          <div class="tile" data-count=${key}><dt>${t(key)}</dt><dd>${formatNumber(n)}</dd></div>`)}
        <div class="tile"><dt>%</dt><dd>${formatValue(c.reporting_rate, '%')}</dd></div>
      </dl>
      <div class="columns">
        <${AgencyList} id="missing-title" title=${t('missing_agencies')} agencies=${c.missing} />
        <${AgencyList} id="late-title" title=${t('late_agencies')} agencies=${c.late_agencies}
          extra=${(a) => t('status_submitted_late', { days: a.days_late })} />
      </div>
    `}<//>`;
}
