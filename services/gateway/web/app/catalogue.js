// The catalogue: forms with their sections, indicators, data elements and
// validation rules, read by every officer; created, edited and retired by
// the admin, the only role the API lets write definitions. The tab and the
// definition being edited are in the URL (`?tab=elements&edit=new`).

import {
  html, useState, useLoad, Loaded, Link, Notice, Badge, navigate,
} from './ui.js';
import { api, get, query, Problem } from './api.js';
import { t, named, byName, formatNumber, formatPeriod } from './i18n.js';

const CATEGORIES = ['technical_infrastructure', 'internal_use', 'online_services', 'human_resources', 'information_security'];

/** The definitions the admin edits: where the API keeps them and the fields
 *  of their bodies (`DataElementBody`, `IndicatorBody`,
 *  `ValidationRuleBody`), each with how it is typed. A `code` is only sent
 *  when creating: the path names the definition being changed. */
const KINDS = {
  elements: {
    path: '/api/v1/data-elements',
    fields: [
      { key: 'code', type: 'code' },
      { key: 'name', type: 'text', always: true },
      { key: 'name_en', type: 'text' },
      { key: 'description', type: 'textarea', always: true },
      { key: 'category', type: 'select', options: CATEGORIES, always: true },
      { key: 'value_type', type: 'select', options: ['count', 'decimal', 'yes_no'], always: true },
      { key: 'decimals', type: 'integer' },
      { key: 'min', type: 'text' },
      { key: 'max', type: 'text' },
      { key: 'unit', type: 'text' },
      { key: 'period_rule', type: 'select', options: ['sum', 'last'] },
    ],
  },
  indicators: {
    path: '/api/v1/indicators',
    fields: [
      { key: 'code', type: 'code' },
      { key: 'name', type: 'text', always: true },
      { key: 'name_en', type: 'text' },
      { key: 'description', type: 'textarea' },
      { key: 'numerator', type: 'text', always: true },
      { key: 'denominator', type: 'text' },
      { key: 'factor', type: 'integer' },
      { key: 'decimals', type: 'integer' },
      { key: 'unit', type: 'text' },
      { key: 'category', type: 'select', options: CATEGORIES, always: true },
      { key: 'higher_is_better', type: 'checkbox' },
    ],
  },
  rules: {
    path: '/api/v1/validation-rules',
    fields: [
      { key: 'code', type: 'code' },
      { key: 'rule', type: 'text', always: true },
      { key: 'message', type: 'textarea', always: true },
      { key: 'message_en', type: 'textarea', always: true },
    ],
  },
};

const TABS = ['forms', 'indicators', 'elements', 'rules'];

/** What was just done, for the page the editor goes to next: each path is
 *  a page of its own (the app keys pages by path), so the notice outlives
 *  the page that set it here. */
let flash = null;

/** The form's values for a definition (or a new one): every field as the
 *  text its input holds. */
function valuesOf(kind, definition) {
  const values = {};
  for (const field of KINDS[kind].fields) {
    const value = definition?.[field.key];
    if (field.type === 'checkbox') values[field.key] = Boolean(value ?? (definition ? false : true));
    else if (value === undefined || value === null) values[field.key] = field.type === 'select' && field.always ? field.options[0] : '';
    else values[field.key] = String(value);
  }
  if (!definition && kind === 'indicators') values.factor = '100';
  if (!definition && kind === 'elements') values.period_rule = 'sum';
  return values;
}

/** The JSON body from the form's values. A blank optional field is left
 *  out (the API's default, or none); a blank required one is sent blank so
 *  the server names it; whole numbers go as numbers, anything else as typed
 *  so the server's error says what is wrong with it. */
function bodyOf(kind, values, creating) {
  const body = {};
  for (const field of KINDS[kind].fields) {
    const raw = values[field.key];
    if (field.type === 'code') {
      if (creating) body.code = raw.trim();
    } else if (field.type === 'checkbox') {
      body[field.key] = raw;
    } else if (field.type === 'integer') {
      const text = raw.trim();
      if (text !== '') body[field.key] = /^-?\d+$/.test(text) ? Number(text) : text;
    } else {
      const text = raw.trim();
      if (text !== '' || field.always) body[field.key] = text;
    }
  }
  return body;
}

/** The field each of a problem's errors is about (by its name or JSON
 *  pointer), or '_' for the form as a whole. */
