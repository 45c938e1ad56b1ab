import { closeSync, openSync, readFileSync, readSync, statSync, watch } from 'node:fs';
import { InputError } from '../../lib/errors.js';
import type { GatewayEvent } from '../../gateway/events/event-log.js';

function fileProblem(file: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? (err as Error).message})`;
  return new InputError(`--file ${file} ${why}; give the --event-log file of a gateway`);
}

/** One line of an --event-log file, checked enough that printing it cannot fail. */
export function parseEventLine(line: string, file: string, lineNo: number): GatewayEvent {
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    throw new InputError(`${file} line ${lineNo} is not a JSON event`);
  }
  const o = e as Partial<GatewayEvent> | null;
  if (!o || typeof o !== 'object' || typeof o.id !== 'number' || typeof o.seq !== 'number' || typeof o.message !== 'string' || typeof o.time !== 'string') {
    throw new InputError(`${file} line ${lineNo} is not a gateway event (needs "seq", "id", "time" and "message")`);
  }
  return o as GatewayEvent;
}

/**
 * Reads an --event-log file from `offset`, calling `onEvent` per complete line. Returns the offset
 * after the last complete line and the next line number.
 */
function readFrom(file: string, offset: number, lineNo: number, onEvent: (e: GatewayEvent) => void): { offset: number; lineNo: number } {
  let fd: number;
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
    fd = openSync(file, 'r');
  } catch (err) {
    throw fileProblem(file, err);
  }
  let text = '';
  try {
    const buf = Buffer.alloc(64 * 1024);
    let pos = offset;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      text += buf.subarray(0, n).toString('utf8');
      pos += n;
    }
  } catch (err) {
    throw fileProblem(file, err);
  } finally {
    closeSync(fd);
  }
  const complete = text.lastIndexOf('\n') + 1;
  for (const line of text.slice(0, complete).split('\n').slice(0, -1)) {
    lineNo++;
    if (line.trim()) onEvent(parseEventLine(line, file, lineNo));
  }
  return { offset: offset + Buffer.byteLength(text.slice(0, complete)), lineNo };
}

/** Prints the events of a file; with `follow`, keeps printing lines appended later until `stop` resolves. */
export async function readEventFile(file: string, onEvent: (e: GatewayEvent) => void, follow?: { stop: Promise<void> }): Promise<void> {
  if (!follow) {
    let text: string;
    try {
      if (statSync(file).isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw fileProblem(file, err);
    }
    // check every line before printing any: a bad file prints one error, not half its events
    const events = text.split('\n').flatMap((line, i) => (line.trim() ? [parseEventLine(line, file, i + 1)] : []));
    events.forEach(onEvent);
    return;
  }
  // following: only complete lines are printed, a line being written is read when its "\n" arrives
  let at = readFrom(file, 0, 0, onEvent);
  await new Promise<void>((resolve, reject) => {
    const watcher = watch(file, () => {
      try {
        at = readFrom(file, at.offset, at.lineNo, onEvent);
      } catch (err) {
        watcher.close();
        reject(err);
      }
    });
    watcher.on('error', (err) => {
      watcher.close();
      reject(fileProblem(file, err));
    });
    // lines appended between the first read and the watch starting are read now
    try {
      at = readFrom(file, at.offset, at.lineNo, onEvent);
    } catch (err) {
      watcher.close();
      reject(err);
    }
    void follow.stop.then(() => {
      watcher.close();
      resolve();
    });
  });
}
