import type { ExpectEventsStep } from '../definitions.js';
import type { Lab } from '../lab.js';
import type { CollectedEvent } from '../events.js';
import { durationMs } from '../duration.js';
import { eventMeaning } from '../event-names.js';
import { failed, passed, pollUntil, type StepImpl } from '../step-types.js';

function targetMatches(eventTarget: string | undefined, wanted: string): boolean {
  if (!eventTarget) return false;
  const t = eventTarget.toLowerCase();
  const w = wanted.toLowerCase();
  return w.includes(':') ? t === w : t.replace(/:\d+$/, '') === w;
}

/**
 * The events an expectation is about. Events of one connection carry the same connectionId; some
 * (e.g. 107) may lack the target, so they are matched through the connection's 103.
 */
export function selectEvents(
  events: CollectedEvent[],
  lab: Pick<Lab, 'clientNamesFor'>,
  step: Pick<ExpectEventsStep, 'client' | 'target' | 'generation' | 'gateway'>,
  currentGeneration: (gateway: string) => number,
): CollectedEvent[] {
  const clients = step.client ? lab.clientNamesFor(step.client) : undefined;
  const inScope = events.filter(
    (e) => (step.gateway === undefined || e.gateway === step.gateway) && (step.generation === 'current' ? e.generation === currentGeneration(e.gateway) : true),
  );
  const targetOfConnection = new Map<string, string>();
  for (const e of inScope) if (e.connectionId !== undefined && e.target) targetOfConnection.set(connectionKey(e), e.target);
  return inScope.filter((e) => {
    if (clients && !(e.client && clients.has(e.client))) return false;
    if (step.target) {
      const t = e.target ?? (e.connectionId !== undefined ? targetOfConnection.get(connectionKey(e)) : undefined);
      if (!targetMatches(t, step.target)) return false;
    }
    return true;
  });
}

/** Connection ids are per gateway process. */
export function connectionKey(e: Pick<CollectedEvent, 'gateway' | 'generation' | 'connectionId'>): string {
  return `${e.gateway}/${e.generation}/${e.connectionId}`;
}

export function isSubsequence(wanted: number[], seen: number[]): boolean {
  let i = 0;
  for (const id of seen) if (i < wanted.length && id === wanted[i]) i++;
  return i === wanted.length;
}

export function judgeEvents(step: ExpectEventsStep, selected: CollectedEvent[]): string[] {
  const ids = selected.map((e) => e.id);
  const problems: string[] = [];
  if (step.sequence) {
    const ok = (step.match ?? 'subsequence') === 'exact' ? ids.length === step.sequence.length && ids.every((id, i) => id === step.sequence![i]) : isSubsequence(step.sequence, ids);
    if (!ok) problems.push(`sequence ${(step.match ?? 'subsequence') === 'exact' ? 'is not exactly' : 'does not contain'} ${step.sequence.join(' → ')}`);
  }
  for (const id of step.absent ?? []) if (ids.includes(id)) problems.push(`event ${id} (${eventMeaning(id)}) present`);
  for (const text of step.messageContains ?? []) if (!selected.some((e) => e.message.includes(text))) problems.push(`no event message contains "${text}"`);
  return problems;
}

function describe(step: ExpectEventsStep): string {
  const who = [step.gateway && `of ${step.gateway}`, step.client && `from ${step.client}`, step.target && `to ${step.target}`, step.generation === 'current' && 'since the last (re)start'].filter(Boolean).join(' ');
  const what = [
    step.sequence && `${(step.match ?? 'subsequence') === 'exact' ? 'exactly' : ''} ${step.sequence.map((id) => `${id}`).join(' → ')}`.trim(),
    step.absent && `no ${step.absent.join('/')}`,
  ].filter(Boolean).join(', ');
  return `events ${who}: ${what}`;
}

export const expectEvents: StepImpl<ExpectEventsStep> = {
  needs: ['management-api'],
  explain: describe,
  async run(step, lab) {
    // An absence can only be judged at the end of the window; a sequence can pass early.
    const timeoutMs = step.within ? durationMs(step.within) : 0;
    const onlyAbsence = !step.sequence && !step.messageContains;
    const result = await pollUntil(timeoutMs, async () => {
      await lab.events.poll();
      const selected = selectEvents(lab.events.all, lab, step, (g) => lab.events.currentGeneration(g));
      const problems = judgeEvents(step, selected);
      return { done: problems.length === 0 && !onlyAbsence, problems, selected };
    }, 50);
    const expected = step.sequence?.map((id) => `${id} ${eventMeaning(id)}`) ?? [];
    const several = new Set(lab.events.all.map((e) => e.gateway)).size > 1;
    const actual = result.selected.map((e) => `${e.id} ${eventMeaning(e.id, e.message)}${several ? ` [${e.gateway}]` : ''}${e.generation > 1 ? ` [gen ${e.generation}]` : ''}`);
    const summary = `seen: ${result.selected.map((e) => e.id).join(' → ') || 'no matching events'}`;
    if (result.problems.length > 0) return failed(summary, { details: result.problems, expected, actual });
    return passed(summary);
  },
};