function fieldErrors(kind, problem) {
  const known = new Set(KINDS[kind].fields.map((f) => f.key));
  const errors = {};
  for (const e of problem.errors) {
    const key = (e.field || e.pointer || '').replace(/^\//, '');
    const at = known.has(key) ? key : '_';
    errors[at] = errors[at] ? `${errors[at]}; ${e.detail}` : e.detail;
  }
  if (Object.keys(errors).length === 0) errors._ = problem.message;
  return errors;
}

/** What a definition's answer and a form opened on it have in common, to
 *  tell whether someone changed it since the form was opened. */
const sameDefinition = (kind, a, b) => JSON.stringify(valuesOf(kind, a)) === JSON.stringify(valuesOf(kind, b));

/** Creates (`code` 'new') or edits one definition; every error the server
 *  finds is shown at its field at once, and listed at the top. */
function Editor({ kind, code, onSaved }) {
  const spec = KINDS[kind];
  const creating = code === 'new';
  const [loaded, loadError, retry] = useLoad(
    () => (creating ? Promise.resolve(null) : get(`${spec.path}/${encodeURIComponent(code)}`)),
    [kind, code],
  );
  return html`<${Loaded} value=${creating ? { none: true } : loaded} error=${loadError} retry=${retry}>${() => html`
    <${EditorForm} key=${`${kind}/${code}`} kind=${kind} definition=${creating ? null : loaded} onSaved=${onSaved} />`}<//>`;
}

function EditorForm({ kind, definition, onSaved }) {
  const spec = KINDS[kind];
  const creating = !definition;
  const [opened, setOpened] = useState(definition);
  const [values, setValues] = useState(() => valuesOf(kind, definition));
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [confirmRetire, setConfirmRetire] = useState(false);
  const prefix = `e-${kind}`;
  const set = (key, value) => setValues((old) => ({ ...old, [key]: value }));

  const fail = (problem) => {
    if (!(problem instanceof Problem)) throw problem;
    setErrors(fieldErrors(kind, problem));
    requestAnimationFrame(() => document.getElementById(`${prefix}-errors`)?.focus());
  };

  const save = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      if (!creating) {
        // The API keeps no version of a definition (no ETag to send back
        // in If-Match), so the page checks that nobody changed it since the
        // form was opened before writing over it.
        const current = await get(`${spec.path}/${encodeURIComponent(opened.code)}`);
        if (!sameDefinition(kind, current, opened)) {
          setOpened(current);
          setErrors({ _conflict: true });
          return;
        }
      }
      const body = bodyOf(kind, values, creating);
      const saved = creating
        ? await api('POST', spec.path, body)
        : await api('PUT', `${spec.path}/${encodeURIComponent(opened.code)}`, body);
      setErrors({});
      setOpened(saved);
      setValues(valuesOf(kind, saved));
      onSaved(saved, creating ? 'created' : 'saved');
    } catch (problem) {
      fail(problem);
    } finally {
      setBusy(false);
    }
  };

  const retire = async () => {
    setBusy(true);
    try {
      const retired = await api('POST', `${spec.path}/${encodeURIComponent(opened.code)}/retire`);
      setOpened(retired);
      onSaved(retired, 'retired');
    } catch (problem) {
      fail(problem);
    } finally {
      setBusy(false);
      setConfirmRetire(false);
    }
  };

  const listed = Object.entries(errors).filter(([key]) => key !== '_' && key !== '_conflict');
  const input = (field) => {
    const id = `${prefix}-${field.key}`;
    const common = {
      id,
      name: field.key,
      disabled: busy,
      'aria-invalid': errors[field.key] ? 'true' : 'false',
      'aria-describedby': errors[field.key] ? `${id}-error` : undefined,
    };
    if (field.type === 'code' && !creating) return html`<input ...${common} value=${values.code} readonly />`;
    if (field.type === 'select') {
      return html`<select ...${common} value=${values[field.key]} onChange=${(e) => set(field.key, e.currentTarget.value)}>
        ${!field.always && html`<option value="">${t('default_choice')}</option>`}
        ${field.options.map((o) => html`<option value=${o}>${t(`def_${field.key}_${o}`)}</option>`)}
      </select>`;
    }
    if (field.type === 'checkbox') {
      return html`<input ...${common} type="checkbox" checked=${values[field.key]} onChange=${(e) => set(field.key, e.currentTarget.checked)} />`;
    }
    if (field.type === 'textarea') {
      return html`<textarea ...${common} rows="2" value=${values[field.key]} onInput=${(e) => set(field.key, e.currentTarget.value)}></textarea>`;
    }
    return html`<input ...${common} value=${values[field.key]} autocomplete="off"
      inputmode=${field.type === 'integer' ? 'numeric' : undefined}
      onInput=${(e) => set(field.key, e.currentTarget.value)} />`;
  };

  return html`<form class="card definition" onSubmit=${save} novalidate aria-labelledby=${`${prefix}-title`} data-kind=${kind}>
    <h2 id=${`${prefix}-title`}>${creating ? t(`new_${kind}`) : html`${t('edit')}: ${opened.code}`}
      ${opened?.retired && html` <${Badge} kind="locked">${t('retired')}<//>`}</h2>
    ${errors._conflict && html`<div class="notice error" role="alert" id=${`${prefix}-conflict`}>
      <p>${t('changed_meanwhile')}</p>
      <button type="button" onClick=${() => { setValues(valuesOf(kind, opened)); setErrors({}); }}>${t('load_current')}</button>
    </div>`}
    ${(listed.length > 0 || errors._) && html`<div class="notice error" role="alert" id=${`${prefix}-errors`} tabindex="-1">
      ${errors._ && html`<p>${errors._}</p>`}
      ${listed.length > 0 && html`<p>${t('definition_errors', { count: listed.length })}</p>
        <ul>${listed.map(([key, detail]) => html`<li><a href=${`#${prefix}-${key}`}>${t(`def_${key}`)}</a>: ${detail}</li>`)}</ul>`}
    </div>`}
    ${spec.fields.map((field) => html`<div class=${`field${errors[field.key] ? ' has-error' : ''}`} data-field=${field.key}>
      <label for=${`${prefix}-${field.key}`}>${t(`def_${field.key}`)}</label>
      ${input(field)}
      ${errors[field.key] && html`<p id=${`${prefix}-${field.key}-error`} class="field-error">${errors[field.key]}</p>`}
    </div>`)}
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${creating ? t('create') : t('save')}</button>
      <${Link} href=${`/app/catalogue?tab=${kind}`}>${t('cancel')}<//>
      ${!creating && !opened.retired && (confirmRetire
        ? html`<span role="status">${t('retire_confirm')}</span>
            <button type="button" class="danger" disabled=${busy} onClick=${retire}>${t('retire_yes')}</button>
            <button type="button" onClick=${() => setConfirmRetire(false)}>${t('cancel')}</button>`
        : html`<button type="button" disabled=${busy} onClick=${() => setConfirmRetire(true)}>${t('retire')}</button>`)}
    </div>
  </form>`;
}

/** An edit link for a definition's row, for the admin only. */
function EditLink({ admin, kind, code }) {
  if (!admin) return '';
  return html`<${Link} class="edit" href=${`/app/catalogue${query({ tab: kind, edit: code })}`}
    aria-label=${`${t('edit')} ${code}`}>${t('edit')}<//>`;
}

function bounds(e) {
  return `${e.min !== undefined ? formatNumber(e.min) : ''}${e.max !== undefined ? ` – ${formatNumber(e.max)}` : ''}`;
}

/** The catalogue: forms with their sections, indicators, data elements,
 *  validation rules; the admin's forms to create, edit and retire them. */
export function Catalogue({ session, params }) {
  const tab = TABS.includes(params.get('tab')) ? params.get('tab') : 'forms';
  const edit = params.get('edit');
  const admin = session.role === 'admin';
  const [round, setRound] = useState(0);
  const [message, setMessage] = useState(() => {
    const shown = flash;
    flash = null;
    return shown;
  });
  // The admin sees retired definitions too: retiring one is what it did.
  const retired = admin ? '?include_retired=true' : '';
  const [data, error, retry] = useLoad(async () => {
    const [forms, indicators, elements, rules] = await Promise.all([
      get('/api/v1/forms'), get(`/api/v1/indicators${retired}`), get(`/api/v1/data-elements${retired}`),
      get(`/api/v1/validation-rules${retired}`),
    ]);
    return { forms, indicators, elements: new Map(elements.map((e) => [e.code, e])), rules };
  }, [round, retired]);
  const onSaved = (definition, what) => {
    const done = { tab, text: t(`definition_${what}`, { code: definition.code }) };
    // A new definition's editor is another path, so another page.
    if (what === 'created') flash = done;
    setMessage(done);
    setRound((r) => r + 1);
    navigate(`/app/catalogue${query({ tab, edit: definition.code })}`, { replace: what !== 'created' });
  };
  const editing = admin && edit && KINDS[tab];
  return html`<h1>${t('catalogue')}</h1>
    <nav class="tabs" aria-label=${t('catalogue')}><ul>${TABS.map((key) => html`<li>
      <${Link} href=${`/app/catalogue?tab=${key}`} aria-current=${key === tab ? 'page' : undefined}>${t(`catalogue_${key}`)}<//>
    </li>`)}</ul></nav>
    ${!admin && tab !== 'forms' && html`<p class="help">${t('admin_edits_catalogue')}</p>`}
    ${message?.tab === tab && html`<${Notice} kind="success">${message.text}<//>`}
    ${admin && KINDS[tab] && !edit && html`<p><${Link} class="button" href=${`/app/catalogue?tab=${tab}&edit=new`}>${t(`new_${tab}`)}<//></p>`}
    ${editing && html`<${Editor} kind=${tab} code=${edit} onSaved=${onSaved} />`}
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ forms, indicators, elements, rules }) => {
      if (tab === 'forms') {
        return forms.map((form) => html`<section class="card" aria-labelledby=${`cf-${form.code}`} data-form=${form.code}>
          <h2 id=${`cf-${form.code}`}>${named(form)} <span class="code">${form.code}</span></h2>
          <p>${t(`period_type_${form.period_type}`)} · ${t('opens')} ${formatPeriod(form.opens)}</p>
          ${form.sections.map((section, i) => html`<h3>${i + 1}. ${named(section)}</h3>
            <ul class="elements">${section.elements.map((item) => html`<li>
              ${named(elements.get(item.data_element)) || item.data_element} <span class="code">${item.data_element}</span>
              ${item.compulsory && html` <span class="required">(${t('compulsory')})</span>`}</li>`)}</ul>`)}
        </section>`);
      }
      const retiredBadge = (d) => (d.retired ? html` <${Badge} kind="locked">${t('retired')}<//>` : '');
      if (tab === 'indicators') {
        return html`<div class="table-wrap"><table class="catalogue-indicators">
          <thead><tr><th scope="col">${t('indicator')}</th><th scope="col">${t('numerator')}</th><th scope="col">${t('denominator')}</th>
            <th scope="col">${t('unit')}</th>${admin && html`<th scope="col">${t('actions')}</th>`}</tr></thead>
          <tbody>${byName(indicators, named).map((i) => html`<tr data-indicator=${i.code}>
            <th scope="row"><span class="def-name">${named(i)}</span> <span class="code">${i.code}</span>${retiredBadge(i)}</th>
            <td class="code numerator">${i.numerator}</td><td class="code denominator">${i.denominator || ''}</td><td class="def-unit">${i.unit}</td>
            ${admin && html`<td><${EditLink} admin=${admin} kind="indicators" code=${i.code} /></td>`}
          </tr>`)}</tbody></table></div>`;
      }
      if (tab === 'rules') {
        return html`<div class="table-wrap"><table class="catalogue-rules">
          <thead><tr><th scope="col">${t('def_code')}</th><th scope="col">${t('def_rule')}</th><th scope="col">${t('def_message')}</th>
            ${admin && html`<th scope="col">${t('actions')}</th>`}</tr></thead>
          <tbody>${rules.map((r) => html`<tr data-rule=${r.code}>
            <th scope="row" class="code">${r.code}${retiredBadge(r)}</th>
            <td class="code def-rule">${r.rule}</td><td class="def-message">${named({ name: r.message, name_en: r.message_en })}</td>
            ${admin && html`<td><${EditLink} admin=${admin} kind="rules" code=${r.code} /></td>`}
          </tr>`)}</tbody></table></div>`;
      }
      return html`<div class="table-wrap"><table class="catalogue-elements">
        <thead><tr><th scope="col">${t('data_element')}</th><th scope="col">${t('value_type')}</th><th scope="col">${t('unit')}</th>
          <th scope="col">${t('bounds_title')}</th>${admin && html`<th scope="col">${t('actions')}</th>`}</tr></thead>
        <tbody>${byName([...elements.values()], named).map((e) => html`<tr data-element=${e.code}>
          <th scope="row"><span class="def-name">${named(e)}</span> <span class="code">${e.code}</span>${retiredBadge(e)}<br />
            <span class="help def-description">${e.description}</span></th>
          <td class="def-value-type">${t(`def_value_type_${e.value_type}`)}</td><td class="def-unit">${e.unit || ''}</td>
          <td class="def-bounds">${bounds(e)}</td>
          ${admin && html`<td><${EditLink} admin=${admin} kind="elements" code=${e.code} /></td>`}
        </tr>`)}</tbody></table></div>`;
    }}<//>`;
}
