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
    expect(p.message).toContain('"linux", "windows", "ama"');
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
    expect(p.message).toContain('allowed here: do, title, name, signal, whenTunnelsOpen');
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

  it('refuses a clock start that is not a real time and ranges that can never be met', () => {
    const text = `name: bad-one\ntitle: t\nclock:\n  start: 2016-13-45T25:99Z\nworkspaces:\n  - id: 11111111-2222-3333-4444-555555555555\nsteps:\n` +
      `  - do: expect.counters\n    counters:\n      rejectionCount: { min: 3, max: 1 }\n      errorCount: { min: 0, max: 0 }\n` +
      `  - do: expect.agents\n    queued: { min: 2, max: 1 }\n` +
      `  - do: expect.ledger\n    records:\n      - count: { min: 9, max: 8 }\n`;
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.line, p.field, p.message])).toEqual([
      [4, 'clock.start', '"2016-13-45T25:99Z" is not a real date and time; use e.g. 2016-03-01T09:00:00Z'],
      [10, 'steps[0].counters.rejectionCount', 'min 3 is above max 1'],
      [13, 'steps[1].queued', 'min 2 is above max 1'],
      [16, 'steps[2].records[0].count', 'min 9 is above max 8'],
    ]);
  });

  it('formats problems as file:line:column: field: message', () => {
    try {
      parseScenario(`${head}  - do: agents.start\n    os: solaris\n`, 'x.yaml');
    } catch (err) {
      expect((err as Error).message).toMatch(/^x\.yaml:7:9: steps\[0\]\.os: must be one of/);
    }
    expect.assertions(1);
  });

  describe('several gateways and a balancer', () => {
    const twoGateways = `${head}  - do: cloud.start
  - do: gateway.start
    name: gw1
  - do: gateway.start
    name: gw2
`;

    it('accepts named gateways, a balancer, agents via the balancer and gateway-scoped expectations', () => {
      const loaded = parseScenario(`${twoGateways}  - do: balancer.start
    backends: [gw1, gw2]
    healthCheck: { interval: 100ms, fall: 2, rise: 1 }
  - do: agents.start
    os: linux
    via: balancer
  - do: gateway.kill
    name: gw1
    whenTunnelsOpen: true
  - do: balancer.wait
    backend: gw1
    state: DOWN
    timeout: 5s
  - do: expect.events
    gateway: gw2
    sequence: [103, 107]
  - do: expect.counters
    gateway: gw2
    counters: { errorCount: 0 }
  - do: expect.ledger
    ingestedOnceOrQueued: true
`, 'ok.yaml');
      expect(loaded.def.steps.map((s) => s.do)).toContain('balancer.wait');
    });

    it('names a gateway that no gateway.start declares, wherever a step refers to one', () => {
      const problems = problemsOf(`${twoGateways}  - do: gateway.kill
    name: gw3
  - do: expect.events
    gateway: gw9
    absent: [105]
  - do: expect.counters
    gateway: gateway
    counters: { errorCount: 0 }
  - do: balancer.start
    backends: [gw1, gw4]
  - do: agents.start
    os: windows
    via: gw5
`);
      expect(problems.map((p) => [p.line, p.field])).toEqual([
        [12, 'steps[3].name'],
        [14, 'steps[4].gateway'],
        [17, 'steps[5].gateway'],
        [20, 'steps[6].backends[1]'],
        [23, 'steps[7].via'],
      ]);
      expect(problems[0].message).toBe('unknown gateway "gw3"; started by gateway.start: gw1, gw2');
    });

    it('without a name a step refers to the default gateway "gateway"', () => {
      const [p] = problemsOf(`${head}  - do: gateway.start
  - do: gateway.stop
    name: gw1
`);
      expect(p).toMatchObject({ line: 8, field: 'steps[1].name', message: 'unknown gateway "gw1"; started by gateway.start: gateway' });
    });

    it('needs a balancer.start for via: balancer, and balancer.wait on one of its backends', () => {
      const problems = problemsOf(`${twoGateways}  - do: agents.start
    os: linux
    via: balancer
  - do: balancer.wait
    backend: gw2
    state: UP
`);
      expect(problems).toMatchObject([
        { line: 13, field: 'steps[3].via', message: 'via: balancer needs a balancer.start step' },
        { line: 15, field: 'steps[4].backend', message: '"gw2" is not a backend of any balancer.start; backends: none' },
      ]);
    });

    it('checks the new fields\' values: backend state, health check, gateway name, ledger', () => {
      const problems = problemsOf(`${twoGateways}  - do: balancer.start
    backends: []
    healthCheck: { interval: soon, falls: 2 }
  - do: balancer.wait
    backend: gw1
    state: down
  - do: gateway.start
    name: GW-3
  - do: gateway.kill
    name: gw2
    whenTunnelsOpen: yes please
  - do: expect.ledger
    title: nothing to check
`);
      expect(problems.map((p) => [p.line, p.field])).toEqual([
        [12, 'steps[3].backends'],
        [13, 'steps[3].healthCheck.falls'],
        [13, 'steps[3].healthCheck.interval'],
        [15, 'steps[4].backend'],
        [16, 'steps[4].state'],
        [18, 'steps[5].name'],
        [21, 'steps[6].whenTunnelsOpen'],
        [22, 'steps[7]'],
      ]);
      expect(problems.find((p) => p.field === 'steps[4].state')?.message).toBe('must be one of: "UP", "DOWN" (got "down")');
      expect(problems.find((p) => p.field === 'steps[5].name')?.message).toContain('a gateway name: lowercase letters, digits and "-"');
      expect(problems.find((p) => p.field === 'steps[3].healthCheck.falls')?.message).toContain('allowed here: interval, fall, rise');
      // Schema problems and the rules the schema cannot say come in one pass (issue 17); alone too:
      const [ledger] = problemsOf(`${head}  - do: expect.ledger
    title: nothing
`);
      expect(ledger).toMatchObject({ line: 6, field: 'steps[0]', message: 'expect.ledger needs createdEqualsIngested, ingestedOnceOrQueued or records' });
    });
  });

  it('says which file could not be read', () => {
    expect(() => loadScenarioFile(join(__dirname, 'nope.yaml'))).toThrow(/cannot read scenario file .*nope\.yaml/);
  });
});

