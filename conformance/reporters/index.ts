import type { SuiteReport } from '../types.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderPretty } from './pretty.js';

export const REPORTERS = ['pretty', 'json', 'junit', 'html'] as const;
export type ReporterName = (typeof REPORTERS)[number];
export const REPORT_FILE: Record<ReporterName, string> = { pretty: 'conformance.txt', json: 'conformance.json', junit: 'conformance-junit.xml', html: 'conformance.html' };

export function render(name: ReporterName, report: SuiteReport, colour = false): string {
  switch (name) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'junit':
      return renderJunit(report);
    case 'html':
      return renderHtml(report);
    default:
      return renderPretty(report, colour);
  }
}
