import type { ScenarioResult, StepResult } from '../runner.js';
import { eventMeaning } from '../event-names.js';
import { counterCharts, esc, swimlaneSvg } from './html-svg.js';

const CSS = `
body{font-family:system-ui,sans-serif;margin:0 1rem 2rem;color:#1f2328}
h1{font-size:1.4rem}h2{font-size:1.2rem;margin-top:2rem;border-top:1px solid #d0d7de;padding-top:.6rem}h3{font-size:1rem}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}.skip{color:#9a6700}.notrun{color:#57606a}
table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #d0d7de;padding:.2rem .4rem;vertical-align:top;text-align:left}
th{background:#f6f8fa}tr.failed{background:#ffebe9}ul.lines{margin:0;padding-left:1rem}
.swimlane .lane{stroke:#d0d7de}.swimlane .lane-name{font-size:12px}.step-line line{stroke:#d0d7de;stroke-dasharray:2 3}
.step-line text{font-size:10px;fill:#57606a}.connect line{stroke-width:1.5;opacity:.7}.mark rect{fill:#8250df}
.mark-label{font-size:10px;fill:#8250df}.axis{font-size:10px;fill:#57606a}.legend span{margin-right:1rem}
.dot{display:inline-block;width:.8em;height:.8em;border-radius:50%;vertical-align:middle;margin-right:.3em}
.counters{display:flex;flex-wrap:wrap;gap:.8rem}.counter{margin:0}.counter polyline{fill:none;stroke:#1f6feb;stroke-width:1.5}
.counter polyline.g1{stroke:#d97706}.counter polyline.g2{stroke:#16a34a}.counter polyline.g3{stroke:#8250df}
.counter span.g0{color:#1f6feb}.counter span.g1{color:#d97706}.counter span.g2{color:#16a34a}.counter span.g3{color:#8250df}
.counter .axis-line{stroke:#57606a}.counter .tick{stroke:#8250df}
code,pre{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
`;

const STATUS_CLASS: Record<StepResult['status'], string> = { passed: 'pass', failed: 'fail', skipped: 'skip', 'not-verified': 'skip', 'not-run': 'notrun' };
const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

function lines(items: string[] | undefined): string {
  if (!items || items.length === 0) return '';
  return `<ul class="lines">${items.map((l) => `<li><code>${esc(l)}</code></li>`).join('')}</ul>`;
}

