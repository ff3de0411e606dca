// The agency reporter's pages: the forms and periods it must report, with
// their status, the entry page of one report, and its own results against
// the plan's targets.

import {
  html, useState, useLoad, Loaded, Link, Notice, Badge, today, navigate,
} from './ui.js';
import { api, get, getAll, Problem, query, uploadXlsx } from './api.js';
import {
  t, named, formatDate, formatInstant, formatNumber, formatPeriod, formatValue,
} from './i18n.js';

/** How many recent periods of each form the list shows. */
const RECENT_PERIODS = 6;

/** Whether `agency` must report on `form`. */
function mustReport(form, agency) {
  const r = form.reporters || {};
  return (r.kinds || []).includes(agency.kind)
    || (r.levels || []).includes(agency.level)
    || (r.agencies || []).includes(agency.code);
}

/** A report's status as the reporter reads it: [badge kind, text]. */
export function statusOf(report, period, now = today()) {
  const locked = period?.lock_date && period.lock_date < now && !(report?.editable);
  if (!report) {
    if (locked) return ['locked', t('status_locked')];
    return period && period.deadline < now
      ? ['late', t('status_missing_late')]
      : ['none', t('status_not_started')];
  }
  const text = {
    draft: t('status_draft'),
    submitted: report.days_late > 0
      ? t('status_submitted_late', { days: report.days_late })
      : t('status_submitted'),
    returned: t('status_returned'),
    accepted: t('status_accepted'),
  }[report.status] || report.status;
  const kind = report.status === 'submitted' && report.days_late > 0 ? 'late' : report.status;
  return [kind, locked ? `${text} · ${t('status_locked')}` : text];
}

export function ReportList({ session }) {
  const code = session.agency_code;
  const [data, error, retry] = useLoad(async () => {
    const [agency, forms, reports] = await Promise.all([
      get(`/api/v1/agencies/${encodeURIComponent(code)}`),
      get('/api/v1/forms'),
      getAll(`/api/v1/reports?agency=${encodeURIComponent(code)}`, 1000),
    ]);
    const mine = forms.filter((form) => mustReport(form, agency));
    const periods = await Promise.all(mine.map((form) => get(`/api/v1/forms/${form.code}/periods`)));
    const now = today();
    return {
      agency,
      forms: mine.map((form, i) => ({
        form,
        periods: periods[i].filter((p) => p.start_date <= now).slice(-RECENT_PERIODS).reverse(),
      })),
      reports,
    };
  }, [code]);
  return html`<${Loaded} value=${data} error=${error} retry=${retry}>${({ agency, forms, reports }) => html`
    <h1>${t('my_reports')}</h1>
    <p class="subtitle"><span class="agency-name">${named(agency)}</span> <span class="code">${agency.code}</span></p>
    ${forms.length === 0 && html`<p>${t('no_forms')}</p>`}
    ${forms.map(({ form, periods }) => html`<section class="card" aria-labelledby=${`form-${form.code}`}>
      <h2 id=${`form-${form.code}`}>${named(form)}</h2>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">${t('period')}</th><th scope="col">${t('deadline')}</th>
          <th scope="col">${t('status')}</th><th scope="col">${t('actions')}</th></tr></thead>
        <tbody>${periods.map((period) => {
          const report = reports.find((r) => r.form === form.code && r.period === period.code);
          const [kind, text] = statusOf(report, period);
          const comment = report?.status === 'returned' ? report.review?.comment : null;
          return html`<tr data-period=${period.code} data-form=${form.code}>
            <th scope="row">${formatPeriod(period.code)}</th>
            <td>${formatDate(period.deadline)}</td>
            <td><${Badge} kind=${kind}>${text}<//>
              ${comment && html`<div class="comment"><span class="label">${t('officer_comment')}:</span> ${comment}</div>`}</td>
            <td><${Link} href=${`/app/reports/${form.code}/${period.code}`}>${t('open_report')}<span class="visually-hidden"> ${formatPeriod(period.code)}</span><//></td>
          </tr>`;
        })}</tbody>
      </table></div>
    </section>`)}
  `}<//>`;
}

