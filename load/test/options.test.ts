import { isInputError } from '../../lib/errors.js';
import { validateLoadOptions, type LoadOptions } from '../options.js';
import { loadOptions } from './helpers.js';

const base = loadOptions({ seed: 's' });

function problem(o: Partial<LoadOptions>): string {
  try {
    validateLoadOptions({ ...base, ...o } as LoadOptions);
  } catch (err) {
    if (!isInputError(err)) throw err;
    return err.message;
  }
  return '(accepted)';
}

test('the defaults are valid', () => {
  expect(problem({})).toBe('(accepted)');
  expect(problem({ profile: 'idle', count: 8000 })).toBe('(accepted)');
});

test.each([
  [{ count: 5000 }, '--agents must be a whole number from 1 to 4000, got 5000'],
  [{ profile: 'churn', count: 0 } as Partial<LoadOptions>, '--connections must be a whole number from 1 to 20000, got 0'],
  [{ profile: 'stampede' } as unknown as Partial<LoadOptions>, '--profile must be one of agents, churn, keepalive, idle, got "stampede"'],
  [{ forbiddenRate: -1 }, '--forbidden-rate (CONNECTs per second) must be a number from 0 to 1000, got -1'],
  [{ durationMs: 50 }, '--duration (ms) must be a whole number from 100 to 3600000, got 50'],
  [{ speed: 0 }, '--speed must be a number above 0 to 10000, got 0'],
  [{ targetPort: 70000 }, '--target-port must be a whole number from 1 to 65535, got 70000'],
  [{ mix: { windows: -1, linux: 1 } }, '--mix windows must be a number from 0, got -1'],
  [{ mix: { windows: 0, linux: 0 } }, '--mix needs a positive weight for windows, linux or ama, e.g. windows=1,linux=1,ama=1'],
  [{ gateway: { host: '10.0.0.1', port: 3128 } }, '--gateway host must be a loopback address (127.0.0.0/8, ::1 or localhost), got "10.0.0.1": loads never leave this machine'],
])('%j → %s', (o, message) => {
  expect(problem(o)).toBe(message);
});

test('every problem is reported at once, one line each', () => {
  expect(problem({ concurrency: 0, errorRate: 2000, seed: 7 as unknown as string }).split('\n')).toEqual([
    '--concurrency must be a whole number from 1 to 20000, got 0',
    '--error-rate (CONNECTs per second) must be a number from 0 to 1000, got 2000',
    '--seed must be text, got 7',
  ]);
});
