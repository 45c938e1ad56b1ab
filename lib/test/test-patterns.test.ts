/**
 * The suite's own honesty guard: no test file may skip, return early when a tool is missing, or
 * accept any exception as a refusal. The self-test feeds the scanner one sample of each pattern
 * (built from pieces, so this file does not trip the scanner itself).
 */
import { packageRoot } from '../paths.js';
import { formatFinding, scanText, scanTree, testFiles } from './test-patterns.js';

/** Samples carry an '@' that breaks each pattern in this file; it is removed before scanning. */
const sample = (text: string): string => text.replace(/@/g, '');

describe('the scanner catches each pattern (self-test)', () => {
  test.each([
    ["describe.@skip('x', () => {})", 'skipped test'],
    ["it.@skip('x', async () => {})", 'skipped test'],
    ["test.@skip('x', () => {})", 'skipped test'],
    ["test.each([[1]]).@skip('x %s', () => {})", 'skipped test'],
    ["(SQUID ? describe : describe.@skip)('through squid', () => {})", 'skipped test'],
    ["x@it('x', () => {})", 'skipped test'],
    ["x@describe('x', () => {})", 'skipped test'],
    ["if (@!existsSync('/usr/bin/curl')) return;", 'conditional early return'],
    ['if (@!hasOpenssl) return;', 'conditional early return'],
    ['if (@!hasLegacyTls()) {\n  return;\n}', 'conditional early return'],
    ['if (@!SQUID) return;', 'conditional early return'],
    ['if (@!tls12Supported) return;', 'conditional early return'],
    ['console.warn(`sk@ipped ${version}: the runtime could not negotiate it`);', 'self-reported skip'],
    ["console.log('Sk@ipping: curl not installed');", 'self-reported skip'],
    ['expect(() => parse(x)).@toThrow();', 'bare toThrow'],
    ['await expect(p).rejects.@toThrow();', 'bare toThrow'],
    ['expect(f).@toThrowError( );', 'bare toThrow'],
  ])('%s → %s', (source, rule) => {
    const found = scanText('sample.test.ts', `// line 1\n${sample(source)}\n`);
    expect(found.map((f) => [f.rule, f.line])).toEqual([[rule, 2]]);
    expect(formatFinding(found[0]!)).toMatch(new RegExp(`^sample\\.test\\.ts:2: ${rule}: `));
  });

  test.each([
    ['expect(() => parse(x)).not.@toThrow();'],
    ['expect(() => parse(x)).@toThrow(InputError);'],
    ['await expect(p).rejects.@toThrow(/ECONNREFUSED/);'],
    ["if (!res.ok) return undefined; // a helper's own control flow, no tool check"],
    ['const skipped = results.filter((r) => r.skipped);'],
    ['expect(out).toMatch(/skipped 3 records/);'],
  ])('leaves honest code alone: %s', (source) => {
    expect(scanText('sample.test.ts', sample(source))).toEqual([]);
  });
});

describe('every test file in the repository', () => {
  test('is scanned (the walk finds the suite, this file included)', () => {
    const files = testFiles(packageRoot());
    expect(files.length).toBeGreaterThan(40);
    expect(files.some((f) => f.endsWith('lib/test/test-patterns.test.ts'))).toBe(true);
    expect(files.some((f) => f.includes('/node_modules/') || f.includes('/dist/'))).toBe(false);
  });

  test('has no skip, no early return on a missing tool, no bare toThrow()', () => {
    expect(scanTree(packageRoot()).map(formatFinding)).toEqual([]);
  });
});