/** The data element an error is about, from its JSON pointer or field name
 *  (`/values/3/value`, `values[3].value`: the index into what was sent) or
 *  from the element's code quoted in its detail (`values`). */
function elementOf(error, sent, known) {
  const where = error.pointer || error.field || '';
  const index = /values(?:\/|\[)(\d+)/.exec(where);
  if (index && sent[Number(index[1])]) return sent[Number(index[1])].data_element;
  const quoted = /`([a-z0-9_]+)`/.exec(error.detail || '');
  if (quoted && known.has(quoted[1])) return quoted[1];
  return null;
}

function Field({ element, item, value, error, disabled, onInput }) {
  const id = `f-${element.code}`;
  const describedBy = [`${id}-help`, error ? `${id}-error` : null].filter(Boolean).join(' ');
  const bounds = element.min !== undefined && element.max !== undefined
    ? t('bounds', { min: formatNumber(element.min), max: formatNumber(element.max) })
    : element.min !== undefined ? t('bound_min', { min: formatNumber(element.min) }) : '';
  const input = element.value_type === 'yes_no'
    ? html`<select id=${id} name=${element.code} value=${value} disabled=${disabled}
        aria-invalid=${error ? 'true' : 'false'} aria-describedby=${describedBy}
        onChange=${(e) => onInput(element.code, e.currentTarget.value)}>
        <option value="">${t('choose')}</option>
        <option value="yes">${t('yes')}</option>
        <option value="no">${t('no')}</option>
      </select>`
    : html`<input id=${id} name=${element.code} value=${value} disabled=${disabled}
        inputmode=${element.value_type === 'count' ? 'numeric' : 'decimal'} autocomplete="off"
        aria-invalid=${error ? 'true' : 'false'} aria-describedby=${describedBy}
        onInput=${(e) => onInput(element.code, e.currentTarget.value)} />`;
  return html`<div class=${`field${error ? ' has-error' : ''}`} data-element=${element.code}>
    <label for=${id}>${named(element)}${item.compulsory && html` <span class="required">(${t('compulsory')})</span>`}</label>
    <div class="input-row">${input}${element.unit && html`<span class="unit">${element.unit}</span>`}</div>
    <p id=${`${id}-help`} class="help">${element.description}${bounds && html` <span class="bounds">${bounds}.</span>`}</p>
    ${error && html`<p id=${`${id}-error`} class="field-error">${error}</p>`}
  </div>`;
}

export function ReportEntry({ session, form: formCode, period: periodCode, agency }) {
  const [round, setRound] = useState(0);
  const [data, error, retry] = useLoad(async () => {
    const [form, elements, periods] = await Promise.all([
      get(`/api/v1/forms/${encodeURIComponent(formCode)}`),
      get('/api/v1/data-elements'),
      get(`/api/v1/forms/${encodeURIComponent(formCode)}/periods`),
    ]);
    let report = null;
    try {
      report = await get(`/api/v1/reports/by-key/${formCode}/${periodCode}/${encodeURIComponent(agency)}`);
    } catch (problem) {
      if (!(problem instanceof Problem && problem.status === 404)) throw problem;
    }
    const versions = report ? await get(`/api/v1/reports/${report.id}/versions`) : [];
    return {
      form,
      elements: new Map(elements.map((e) => [e.code, e])),
      period: periods.find((p) => p.code === periodCode),
      report,
      versions,
    };
  }, [formCode, periodCode, agency, round]);
  return html`<${Loaded} value=${data} error=${error} retry=${retry}>${(loaded) => html`
    <${Entry} ...${loaded} session=${session} agency=${agency} reload=${() => setRound((r) => r + 1)} />
  `}<//>`;
}

function Entry({ session, form, elements, period, report, versions, agency, reload }) {
  const initial = Object.fromEntries((report?.values || []).map((v) => [v.data_element, v.value]));
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({ fields: {}, general: [] });
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const editable = !report || (report.status === 'draft' && report.editable);
  const canRevise = report && report.status !== 'draft' && report.editable;
  const [kind, statusText] = statusOf(report, period);
  // Past its lock date nobody can write the report until an officer unlocks
  // it: the officer reading it gets the unlock page with it filled in.
  const locked = Boolean(period?.lock_date && period.lock_date < today() && !report?.editable);
  const mayUnlock = locked && ['province_officer', 'admin'].includes(session?.role);
  const known = new Set(elements.keys());
  const base = `/api/v1/reports/${form.code}/${period?.code ?? ''}/${encodeURIComponent(agency)}`;

  const onInput = (code, value) => setValues((old) => ({ ...old, [code]: value }));
  const sent = () => Object.entries(values)
    .filter(([, value]) => String(value).trim() !== '')
    .map(([data_element, value]) => ({ data_element, value: String(value).trim() }));

  const showProblem = (problem, body) => {
    if (!(problem instanceof Problem)) throw problem;
    const fields = {};
    const general = [];
    for (const e of problem.errors) {
      const code = elementOf(e, body, known);
      if (code) fields[code] = fields[code] ? `${fields[code]}; ${e.detail}` : e.detail;
      general.push({ code, detail: e.detail });
    }
    if (general.length === 0) general.push({ code: null, detail: problem.message });
    setErrors({ fields, general });
    setMessage(null);
    requestAnimationFrame(() => document.getElementById('entry-errors')?.focus());
  };

  const run = async (action) => {
    setBusy(true);
    setMessage(null);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };

  const saveDraft = () => run(async () => {
    const body = sent();
    try {
      await api('PUT', `${base}/draft`, { values: body });
      setErrors({ fields: {}, general: [] });
      setMessage(t('saved'));
    } catch (problem) {
      showProblem(problem, body);
    }
  });

  const submit = () => run(async () => {
    const body = sent();
    let draft;
    try {
      draft = await api('PUT', `${base}/draft`, { values: body });
    } catch (problem) {
      showProblem(problem, body);
      return;
    }
    try {
      await api('POST', `/api/v1/reports/${draft.id}/submit`);
    } catch (problem) {
      showProblem(problem, body);
      return;
    }
    setErrors({ fields: {}, general: [] });
    reload();
  });

  const upload = (file) => run(async () => {
    try {
      await uploadXlsx(`${base}/template`, file);
      setErrors({ fields: {}, general: [] });
      reload();
    } catch (problem) {
      showProblem(problem, []);
    }
  });

  const revise = () => run(async () => {
    try {
      await api('POST', `/api/v1/reports/${report.id}/revise`, {});
      reload();
    } catch (problem) {
      showProblem(problem, []);
    }
  });

  const errorCount = errors.general.length;
  return html`<div class="entry">
    <p><a href="/app/reports" onClick=${(e) => { e.preventDefault(); history.back(); }}>${t('back_to_reports')}</a></p>
    <h1>${named(form)}</h1>
    <dl class="facts">
      <div><dt>${t('period')}</dt><dd>${formatPeriod(period?.code ?? '')}</dd></div>
      <div><dt>${t('deadline')}</dt><dd>${formatDate(period?.deadline)}</dd></div>
      <div><dt>${t('status')}</dt><dd><${Badge} kind=${kind}>${statusText}<//></dd></div>
      ${report && html`<div><dt>${t('version')}</dt><dd>${report.version}</dd></div>`}
    </dl>
    ${report?.status === 'returned' && report.review?.comment && html`<div class="notice warning" role="status" id="returned-comment">
      <strong>${t('officer_comment')}:</strong> ${report.review.comment}
    </div>`}
    <div class="spreadsheet">
      <a class="button" href=${`${base}/template`} download>${t('download_template')}</a>
      ${editable && html`<div class="upload">
        <label for="upload-xlsx">${t('upload_template')}</label>
        <input id="upload-xlsx" type="file" disabled=${busy}
          accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          onChange=${(e) => { const file = e.currentTarget.files[0]; e.currentTarget.value = ''; if (file) upload(file); }} />
        <p class="help">${t('upload_help')}</p>
      </div>`}
    </div>
    ${message && html`<${Notice} kind="success">${message}<//>`}
    ${errorCount > 0 && html`<div class="notice error" role="alert" id="entry-errors" tabindex="-1">
      <p>${t('errors_found', { count: errorCount })}</p>
      <ul>${errors.general.map((e) => html`<li>${e.code
        ? html`<a href=${`#f-${e.code}`}>${named(elements.get(e.code))}</a>: ${e.detail}`
        : e.detail}</li>`)}</ul>
    </div>`}
    ${!editable && html`<p class="help">${t('read_only')}</p>`}
    ${mayUnlock && html`<p><${Link} class="button" id="unlock-link"
      href=${`/app/unlock${query({ form: form.code, period: period.code, agency })}`}>${t('unlock_this')}<//></p>`}
    <form onSubmit=${(e) => { e.preventDefault(); submit(); }} novalidate>
      ${form.sections.map((section, i) => html`<fieldset class="section">
        <legend>${i + 1}. ${named(section)}</legend>
        ${section.elements.map((item) => {
          const element = elements.get(item.data_element);
          if (!element) return null;
          return html`<${Field} element=${element} item=${item} value=${values[element.code] ?? ''}
            error=${errors.fields[element.code]} disabled=${!editable || busy} onInput=${onInput} />`;
        })}
      </fieldset>`)}
      <div class="actions">
        ${editable && html`<button type="button" onClick=${saveDraft} disabled=${busy}>${t('save_draft')}</button>
          <button type="submit" class="primary" disabled=${busy}>${t('submit')}</button>`}
        ${canRevise && html`<button type="button" class="primary" onClick=${revise} disabled=${busy}>${t('revise')}</button>`}
      </div>
    </form>
    ${versions.length > 0 && html`<section class="card" aria-labelledby="history-title">
      <h2 id="history-title">${t('history')}</h2>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">${t('version')}</th><th scope="col">${t('status')}</th>
          <th scope="col">${t('submitted_at')}</th><th scope="col">${t('by')}</th>
          <th scope="col">${t('received_on')}</th><th scope="col">${t('officer_comment')}</th></tr></thead>
        <tbody>${[...versions].reverse().map((v) => html`<tr>
          <th scope="row">${v.version}</th>
          <td>${statusOf(v, period)[1]}</td>
          <td>${formatInstant(v.submitted_at)}</td>
          <td>${v.submitted_by || ''}</td>
          <td>${formatDate(v.received_on)}</td>
          <td>${v.review?.comment || ''}</td>
        </tr>`)}</tbody>
      </table></div>
    </section>`}
  </div>`;
}

/** Whether a plan target's group covers `agency`: the whole province, the
 *  agency's level or its kind. */
function targetCovers(group, agency) {
  return group === 'whole_province' || group === `${agency.level}_level` || group === agency.kind;
}

/** Whether `actual` meets a target (`comparator` of the plan, e.g. `>=`). */
function meets(actual, comparator, target) {
  switch (comparator) {
    case '<=': return actual <= target;
    case '<': return actual < target;
    case '>': return actual > target;
    case '=': case '==': return actual === target;
    default: return actual >= target;
  }
}

/** The agency's own results against the targets of its province's plan in
 *  force: for each target that covers it, its own figure (the aggregation
 *  API for this agency alone), met or not, and the gap. */
export function OwnResults({ session, params }) {
  const code = session.agency_code;
  const [data, error, retry] = useLoad(async () => {
    const [agency, indicatorList] = await Promise.all([
      get(`/api/v1/agencies/${encodeURIComponent(code)}`), get('/api/v1/indicators'),
    ]);
    const plans = (await get(`/api/v1/plans?province=${encodeURIComponent(agency.province_code)}`))
      .filter((p) => p.kind === 'plan');
    const year = Number(today().slice(0, 4));
    const inForce = plans.find((p) => p.first_year <= year && year <= p.last_year)
      || [...plans].sort((a, b) => a.last_year - b.last_year).at(-1);
    const plan = plans.find((p) => p.code === params.get('plan')) || inForce;
    const targets = (plan?.targets || []).filter((target) => targetCovers(target.group, agency));
    const years = [...new Set(targets.map((target) => target.year))].sort();
    const chosen = Number(params.get('year')) || years.filter((y) => y < year).at(-1) || years[0];
    const rows = await Promise.all(targets.filter((target) => target.year === chosen).map(async (target) => {
      const actual = await get(`/api/v1/aggregates?indicator=${encodeURIComponent(target.indicator)}&agency=${encodeURIComponent(code)}&period=${target.year}`);
      return { target, actual };
    }));
    return {
      agency, plans, plan, years, year: chosen, rows, indicators: new Map(indicatorList.map((i) => [i.code, i])),
    };
  }, [code, params.get('plan'), params.get('year')]);
  const choose = (changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) next.set(key, value);
    navigate(`/app/results?${next}`);
  };
  return html`<h1>${t('own_results')}</h1>
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ agency, plans, plan, years, year, rows, indicators }) => html`
      <p class="subtitle"><span class="agency-name">${named(agency)}</span> <span class="code">${agency.code}</span></p>
      ${!plan ? html`<p>${t('no_plan')}</p>` : html`
      <form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <label for="o-plan">${t('plan')}</label>
        <select id="o-plan" value=${plan.code} onChange=${(e) => choose({ plan: e.currentTarget.value, year: '' })}>
          ${plans.map((p) => html`<option value=${p.code}>${p.title}</option>`)}
        </select>
        <label for="o-year">${t('year')}</label>
        <select id="o-year" value=${String(year)} onChange=${(e) => choose({ year: e.currentTarget.value })}>
          ${years.map((y) => html`<option value=${String(y)}>${y}</option>`)}
        </select>
      </form>
      ${rows.length === 0 ? html`<p>${t('no_targets_for_agency')}</p>` : html`<div class="table-wrap"><table class="own-results">
        <thead><tr><th scope="col">${t('indicator')}</th><th scope="col">${t('actual')}</th><th scope="col">${t('target')}</th>
          <th scope="col">${t('status')}</th><th scope="col">${t('gap')}</th></tr></thead>
        <tbody>${rows.map(({ target, actual }) => {
          const unit = actual.unit || (target.kind === 'percentage' ? '%' : '');
          const goal = Number(target.value);
          const has = actual.value !== null && actual.value !== undefined;
          const met = has && meets(actual.value, target.comparator, goal);
          return html`<tr data-indicator=${target.indicator} data-group=${target.group}>
            <th scope="row">${named(indicators.get(target.indicator)) || target.indicator}<br /><span class="help wording">${target.wording}</span></th>
            <td class="actual" data-value=${has ? actual.value : ''}>${has ? formatValue(actual.value, unit, actual.decimals) : t('no_data')}
              ${has && html`<br /><span class="help">${formatNumber(actual.numerator)} / ${formatNumber(actual.denominator)}</span>`}</td>
            <td>${target.comparator === '>=' ? '' : `${target.comparator} `}${formatValue(goal, unit, actual.decimals)}</td>
            <td>${has ? html`<${Badge} kind=${met ? 'accepted' : 'returned'}>${met ? t('met') : t('not_met')}<//>` : '—'}</td>
            <td class="gap">${has && !met ? formatValue(Math.abs(goal - actual.value), unit, actual.decimals) : ''}</td>
          </tr>`;
        })}</tbody>
      </table></div>`}`}
    `}<//>`;
}
