// The province officer's registry and reference pages: the agency tree as of
// a date with each agency's history, registrations to approve or reject,
// unlocking a locked report, and the plans and their targets. Each view's
// state is in the URL.

import {
  html, useState, useLoad, Loaded, Notice, Badge, today, navigate,
} from './ui.js';
import { api, get, query } from './api.js';
import {
  t, named, formatDate, formatInstant, formatNumber, formatPeriod, formatValue,
} from './i18n.js';
import { provinceOf } from './officer.js';
import { groupName } from './dashboard.js';

/** The province's People's Committee: the root of its agency tree. */
async function provinceRoot(province) {
  const roots = await get(`/api/v1/agencies${query({ province, kind: 'provincial_committee', page_size: 10 })}`);
  return roots[0];
}

function Lineage({ code }) {
  const [data, error, retry] = useLoad(() => get(`/api/v1/agencies/${encodeURIComponent(code)}/lineage`), [code]);
  return html`<${Loaded} value=${data} error=${error} retry=${retry}>${(lineage) => html`<div class="lineage">
    <table><caption>${t('history')}</caption>
      <thead><tr><th scope="col">${t('valid_from')}</th><th scope="col">${t('valid_to')}</th><th scope="col">${t('name')}</th>
        <th scope="col">${t('parent')}</th></tr></thead>
      <tbody>${lineage.history.map((v) => html`<tr>
        <td>${formatDate(v.valid_from)}</td><td>${formatDate(v.valid_to) || '—'}</td>
        <td class="agency-name">${named(v)}</td><td class="code">${v.parent_code || ''}</td>
      </tr>`)}</tbody>
    </table>
    ${lineage.predecessors.length > 0 && html`<p>${t('predecessors')}: ${lineage.predecessors.map((a) => a.code ?? a).join(', ')}</p>`}
    ${lineage.successors.length > 0 && html`<p>${t('successors')}: ${lineage.successors.map((a) => a.code ?? a).join(', ')}</p>`}
  </div>`}<//>`;
}

function TreeRow({ node }) {
  const [open, setOpen] = useState(false);
  const { agency, depth } = node;
  const id = `lineage-${agency.code.replace(/\W/g, '-')}`;
  return html`<tr data-agency=${agency.code} class=${`depth-${Math.min(depth, 4)}`}>
      <th scope="row"><span class="agency-name">${named(agency)}</span> <span class="code">${agency.code}</span></th>
      <td>${t(`kind_${agency.kind}`)}</td>
      <td>${agency.admin_unit_code || ''}</td>
      <td>${formatDate(agency.valid_from)}${agency.valid_to ? ` – ${formatDate(agency.valid_to)}` : ''}</td>
      <td><button type="button" aria-expanded=${open ? 'true' : 'false'} aria-controls=${id} onClick=${() => setOpen(!open)}>${t('history')}</button></td>
    </tr>
    ${open && html`<tr id=${id} class="inputs"><td colspan="5"><${Lineage} code=${agency.code} /></td></tr>`}`;
}

/** The agency tree of the province as it stood on a date. */
export function AgencyTree({ session, params }) {
  const province = provinceOf(session, params);
  const asOf = params.get('as_of') || today();
  const [data, error, retry] = useLoad(async () => {
    const root = await provinceRoot(province);
    const nodes = await get(`/api/v1/agencies/${encodeURIComponent(root.code)}/subtree${query({ as_of: asOf })}`);
    return { root, nodes };
  }, [province, asOf]);
  // The date typed is kept apart from the one shown, so the tree arriving
  // while someone types does not put the old date back.
  const [date, setDate] = useState(asOf);
  const choose = () => navigate(`/app/agencies${query({ as_of: date, province: session.province_code ? undefined : province })}`);
  return html`<h1>${t('agency_tree')}</h1>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); choose(); }}>
      <label for="t-as-of">${t('as_of')}</label>
      <input id="t-as-of" name="as_of" type="date" value=${date} max="9999-12-31" required
        onInput=${(e) => setDate(e.currentTarget.value)} />
      <button type="submit">${t('show')}</button>
    </form>
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ nodes }) => html`
      <p class="subtitle" id="tree-count">${t('agencies_on', { count: formatNumber(nodes.length), date: formatDate(asOf) })}</p>
      <div class="table-wrap"><table class="agency-tree">
        <thead><tr><th scope="col">${t('agency')}</th><th scope="col">${t('kind')}</th><th scope="col">${t('admin_unit')}</th>
          <th scope="col">${t('valid')}</th><th scope="col">${t('history')}</th></tr></thead>
        <tbody>${nodes.map((node) => html`<${TreeRow} key=${node.agency.code} node=${node} />`)}</tbody>
      </table></div>`}<//>`;
}