describe('one pass, plain words, names checked before running (issue 17)', () => {
  const file = `name: typos
title: typos
description: every kind of mistake at once
workspaces:
  - id: 7a3c2f10-4b1e-4d7a-9c55-2f0e8b6d1a42
steps:
  - do: gateway.start
    allowlist: maybe
  - do: agents.start
    os: linux
    count: 2
  - do: probe.connect
    as: sneaky
    target: example.com:443
  - do: agents.wait
    agents: linx
    onboarded: true
  - do: expect.counters
    counters:
      rejectionCount: { min: 1 }
      rejectCount: { min: 1 }
  - do: expect.events
    client: sneeky
    sequence: [103, 105]
  - do: expect.events
    client: linux-2
    sequence: [103]
  - do: clock.advance
    by: 0s
`;
  it('reports schema, rule and reference problems together, each naming what there is', () => {
    let err: unknown;
    try {
      parseScenario(file, 'typos.yaml');
    } catch (e) {
      err = e;
    }
    const problems = (err as { problems: Array<{ line: number; field: string; message: string }> }).problems;
    expect(problems.map((p) => [p.line, p.field, p.message])).toEqual([
      [8, 'steps[0].allowlist', 'must be "default" (the hosts a 2016 install allowed) or a list of host names (got "maybe")'],
      [16, 'steps[3].agents', 'no agent or agent group is called "linx"; agents.start steps start: linux, linux-1, linux-2'],
      [21, 'steps[4].counters.rejectCount', expect.stringMatching(/^unknown counter "rejectCount"; the gateway has: activeClientConnections, .*rejectionCount/)],
      [23, 'steps[5].client', 'no agent, agent group or probe is called "sneeky"; this scenario has: linux, linux-1, linux-2, sneaky'],
      [29, 'steps[7].by', 'must be more than 0'],
    ]);
  });
});
