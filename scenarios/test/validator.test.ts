import { join } from 'node:path';
import { loadScenarioFile, parseScenario, ScenarioFileError, type ScenarioProblem } from '../runner/load.js';
import { isInputError } from '../../lib/errors.js';
import { listCatalogue } from '../runner/catalogue.js';

function problemsOf(text: string, file = 'bad.yaml'): ScenarioProblem[] {
  try {
    parseScenario(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioFileError);
    expect(isInputError(err)).toBe(true);
    return (err as ScenarioFileError).problems;
  }
  throw new Error('expected the scenario to be rejected');
}

const head = `name: bad-one
title: a scenario with mistakes
workspaces:
  - id: 11111111-2222-3333-4444-555555555555
steps:
`;

describe('scenario validator', () => {
  it('accepts every catalogue file', () => {
    const files = listCatalogue();
    expect(files.length).toBeGreaterThanOrEqual(1);
    for (const f of files) expect(() => loadScenarioFile(f.file)).not.toThrow();
  });

  it('names file, line, field and the allowed values for a bad enum', () => {
    const [p, ...rest] = problemsOf(`${head}  - do: agents.start\n    os: solaris\n`, 'lab/bad.yaml');
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ file: 'lab/bad.yaml', line: 7, field: 'steps[0].os' });
    expect(p.message).toContain('"linux", "windows"');
    expect(p.message).toContain('solaris');
  });

  it('reports an unknown step with the list of steps', () => {
    const [p] = problemsOf(`${head}  - do: cloud.start\n  - do: gateway.launch\n`);
    expect(p).toMatchObject({ line: 7, field: 'steps[1].do' });
    expect(p.message).toContain('unknown step "gateway.launch"');
    expect(p.message).toContain('gateway.start');
  });

  it('reports an unknown field at its own line with the fields allowed there', () => {
    const [p] = problemsOf(`${head}  - do: gateway.kill\n    sginal: SIGKILL\n`);
    expect(p).toMatchObject({ line: 7, column: 5, field: 'steps[0].sginal' });
    expect(p.message).toContain('allowed here: do, title, signal');
  });

  it('reports several problems at once, including wrong types and bad durations', () => {
    const problems = problemsOf(`${head}  - do: agents.start\n    os: linux\n    count: two\n  - do: clock.advance\n    by: 5 weeks\n`);
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [8, 'steps[0].count'],
      [10, 'steps[1].by'],
    ]);
    expect(problems[0].message).toContain('must be integer');
    expect(problems[1].message).toContain('like 500ms, 30s');
  });

  it('reports a missing required field against its parent', () => {
    const [p] = problemsOf(`name: x\ntitle: t\nsteps:\n  - do: cloud.start\n`);
    expect(p).toMatchObject({ line: 1, field: '' });
    expect(p.message).toContain('missing required field "workspaces"');
  });

  it('reports YAML syntax errors with their position', () => {
    const [p] = problemsOf('name: [x\ntitle: t\n');
    expect(p.message).toMatch(/^YAML syntax/);
    expect(p.line).toBeGreaterThanOrEqual(1);
  });

  it('checks references the schema cannot: unknown workspace, empty expectation', () => {
    const problems = problemsOf(`${head}  - do: agents.start\n    os: linux\n    workspace: ws9\n  - do: expect.events\n    client: linux-1\n`);
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [8, 'steps[0].workspace'],
      [9, 'steps[1]'],
    ]);
    expect(problems[0].message).toContain('declared: 11111111-2222-3333-4444-555555555555');
  });

  it('formats problems as file:line:column: field: message', () => {
    try {
      parseScenario(`${head}  - do: agents.start\n    os: solaris\n`, 'x.yaml');
    } catch (err) {
      expect((err as Error).message).toMatch(/^x\.yaml:7:9: steps\[0\]\.os: must be one of/);
    }
    expect.assertions(1);
  });

  it('says which file could not be read', () => {
    expect(() => loadScenarioFile(join(__dirname, 'nope.yaml'))).toThrow(/cannot read scenario file .*nope\.yaml/);
  });
});