function RegistrationRow({ registration: r, onDone }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const id = `reason-${r.id}`;
  const decide = async (action) => {
    setBusy(true);
    setError(null);
    try {
      const answer = action === 'approve'
        ? await api('POST', `/api/v1/registrations/${r.id}/approve`, {})
        : await api('POST', `/api/v1/registrations/${r.id}/reject`, { reason: reason.trim() });
      onDone(action, answer);
    } catch (problem) {
      setError(problem.errors[0]?.detail || problem.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<tr data-registration=${r.id} data-agency=${r.agency.code}>
    <th scope="row"><span class="agency-name">${r.agency.name}</span><br /><span class="code">${r.agency.code}</span>
      <br />${t(`kind_${r.agency.kind}`)}${r.agency.parent_code ? html` · ${t('parent')}: <span class="code">${r.agency.parent_code}</span>` : ''}</th>
    <td><span class="contact-name">${r.contact.name}</span><br />${r.contact.email}${r.contact.phone ? html`<br />${r.contact.phone}` : ''}
      ${r.note && html`<br /><span class="help">${r.note}</span>`}</td>
    <td>${formatInstant(r.filed_at)}</td>
    <td>${r.status === 'pending' ? html`<div class="review">
      <label for=${id}>${t('reject_reason')}</label>
      <textarea id=${id} rows="2" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}
        aria-describedby=${error ? `${id}-error` : undefined}></textarea>
      ${error && html`<p id=${`${id}-error`} class="field-error" role="alert">${error}</p>`}
      <div class="actions">
        <button type="button" class="primary" disabled=${busy} onClick=${() => decide('approve')}>${t('approve')}</button>
        <button type="button" disabled=${busy} onClick=${() => decide('reject')}>${t('reject')}</button>
      </div></div>`
      : html`<${Badge} kind=${r.status === 'approved' ? 'accepted' : 'returned'}>${t(`registration_${r.status}`)}<//>
        ${r.reason && html`<br />${r.reason}`}${r.decided_at && html`<br />${formatInstant(r.decided_at)}`}`}</td>
  </tr>`;
}

/** Registration requests of the province: approve (the new agency's
 *  credentials are shown once) or reject with a reason. */
export function Registrations({ session, params }) {
  const province = provinceOf(session, params);
  const status = params.get('status') || 'pending';
  const [round, setRound] = useState(0);
  const [message, setMessage] = useState(null);
  const [data, error, retry] = useLoad(
    () => get(`/api/v1/registrations${query({ province, status })}`),
    [province, status, round],
  );
  const onDone = (action, answer) => {
    setMessage(action === 'approve' ? { approved: answer } : { text: t('rejected_ok') });
    setRound((r) => r + 1);
  };
  return html`<h1>${t('registrations')}</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label for="g-status">${t('status')}</label>
      <select id="g-status" value=${status} onChange=${(e) => navigate(`/app/registrations${query({ status: e.currentTarget.value })}`)}>
        ${['pending', 'approved', 'rejected'].map((s) => html`<option value=${s}>${t(`registration_${s}`)}</option>`)}
      </select>
    </form>
    ${message?.text && html`<${Notice} kind="success">${message.text}<//>`}
    ${message?.approved && html`<div class="notice success" role="status" id="approved-credentials">
      <p>${t('approved_ok', { code: message.approved.agency.code })}</p>
      <dl class="facts"><div><dt>${t('client_id')}</dt><dd class="code">${message.approved.credentials.client_id}</dd></div>
        <div><dt>${t('client_secret')}</dt><dd class="code">${message.approved.credentials.client_secret}</dd></div></dl>
      <p class="help">${t('secret_once')}</p>
    </div>`}
    <${Loaded} value=${data} error=${error} retry=${retry}>${(list) => (list.length === 0
      ? html`<p>${t('no_registrations')}</p>`
      : html`<div class="table-wrap"><table class="registrations">
        <thead><tr><th scope="col">${t('agency')}</th><th scope="col">${t('contact')}</th><th scope="col">${t('filed_at')}</th>
          <th scope="col">${t('actions')}</th></tr></thead>
        <tbody>${list.map((r) => html`<${RegistrationRow} key=${r.id} registration=${r} onDone=${onDone} />`)}</tbody>
      </table></div>`)}<//>`;
}

/** A week from now, as a datetime-local value in the browser's time. */
function aWeekAhead() {
  const date = new Date(Date.now() + 7 * 86400 * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T17:00`;
}

/** Unlocks a locked report (form, period, agency) until an instant, with a
 *  reason; every field's error is shown at the field. */
export function UnlockPage({ params }) {
  const [forms] = useLoad(() => get('/api/v1/forms'), []);
  const [values, setValues] = useState({
    form: params.get('form') || 'it_fast_quarterly',
    period: params.get('period') || '',
    agency_code: params.get('agency') || '',
    reason: '',
    until: aWeekAhead(),
  });
  const [errors, setErrors] = useState({});
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setValues((old) => ({ ...old, [key]: e.currentTarget.value }));
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setDone(null);
    try {
      const until = values.until ? new Date(values.until).toISOString() : '';
      const unlock = await api('POST', '/api/v1/unlocks', {
        form: values.form, period: values.period.trim(), agency_code: values.agency_code.trim(), reason: values.reason.trim(), until,
      });
      setErrors({});
      setDone(unlock);
    } catch (problem) {
      const fields = {};
      for (const e of problem.errors || []) {
        const key = (e.field || e.pointer || '').replace(/^\//, '');
        fields[key in values ? key : '_'] = e.detail;
      }
      if (Object.keys(fields).length === 0) fields._ = problem.message;
      setErrors(fields);
    } finally {
      setBusy(false);
    }
  };
  const field = (key, label, input) => html`<div class=${`field${errors[key] ? ' has-error' : ''}`}>
    <label for=${`u-${key}`}>${label}</label>${input}
    ${errors[key] && html`<p id=${`u-${key}-error`} class="field-error">${errors[key]}</p>`}
  </div>`;
  const aria = (key) => ({ 'aria-invalid': errors[key] ? 'true' : 'false', 'aria-describedby': errors[key] ? `u-${key}-error` : undefined });
  return html`<h1>${t('unlock_title')}</h1>
    <p class="help">${t('unlock_help')}</p>
    ${done && html`<div class="notice success" role="status" id="unlocked">${t('unlocked_ok', {
      agency: done.agency_code, period: formatPeriod(done.period), until: formatInstant(done.until),
    })}</div>`}
    ${errors._ && html`<div class="notice error" role="alert">${errors._}</div>`}
    <form class="card unlock" onSubmit=${submit} novalidate>
      ${field('form', t('form'), html`<select id="u-form" value=${values.form} onChange=${set('form')} ...${aria('form')}>
        ${(forms || []).map((f) => html`<option value=${f.code}>${named(f)}</option>`)}
        ${!forms && html`<option value=${values.form}>${values.form}</option>`}
      </select>`)}
      ${field('period', t('period'), html`<input id="u-period" value=${values.period} onInput=${set('period')} placeholder="2026Q1" ...${aria('period')} />`)}
      ${field('agency_code', t('agency_code'), html`<input id="u-agency_code" value=${values.agency_code} onInput=${set('agency_code')} placeholder="000.00.02.H44" ...${aria('agency_code')} />`)}
      ${field('reason', t('unlock_reason'), html`<textarea id="u-reason" rows="2" value=${values.reason} onInput=${set('reason')} ...${aria('reason')}></textarea>`)}
      ${field('until', t('unlock_until'), html`<input id="u-until" type="datetime-local" value=${values.until} onInput=${set('until')} ...${aria('until')} />`)}
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>${t('unlock')}</button></div>
    </form>`;
}

/** The plans (of the province, or all for an admin) and their targets. */
export function Plans({ session, params }) {
  const province = session.province_code || params.get('province') || '';
  const [data, error, retry] = useLoad(async () => {
    const [plans, indicators] = await Promise.all([get(`/api/v1/plans${query({ province })}`), get('/api/v1/indicators')]);
    return { plans, indicators: new Map(indicators.map((i) => [i.code, i])) };
  }, [province]);
  return html`<h1>${t('plans')}</h1>
    <p class="help">${t('plans_read_only')}</p>
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ plans, indicators }) => {
      const plan = plans.find((p) => p.code === params.get('plan')) || plans.at(-1);
      if (!plan) return html`<p>${t('no_plan')}</p>`;
      return html`<form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <label for="p-plan">${t('plan')}</label>
        <select id="p-plan" value=${plan.code} onChange=${(e) => navigate(`/app/plans${query({ plan: e.currentTarget.value })}`)}>
          ${plans.map((p) => html`<option value=${p.code}>${p.title}</option>`)}
        </select>
      </form>
      <section class="card" aria-labelledby="plan-title">
        <h2 id="plan-title">${plan.title}</h2>
        <dl class="facts">
          ${plan.number && html`<div><dt>${t('plan_number')}</dt><dd>${plan.number}</dd></div>`}
          <div><dt>${t('plan_date')}</dt><dd>${formatDate(plan.date)}</dd></div>
          <div><dt>${t('plan_years')}</dt><dd>${plan.first_year}–${plan.last_year}</dd></div>
        </dl>
        <div class="table-wrap"><table class="plan-targets">
          <thead><tr><th scope="col">${t('indicator')}</th><th scope="col">${t('group')}</th><th scope="col">${t('year')}</th>
            <th scope="col">${t('target')}</th><th scope="col">${t('wording')}</th></tr></thead>
          <tbody>${plan.targets.map((target) => html`<tr data-indicator=${target.indicator} data-group=${target.group}>
            <th scope="row">${named(indicators.get(target.indicator)) || target.indicator}</th>
            <td>${groupName(target.group)}</td><td>${target.year}</td>
            <td class="target-value">${target.comparator} ${formatValue(Number(target.value), target.kind === 'percentage' ? '%' : '')}</td>
            <td>${target.wording}</td>
          </tr>`)}</tbody>
        </table></div>
      </section>`;
    }}<//>`;
}
