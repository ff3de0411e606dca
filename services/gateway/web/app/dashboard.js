// The dashboard: the plan's targets as tiles (actual, target, met, gap) and
// one indicator's trend as a chart with the same numbers in a table beside
// it. Every choice is in the URL, so a view can be shared.

import {
  html, useEffect, useRef, useLoad, Loaded, Badge, navigate, today,
} from './ui.js';
import { get, query } from './api.js';
import {
  t, named, formatNumber, formatPeriod, formatValue, lang,
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

const groupName = (code) => GROUPS[lang()][code] || code;

/** CSV and XLSX downloads of exactly what a view shows, from the API's
 *  exports (the session cookie goes with the link). */
export function Downloads({ kind, params }) {
  const link = (format) => `/api/v1/exports/${kind}${query({ format, ...params })}`;
  return html`<p class="downloads">
    <a class="button" href=${link('csv')} download>${t('download_csv')}</a>
    <a class="button" href=${link('xlsx')} download>${t('download_xlsx')}</a>
  </p>`;
}

/** The quarters from the start of last year to the current one. */
function recentQuarters(now = today()) {
  const year = Number(now.slice(0, 4));
  const quarter = Math.floor((Number(now.slice(5, 7)) - 1) / 3) + 1;
  return { from: `${year - 1}Q1`, to: `${year}Q${quarter}` };
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

function TrendChart({ points, label, unit }) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!window.Chart || !canvas.current) return undefined;
    const chart = new window.Chart(canvas.current, {
      type: 'line',
      data: {
        labels: points.map((p) => formatPeriod(p.period)),
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
        scales: { y: { beginAtZero: true, ticks: { callback: (v) => formatNumber(v) } } },
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
  }, [points, label, unit]);
  return html`<div class="chart"><canvas ref=${canvas} role="img" aria-label=${`${t('trend')}: ${label}`}></canvas></div>`;
}

export function Dashboard({ session, params }) {
  const province = provinceOf(session, params);
  const [data, error, retry] = useLoad(async () => {
    const [plans, indicatorList] = await Promise.all([get('/api/v1/plans'), get('/api/v1/indicators')]);
    const indicators = new Map(indicatorList.map((i) => [i.code, i]));
    const ofProvince = plans.filter((p) => p.province === province);
    const planCode = params.get('plan') || ofProvince.at(-1)?.code || plans[0]?.code;
    const plan = plans.find((p) => p.code === planCode);
    const attainment = plan ? await get(`/api/v1/attainment${query({ plan: planCode })}`) : { targets: [] };
    const indicator = params.get('indicator') || 'electronic_document_rate';
    const area = plan?.province || province;
    const { from, to } = recentQuarters();
    const trend = await get(`/api/v1/trends${query({ indicator, area, from, to })}`);
    return {
      plans: ofProvince.length ? ofProvince : plans, plan, attainment, indicators, indicator, trend, area, from, to,
    };
  }, [province, params.get('plan'), params.get('indicator')]);
  const choose = (changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) next.set(key, value);
    navigate(`/app/dashboard?${next}`);
  };
  return html`<h1>${t('dashboard')}</h1>
    <${Loaded} value=${data} error=${error} retry=${retry}>${({ plans, plan, attainment, indicators, indicator, trend, area, from, to }) => {
      const chosen = indicators.get(indicator);
      const unit = trend[0]?.unit ?? chosen?.unit ?? '';
      return html`
      <form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <label for="d-plan">${t('plan')}</label>
        <select id="d-plan" value=${plan?.code} onChange=${(e) => choose({ plan: e.currentTarget.value })}>
          ${plans.map((p) => html`<option value=${p.code}>${p.title}</option>`)}
        </select>
        <label for="d-indicator">${t('indicator')}</label>
        <select id="d-indicator" value=${indicator} onChange=${(e) => choose({ indicator: e.currentTarget.value })}>
          ${[...indicators.values()].map((i) => html`<option value=${i.code}>${named(i)}</option>`)}
        </select>
      </form>
      ${plan && html`<section aria-labelledby="targets-title">
        <h2 id="targets-title">${plan.title}</h2>
        <${Downloads} kind="attainment" params=${{ plan: plan.code }} />
        <div class="tiles targets">${attainment.targets.map((item) => html`<${Tile} item=${item} indicators=${indicators} />`)}</div>
      </section>`}
      <section class="card trend" aria-labelledby="trend-title">
        <h2 id="trend-title">${t('trend')}: ${chosen ? named(chosen) : indicator} — ${trend[0]?.name ?? ''}</h2>
        <${Downloads} kind="trends" params=${{ indicator, area, from, to }} />
        <div class="chart-with-table">
          <${TrendChart} points=${trend} label=${chosen ? named(chosen) : indicator} unit=${unit} />
          <div class="table-wrap"><table class="trend-table">
            <caption>${t('chart_table')}</caption>
            <thead><tr><th scope="col">${t('period')}</th><th scope="col">${t('value')}</th>
              <th scope="col">${t('numerator')}</th><th scope="col">${t('denominator')}</th>
              <th scope="col">${t('agencies_reporting')}</th></tr></thead>
            <tbody>${trend.map((p) => html`<tr data-period=${p.period}>
              <th scope="row">${formatPeriod(p.period)}</th>
              <td data-value=${p.value ?? ''}>${p.value === null ? '—' : formatValue(p.value, unit, p.decimals)}</td>
              <td>${formatNumber(p.numerator)}</td><td>${formatNumber(p.denominator)}</td>
              <td>${formatNumber(p.agencies_reporting)}/${formatNumber(p.agencies_expected)}</td>
            </tr>`)}</tbody>
          </table></div>
        </div>
      </section>`;
    }}<//>`;
}
