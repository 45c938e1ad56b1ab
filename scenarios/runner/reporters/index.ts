import type { ScenarioResult } from '../runner.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderPretty } from './pretty.js';
import type { Style } from './style.js';

export const REPORTERS = ['pretty', 'json', 'junit', 'html'] as const;
export type ReporterName = (typeof REPORTERS)[number];

export const REPORT_FILE: Record<ReporterName, string> = { pretty: 'scenarios.txt', json: 'scenarios.json', junit: 'junit.xml', html: 'scenarios.html' };

export function render(name: ReporterName, results: ScenarioResult[], style: Style): string {
  switch (name) {
    case 'pretty':
      return renderPretty(results, style);
    case 'json':
      return renderJson(results);
    case 'junit':
      return renderJunit(results);
    case 'html':
      return renderHtml(results);
  }
}
