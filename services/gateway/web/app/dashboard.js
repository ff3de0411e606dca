// The dashboard: the plan's targets as tiles (actual, target, met, gap); one
// indicator's trend over periods and its bars by district or by agency, each
// chart with the same numbers in a table beside it; completeness of a form
// for the period. Filters (plan, indicator, period, area province → district
// → commune, agency group) are all in the URL, so a view can be reloaded and
// shared, and every section downloads exactly what it shows.

import {
  html, useEffect, useRef, useLoad, Loaded, Badge, navigate, today,
} from './ui.js';
import { get, getAll, query } from './api.js';
import {
  t, named, byName, formatNumber, formatPeriod, formatValue, lang,
} from './i18n.js';
import { provinceOf } from './officer.js';

const GROUPS = {
  vi: {
    whole_province: 'toàn tỉnh', province_level: 'cấp tỉnh', district_level: 'cấp huyện',
    commune_level: 'cấp xã', department: 'các sở, ngành', district_committee: 'UBND cấp huyện',
    commune_committee: 'UBND cấp xã', all: 'tất cả',
  },
  en: {
    whole_province: 'whole province', province_level: 'province level', district_level: 'district level',
    commune_level: 'commune level', department: 'departments', district_committee: 'district committees',
    commune_committee: 'commune committees', all: 'all',
  },
};

export const groupName = (code) => GROUPS[lang()][code] || code;

/** CSV and XLSX downloads of exactly what a view shows, from the API's
 *  exports (the session cookie goes with the link). */
export function Downloads({ kind, params }) {
  const link = (format) => `/api/v1/exports/${kind}${query({ format, ...params })}`;
  return html`<p class="downloads">
    <a class="button" href=${link('csv')} download>${t('download_csv')}</a>
    <a class="button" href=${link('xlsx')} download>${t('download_xlsx')}</a>
  </p>`;
}

