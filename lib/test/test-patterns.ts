/**
 * Finds the patterns that let a test pass without the behaviour its name claims (DEVELOPERS.md,
 * "Honest results only"): skipped tests, tests that return early or skip themselves when a tool
 * or runtime feature is missing, and refusal checks that accept any exception.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Finding {
  file: string;
  line: number;
  rule: string;
  text: string;
}

interface Rule {
  name: string;
  why: string;
  pattern: RegExp;
}

/** A condition that asks whether a tool, file or runtime feature is there. */
const AVAILABILITY = String.raw`(?:existsSync|has[A-Z]\w*|which\w*|commandExists|\w*(?:Available|Installed|Supported|Present)\b|[A-Z_]{3,}\b)`;

export const RULES: readonly Rule[] = [
  {
    name: 'skipped test',
    why: 'a skipped test proves nothing; fix it or delete it',
    pattern: /\b(?:describe|it|test)\s*\.\s*skip\b|\.skip\s*\(|\b(?:xdescribe|xit|xtest)\s*\(/g,
  },
  {
    name: 'conditional early return',
    why: 'a test that returns when something is missing passes without running; let it fail (and install the tool in .ci/run)',
    pattern: new RegExp(String.raw`\bif\s*\(\s*!\s*\(?\s*${AVAILABILITY}[^\n]*\)\s*(?:\{\s*)?return\b`, 'g'),
  },
  {
    name: 'self-reported skip',
    why: 'a test that prints "skipped" and carries on has passed without checking anything',
    pattern: /\bconsole\s*\.\s*(?:warn|log|info|error)\s*\(\s*[`'"][^`'"\n]*\bskip(?:ped|ping)?\b/gi,
  },
  {
    name: 'bare toThrow',
    why: 'toThrow() with no argument accepts any exception (a TypeError too); match the error class or message',
    pattern: /(?<!\.not)\.\s*(?:toThrow|toThrowError)\s*\(\s*\)/g,
  },
];

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Every finding in one file's text. */
export function scanText(file: string, text: string): Finding[] {
  const found: Finding[] = [];
  for (const rule of RULES) {
    for (const m of text.matchAll(rule.pattern)) {
      const line = lineOf(text, m.index!);
      found.push({ file, line, rule: rule.name, text: text.split('\n')[line - 1]!.trim() });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage']);

/** Paths of every *.test.ts below root (node_modules, dist and .git left out). */
export function testFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name));
      } else if (entry.name.endsWith('.test.ts')) out.push(join(dir, entry.name));
    }
  };
  walk(root);
  return out.sort();
}

/** Every finding in every test file below root, with paths relative to root. */
export function scanTree(root: string): Finding[] {
  return testFiles(root).flatMap((f) => scanText(relative(root, f), readFileSync(f, 'utf8')));
}

export function formatFinding(f: Finding): string {
  const why = RULES.find((r) => r.name === f.rule)?.why ?? '';
  return `${f.file}:${f.line}: ${f.rule}: ${f.text} (${why})`;
}
