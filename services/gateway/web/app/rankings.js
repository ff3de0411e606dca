// The ranking table (ICT-Index style, docs/RANKING.md): rank, total and
// sub-index scores, ties shown as ties, each agency's inputs on demand.

import {
  html, useState, useLoad, Loaded, navigate, today,
} from './ui.js';
import { get, query } from './api.js';
import { t, named, formatNumber, formatPeriod } from './i18n.js';
import { provinceOf } from './officer.js';
import { Downloads } from './dashboard.js';

/** The last period a ranking can be computed for: last year for yearly
 *  rankings, the last finished quarter for quarterly ones. */
function lastPeriod(code, now = today()) {
  const year = Number(now.slice(0, 4));
  if (!code.endsWith('_quarterly')) return String(year - 1);
  const quarter = Math.floor((Number(now.slice(5, 7)) - 1) / 3) + 1;
  return quarter === 1 ? `${year - 1}Q4` : `${year}Q${quarter - 1}`;
}

/** A score of 0..1 shown out of 100. */
const score = (s) => (s ? formatNumber(s.value * 100, 2) : '—');

function Row({ agency, definition, indicators, tied }) {
  const [open, setOpen] = useState(false);
  const id = `inputs-${agency.agency.replace(/\W/g, '-')}`;
  return html`<tr data-agency=${agency.agency}>
      <td class="rank">${agency.rank === null ? '—' : html`${agency.rank}${tied ? html`<abbr title=${t('tied')}> =</abbr>` : ''}`}</td>
      <th scope="row"><span class="agency-name">${agency.name}</span><br /><span class="code">${agency.agency}</span></th>
      <td class="total" data-value=${agency.total?.value ?? ''}>${score(agency.total)}</td>
      ${definition.sub_indexes.map((sub) => html`<td>${score(agency.sub_indexes.find((s) => s.code === sub.code)?.score)}</td>`)}
      <td><button type="button" aria-expanded=${open ? 'true' : 'false'} aria-controls=${id} onClick=${() => setOpen(!open)}>${t('inputs')}</button></td>
    </tr>
    ${open && html`<tr id=${id} class="inputs"><td colspan=${definition.sub_indexes.length + 4}>
      ${agency.unranked_reason && html`<p>${t('unranked')}: ${agency.unranked_reason}</p>`}
      <table><thead><tr><th scope="col">${t('indicator')}</th><th scope="col">${t('value')}</th><th scope="col">${t('score')}</th></tr></thead>
      <tbody>${agency.inputs.map((input) => html`<tr>
        <th scope="row">${named(indicators.get(input.indicator)) || input.indicator}</th>
        <td>${input.value === null ? '—' : formatNumber(input.value, 2)}</td><td>${score(input.score)}</td>
      </tr>`)}</tbody></table>
    </td></tr>`}`;
}

export function Rankings({ session, params }) {
  const province = provinceOf(session, params);
  const code = params.get('ranking') || 'district_committees';
  const period = params.get('period') || lastPeriod(code);
  const [data, error, retry] = useLoad(async () => {
    const [definitions, indicatorList] = await Promise.all([get('/api/v1/rankings'), get('/api/v1/indicators')]);
    const result = await get(`/api/v1/rankings/${encodeURIComponent(code)}${query({ area: province, period })}`);
    return {
      definitions,
      definition: definitions.find((d) => d.code === code),
      indicators: new Map(indicatorList.map((i) => [i.code, i])),
      result,
    };
  }, [province, code, period]);
  const choose = (changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value); else next.delete(key);
    }
    navigate(`/app/rankings?${next}`);
  };
  return html`<h1>${t('rankings')}</h1>
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ definitions, definition, indicators, result }) => {
      const ranks = new Map();
      for (const a of result.agencies) if (a.rank !== null) ranks.set(a.rank, (ranks.get(a.rank) || 0) + 1);
      return html`
      <form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <label for="r-ranking">${t('ranking')}</label>
        <select id="r-ranking" value=${code} onChange=${(e) => choose({ ranking: e.currentTarget.value, period: '' })}>
          ${definitions.map((d) => html`<option value=${d.code}>${d.name}</option>`)}
        </select>
        <label for="r-period">${t('period')}</label>
        <input id="r-period" value=${period} size="8" onChange=${(e) => choose({ period: e.currentTarget.value.trim() })} />
      </form>
      <p class="subtitle">${definition?.description} · ${formatPeriod(result.period)}</p>
      <${Downloads} kind="rankings" params=${{ ranking: code, area: province, period }} />
      <div class="table-wrap"><table class="ranking">
        <thead><tr><th scope="col">${t('rank')}</th><th scope="col">${t('agency')}</th><th scope="col">${t('total')}</th>
          ${definition.sub_indexes.map((sub) => html`<th scope="col">${sub.name}</th>`)}
          <th scope="col">${t('inputs')}</th></tr></thead>
        <tbody>${result.agencies.map((agency) => html`<${Row} key=${agency.agency} agency=${agency}
          definition=${definition} indicators=${indicators} tied=${agency.rank !== null && ranks.get(agency.rank) > 1} />`)}</tbody>
      </table></div>`;
    }}<//>`;
}