function Tile({ item, indicators }) {
  const { target, actual } = item;
  const indicator = indicators.get(target.indicator);
  const unit = actual?.unit ?? (target.kind === 'percentage' ? '%' : '');
  const decimals = actual?.decimals ?? 1;
  const hasValue = actual && actual.value !== null && actual.value !== undefined;
  return html`<div class="tile target" data-indicator=${target.indicator} data-group=${target.group}>
    <h3>${indicator ? named(indicator) : target.indicator}</h3>
    <p class="group">${groupName(target.group)} · ${target.year}</p>
    <p class="figure"><span class="actual" data-value=${hasValue ? actual.value : ''}>${hasValue ? formatValue(actual.value, unit, decimals) : t('no_data')}</span>
      <span class="target-value"> / ${target.comparator === '>=' ? '' : `${target.comparator} `}${formatValue(Number(target.value), unit, decimals)}</span></p>
    <p>${hasValue ? html`<${Badge} kind=${item.attained ? 'accepted' : 'returned'}>${item.attained ? t('met') : t('not_met')}<//>` : ''}
      ${hasValue && !item.attained && item.gap !== null && html` <span class="gap">${t('gap')}: ${formatValue(item.gap, unit, decimals)}</span>`}</p>
    ${hasValue && html`<p class="basis">${formatNumber(actual.numerator)} / ${formatNumber(actual.denominator)} · ${t('agencies_reporting')}: ${formatNumber(actual.agencies_reporting)}/${formatNumber(actual.agencies_expected)}</p>`}
  </div>`;
}


/** Period codes people pick on the dashboard: the last eight quarters and
 *  the last three years, newest first. */
export function recentPeriods(now = today()) {
  const year = Number(now.slice(0, 4));
  const quarter = Math.floor((Number(now.slice(5, 7)) - 1) / 3) + 1;
  const quarters = [];
  for (let i = 0; i < 8; i += 1) {
    const q = ((quarter - 1 - i) % 4 + 4) % 4 + 1;
    const y = year + Math.floor((quarter - 1 - i) / 4);
    quarters.push(`${y}Q${q}`);
  }
  return [...quarters, String(year), String(year - 1), String(year - 2)];
}

/** The series shown for a period: the quarters of the last two years up to
 *  a quarter, or the five years up to a year. */
function seriesEndingAt(period) {
  const m = /^(\d{4})Q([1-4])$/.exec(period);
  if (m) return { from: `${Number(m[1]) - 1}Q1`, to: period };
  return { from: String(Number(period) - 4), to: period };
}

/** A form's period type that a period code is of. */
const periodType = (code) => (/Q\d$/.test(code) ? 'quarterly' : /^\d{4}$/.test(code) ? 'yearly' : 'monthly');

/** One indicator's figures as a Chart.js chart (a line over periods, or
 *  bars by area or agency); the numerator and denominator on hover. */
function Chart({ type, points, labels, label, unit }) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!window.Chart || !canvas.current) return undefined;
    const chart = new window.Chart(canvas.current, {
      type,
      data: {
        labels,
        datasets: [{
          label,
          data: points.map((p) => p.value),
          borderColor: '#0b5cad',
          backgroundColor: '#0b5cad',
          spanGaps: true,
        }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: type === 'bar' ? 'y' : 'x',
        scales: {
          [type === 'bar' ? 'x' : 'y']: { beginAtZero: true, ticks: { callback: (v) => formatNumber(v) } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (context) => {
                const p = points[context.dataIndex];
                return `${formatValue(p.value, unit, p.decimals)} (${formatNumber(p.numerator)} / ${formatNumber(p.denominator)})`;
              },
            },
          },
        },
      },
    });
    return () => chart.destroy();
  }, [type, points, labels, label, unit]);
  return html`<div class=${`chart chart-${type}`}><canvas ref=${canvas} role="img" aria-label=${label}></canvas></div>`;
}

/** The table beside a chart: the same figures, one row per point. */
function FiguresTable({ className, rows, unit, head, rowKey, rowName }) {
  return html`<div class="table-wrap"><table class=${className}>
    <caption>${t('chart_table')}</caption>
    <thead><tr><th scope="col">${head}</th><th scope="col">${t('value')}</th>
      <th scope="col">${t('numerator')}</th><th scope="col">${t('denominator')}</th>
      <th scope="col">${t('agencies_reporting')}</th></tr></thead>
    <tbody>${rows.map((p) => html`<tr data-key=${rowKey(p)}>
      <th scope="row">${rowName(p)}</th>
      <td data-value=${p.value ?? ''}>${p.value === null ? '—' : formatValue(p.value, unit, p.decimals)}</td>
      <td>${formatNumber(p.numerator)}</td><td>${formatNumber(p.denominator)}</td>
      <td>${formatNumber(p.agencies_reporting)}/${formatNumber(p.agencies_expected)}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

/** A section's answer, or the problem that kept it from loading (one
 *  failing section leaves the others on screen). */
const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

function SectionError({ error }) {
  return error ? html`<div class="notice error" role="alert"><strong>${t('error')}:</strong> ${error.message}</div>` : null;
}

/** The district and commune committees of a province, by their areas'
 *  codes: the choices of the area filter. */
async function areasOf(province) {
  const [districts, communes] = await Promise.all([
    getAll(`/api/v1/agencies${query({ province, kind: 'district_committee' })}`, 1000),
    getAll(`/api/v1/agencies${query({ province, kind: 'commune_committee' })}`, 1000),
  ]);
  const withArea = (list) => list.filter((a) => a.admin_unit_code);
  return { districts: byName(withArea(districts)), communes: byName(withArea(communes)) };
}

const TARGET_GROUPS = ['', 'department', 'district_committee', 'commune_committee', 'province_level', 'district_level', 'commune_level'];

/** Whether the signed-in user reads a province's figures: the admin every
 *  province's, others their own and those granted to them (the API's rule;
 *  it lists every plan but answers 403 for the figures of the rest). */
function reads(session, province) {
  return session.role === 'admin' || province === session.province_code
    || (session.granted_province_codes || []).includes(province);
}

export function Dashboard({ session, params }) {
  const home = provinceOf(session, params);
  const period = params.get('period') || recentPeriods()[0];
  const group = params.get('group') || '';
  const by = params.get('by') === 'agencies' ? 'agencies' : 'child_areas';
  const indicator = params.get('indicator') || 'electronic_document_rate';
  const [data, error, retry] = useLoad(async () => {
    const [allPlans, indicatorList, forms] = await Promise.all([
      get('/api/v1/plans'), get('/api/v1/indicators'), get('/api/v1/forms'),
    ]);
    // Every plan the user may read, its own province's first; the plan
    // chosen decides the province the whole page is about.
    const plans = [...allPlans.filter((p) => p.province === home),
      ...byName(allPlans.filter((p) => p.province !== home && reads(session, p.province)), (p) => p.title)];
    const planCode = params.get('plan') || plans.filter((p) => p.province === home).at(-1)?.code || plans[0]?.code;
    const plan = plans.find((p) => p.code === planCode);
    const province = plan?.province || home;
    const area = params.get('area') || province;
    const areas = await areasOf(province);
    const indicators = new Map(indicatorList.map((i) => [i.code, i]));
    const formsOfPeriod = forms.filter((f) => f.period_type === periodType(period));
    const form = params.get('form') || formsOfPeriod[0]?.code || '';
    const { from, to } = seriesEndingAt(period);
    const [attainment, trend, breakdown, completeness] = await Promise.all([
      plan ? settle(get(`/api/v1/attainment${query({ plan: planCode })}`)) : { value: { targets: [] } },
      settle(get(`/api/v1/trends${query({ indicator, area, group, from, to })}`)),
      settle(get(`/api/v1/aggregates/breakdown${query({ indicator, area, period, group, breakdown: by })}`)),
      form ? settle(get(`/api/v1/completeness${query({ form, period, area, group })}`)) : { value: null },
    ]);
    return {
      plans, plan, province, area, indicators, areas, forms: formsOfPeriod, form,
      attainment, trend, breakdown, completeness, from, to,
    };
  }, [home, params.toString()]);
  const choose = (changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value); else next.delete(key);
    }
    navigate(`/app/dashboard?${next}`);
  };
  return html`<h1>${t('dashboard')}</h1>
    <${Loaded} value=${data} error=${error} retry=${retry}>${(d) => {
      const { area } = d;
      const chosen = d.indicators.get(indicator);
      const indicatorName = chosen ? named(chosen) : indicator;
      const commune = d.areas.communes.find((c) => c.admin_unit_code === area);
      const districtCommittee = commune
        ? d.areas.districts.find((x) => x.code === commune.parent_code)
        : d.areas.districts.find((x) => x.admin_unit_code === area);
      const district = districtCommittee?.admin_unit_code || '';
      const communes = districtCommittee ? d.areas.communes.filter((c) => c.parent_code === districtCommittee.code) : [];
      const shared = { indicator, area, group };
      const trend = d.trend.value || [];
      const rows = byName(d.breakdown.value?.rows || []);
      const unit = d.breakdown.value?.total.unit ?? trend[0]?.unit ?? chosen?.unit ?? '';
      const c = d.completeness.value;
      return html`
      <form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label=${t('filters')}>
        <label for="d-plan">${t('plan')}</label>
        <select id="d-plan" value=${d.plan?.code} onChange=${(e) => choose({ plan: e.currentTarget.value, area: '' })}>
          ${d.plans.map((p) => html`<option value=${p.code}>${p.title}</option>`)}
        </select>
        <label for="d-indicator">${t('indicator')}</label>
        <select id="d-indicator" value=${indicator} onChange=${(e) => choose({ indicator: e.currentTarget.value })}>
          ${byName([...d.indicators.values()], named).map((i) => html`<option value=${i.code}>${named(i)}</option>`)}
        </select>
        <label for="d-period">${t('period')}</label>
        <select id="d-period" value=${period} onChange=${(e) => choose({ period: e.currentTarget.value, form: '' })}>
          ${recentPeriods().map((p) => html`<option value=${p}>${formatPeriod(p)}</option>`)}
          ${!recentPeriods().includes(period) && html`<option value=${period}>${formatPeriod(period)}</option>`}
        </select>
        <label for="d-district">${t('district')}</label>
        <select id="d-district" value=${district} onChange=${(e) => choose({ area: e.currentTarget.value })}>
          <option value="">${t('whole_province')}</option>
          ${d.areas.districts.map((x) => html`<option value=${x.admin_unit_code}>${named(x).replace(/^UBND /, '')}</option>`)}
        </select>
        <label for="d-commune">${t('commune')}</label>
        <select id="d-commune" value=${commune?.admin_unit_code || ''} disabled=${!districtCommittee}
          onChange=${(e) => choose({ area: e.currentTarget.value || district })}>
          <option value="">${t('whole_district')}</option>
          ${communes.map((x) => html`<option value=${x.admin_unit_code}>${named(x).replace(/^UBND /, '')}</option>`)}
        </select>
        <label for="d-group">${t('group')}</label>
        <select id="d-group" value=${group} onChange=${(e) => choose({ group: e.currentTarget.value })}>
          ${TARGET_GROUPS.map((g) => html`<option value=${g}>${groupName(g || 'all')}</option>`)}
        </select>
      </form>
      ${d.plan && html`<section aria-labelledby="targets-title">
        <h2 id="targets-title">${d.plan.title}</h2>
        <${SectionError} error=${d.attainment.error} />
        <${Downloads} kind="attainment" params=${{ plan: d.plan.code }} />
        <div class="tiles targets">${(d.attainment.value?.targets || []).map((item) => html`<${Tile} item=${item} indicators=${d.indicators} />`)}</div>
      </section>`}
      <section class="card bars" aria-labelledby="bars-title" data-view=${params.toString()}>
        <h2 id="bars-title">${indicatorName} — ${formatPeriod(period)} — ${d.breakdown.value?.total.name ?? ''}${group ? ` (${groupName(group)})` : ''}</h2>
        <div class="filters">
          <label for="d-by">${t('bars_by')}</label>
          <select id="d-by" value=${by} onChange=${(e) => choose({ by: e.currentTarget.value === 'agencies' ? 'agencies' : '' })}>
            <option value="child_areas">${t('by_area')}</option>
            <option value="agencies">${t('by_agency')}</option>
          </select>
        </div>
        <${SectionError} error=${d.breakdown.error} />
        ${d.breakdown.value && html`
          <p class="basis total" data-value=${d.breakdown.value.total.value ?? ''}>${t('area_total')}: ${d.breakdown.value.total.value === null ? t('no_data') : formatValue(d.breakdown.value.total.value, unit, d.breakdown.value.total.decimals)} (${formatNumber(d.breakdown.value.total.numerator)} / ${formatNumber(d.breakdown.value.total.denominator)})</p>
          <${Downloads} kind="aggregates" params=${{ ...shared, period, breakdown: by }} />
          ${rows.length === 0 ? html`<p>${t('no_rows')}</p>` : html`<div class="chart-with-table">
            <${Chart} type="bar" points=${rows} labels=${rows.map((r) => r.name)} label=${`${indicatorName}, ${formatPeriod(period)}`} unit=${unit} />
            <${FiguresTable} className="bars-table" rows=${rows} unit=${unit} head=${by === 'agencies' ? t('agency') : t('area')}
              rowKey=${(r) => r.agency || r.area} rowName=${(r) => r.name} />
          </div>`}`}
      </section>
      <section class="card trend" aria-labelledby="trend-title">
        <h2 id="trend-title">${t('trend')}: ${indicatorName} — ${trend[0]?.name ?? ''}${group ? ` (${groupName(group)})` : ''}</h2>
        <${SectionError} error=${d.trend.error} />
        ${d.trend.value && html`
          <${Downloads} kind="trends" params=${{ ...shared, from: d.from, to: d.to }} />
          <div class="chart-with-table">
            <${Chart} type="line" points=${trend} labels=${trend.map((p) => formatPeriod(p.period))} label=${`${t('trend')}: ${indicatorName}`} unit=${unit} />
            <${FiguresTable} className="trend-table" rows=${trend} unit=${unit} head=${t('period')}
              rowKey=${(p) => p.period} rowName=${(p) => formatPeriod(p.period)} />
          </div>`}
      </section>
      <section class="card dash-completeness" aria-labelledby="dc-title">
        <h2 id="dc-title">${t('completeness')} — ${formatPeriod(period)}</h2>
        <div class="filters">
          <label for="d-form">${t('form')}</label>
          <select id="d-form" value=${d.form} onChange=${(e) => choose({ form: e.currentTarget.value })}>
            ${d.forms.map((f) => html`<option value=${f.code}>${named(f)}</option>`)}
          </select>
        </div>
        <${SectionError} error=${d.completeness.error} />
        ${c && html`
          <${Downloads} kind="completeness" params=${{ form: d.form, period, area, group }} />
          <div class="table-wrap"><table class="completeness-table">
            <thead><tr><th scope="col">${t('form')}</th><th scope="col">${t('period')}</th>
              ${COUNTS.map(([key]) => html`<th scope="col">${t(key)}</th>`)}<th scope="col">%</th></tr></thead>
            <tbody><tr data-form=${c.form} data-period=${c.period}>
              <th scope="row">${named(d.forms.find((f) => f.code === c.form)) || c.form}</th><td>${formatPeriod(c.period)}</td>
              ${COUNTS.map(([key, field]) => html`<td data-count=${key}>${formatNumber(c[field])}</td>`)}
              <td>${formatValue(c.reporting_rate, '%')}</td>
            </tr></tbody>
          </table></div>`}
      </section>`;
    }}<//>`;
}

/** The completeness counts shown, as (message key, field). */
export const COUNTS = [['expected', 'expected'], ['received', 'received'], ['on_time', 'on_time'], ['late', 'late'],
  ['missing', 'missing_count'], ['returned', 'returned_count']];