function stepsTable(r: ScenarioResult): string {
  const rows = r.steps.map((s) => {
    const expected = s.kind === 'expectation' ? `${esc(s.description)}${lines(s.expected)}` : '';
    const seen = `${esc(s.summary ?? '')}${lines(s.actual)}${lines(s.details)}`;
    return `<tr class="step ${s.status}" data-step="${s.index + 1}"><td>${s.index + 1}</td><td><code>${esc(s.do)}</code><br><small>line ${s.line}</small></td><td>${s.kind === 'action' ? esc(s.description) : 'expectation'}</td><td class="${STATUS_CLASS[s.status]}">${s.status}</td><td>${secs(s.startMs)} +${secs(s.durationMs)}</td><td>${expected}</td><td>${seen}</td></tr>`;
  });
  return `<table class="steps"><caption>Every step in order: actions, and each expectation with what it expected and what was seen</caption><thead><tr><th>#</th><th>step</th><th>action</th><th>result</th><th>time</th><th>expected</th><th>seen</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function ledger(r: ScenarioResult): string {
  const parts: string[] = [];
  if (r.loss) {
    const l = r.loss;
    parts.push(`<table class="ledger"><caption>Records: created by the agents vs ingested by the cloud</caption><thead><tr><th>agent</th><th>created</th><th>ingested</th><th>missing</th></tr></thead><tbody>${l.perAgent.map((a) => `<tr><td>${esc(a.agent)}</td><td>${a.created}</td><td>${a.ingested}</td><td>${a.missing}</td></tr>`).join('')}<tr><th>total</th><th>${l.created}</th><th>${l.ingested}</th><th>${l.missing}</th></tr></tbody></table><p>Ingested more than once: ${l.duplicated}.</p>`);
  }
  if (r.agents?.length) {
    parts.push(`<table class="agents"><caption>Each agent's records at the end, by state; dropped records with the reason</caption><thead><tr><th>agent</th><th>os</th><th>records</th><th>by state</th><th>dropped, why</th></tr></thead><tbody>${r.agents
      .map((a) => `<tr><td>${esc(a.name)}</td><td>${esc(a.os)}</td><td>${a.records}</td><td>${esc(Object.entries(a.states).map(([k, v]) => `${k} ${v}`).join(', ') || 'none')}</td><td>${esc(Object.entries(a.dropReasons).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none dropped')}</td></tr>`)
      .join('')}</tbody></table>`);
  }
  return parts.length ? parts.join('\n') : '<p>No agents ran, so there is no ledger.</p>';
}

function gatewaysTable(r: ScenarioResult): string {
  if (!r.gateways.length) return '';
  return `<table class="gateways"><caption>Gateways: processes started, how the last one ended, events by id</caption><thead><tr><th>gateway</th><th>processes</th><th>ended</th><th>events</th></tr></thead><tbody>${r.gateways
    .map((g) => `<tr><td>${esc(g.name)}</td><td>${g.generations}</td><td>${esc(g.ended)}</td><td>${esc(Object.entries(g.eventCounts).map(([id, n]) => `${id}×${n}`).join(' '))}</td></tr>`)
    .join('')}</tbody></table>`;
}

function eventsTable(r: ScenarioResult): string {
  const rows = r.events.map((e) => `<tr><td>${secs(e.atMs)}</td><td>${esc(e.gateway)} ${e.generation}</td><td>${e.id}</td><td>${esc(eventMeaning(e.id, e.message))}</td><td>${esc(e.client ?? e.clientIp ?? '')}</td><td>${esc(e.target ?? '')}</td><td>${e.connectionId ?? ''}</td><td><code>${esc(e.message)}</code></td></tr>`);
  return `<details><summary>All ${r.events.length} gateway events</summary><table class="events"><thead><tr><th>time</th><th>gateway gen</th><th>id</th><th>meaning</th><th>client</th><th>target</th><th>conn</th><th>message</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></details>`;
}

function scenarioSection(r: ScenarioResult, i: number): string {
  const verdict = r.verdict === 'passed' ? '<span class="pass">PASSED</span>' : r.verdict === 'not-verified' ? '<span class="skip">NOT VERIFIED</span>' : '<span class="fail">FAILED</span>';
  const counts = (['passed', 'failed', 'skipped', 'not-verified', 'not-run'] as const).map((s) => `${r.steps.filter((x) => x.status === s).length} ${s}`).join(', ');
  return `<section class="scenario" id="scenario-${i + 1}" aria-labelledby="scenario-${i + 1}-title">
<h2 id="scenario-${i + 1}-title">${esc(r.name)}: ${verdict}</h2>
<p>${esc(r.title)}</p>
<p>File <code>${esc(r.file)}</code>; ${secs(r.durationMs)}; steps: ${counts}.${r.external ? ` External gateway ${esc(r.external)}.` : ''}${r.error ? ` <span class="fail">${esc(r.error)}</span>` : ''}</p>
<h3>Timeline</h3>
<p class="legend"><span><i class="dot" style="background:#1a7f37"></i>103 → 107 verified</span><span><i class="dot" style="background:#bf8700"></i>refused (104/105/106)</span><span><i class="dot" style="background:#cf222e"></i>error (400–403)</span><span><i class="dot" style="background:#57606a"></i>no verdict</span><span><i class="dot" style="background:#8250df"></i>restart, stop, fault, clock jump</span> (hover for details; numbers are steps)</p>
${swimlaneSvg(r)}
<h3>Steps and expectations</h3>
${stepsTable(r)}
<h3>Counters over time</h3>
${counterCharts(r.counterSamples, r.durationMs, r.steps)}
<h3>Ledger</h3>
${ledger(r)}
${gatewaysTable(r)}
${r.teardown.length ? `<h3>Teardown problems</h3>${lines(r.teardown)}` : ''}
${eventsTable(r)}
</section>`;
}

/**
 * One self-contained HTML page for a run: inline CSS and SVG, no scripts and no external
 * resources, so it opens from a CI artifact or an email as it is.
 */
export function renderHtml(results: ScenarioResult[]): string {
  const passed = results.filter((r) => r.passed).length;
  const title = `omsgw scenarios: ${passed}/${results.length} passed`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1>
<nav aria-label="Scenarios"><ul>${results.map((r, i) => `<li><a href="#scenario-${i + 1}">${esc(r.name)}</a> ${r.verdict === 'passed' ? '<span class="pass">passed</span>' : r.verdict === 'not-verified' ? '<span class="skip">not verified</span>' : '<span class="fail">failed</span>'}</li>`).join('')}</ul></nav>
${results.map(scenarioSection).join('\n')}
</body></html>
`;
}
