/** Splitting a fleet between Windows, Linux and Azure Monitor Agents. */
import { InputError } from '../../lib/errors.js';
import { splitAgentMix } from '../ama-agent/mix.js';

test.each([
  [10, { windows: 1, linux: 1, ama: 1 }, { windows: 4, linux: 3, ama: 3 }],
  [3, { windows: 1, linux: 1, ama: 1 }, { windows: 1, linux: 1, ama: 1 }],
  [5, { ama: 1 }, { windows: 0, linux: 0, ama: 5 }],
  [7, { windows: 2, linux: 0, ama: 1 }, { windows: 5, linux: 0, ama: 2 }],
  [600, { windows: 1, linux: 1 }, { windows: 300, linux: 300, ama: 0 }],
])('%d agents with %j → %j (sums to the count)', (count, mix, want) => {
  const got = splitAgentMix(count, mix);
  expect(got).toEqual(want);
  expect(got.windows + got.linux + got.ama).toBe(count);
});

test.each([
  [{ macos: 1 }, 'unknown agent kind "macos"'],
  [{ ama: -1 }, 'mix weight for ama must be a number >= 0'],
  [{ windows: 0, linux: 0, ama: 0 }, 'mix needs a positive weight for windows, linux or ama'],
])('%j is refused: %s', (mix, message) => {
  let err: unknown;
  try {
    splitAgentMix(3, mix as never);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toContain(message);
});
