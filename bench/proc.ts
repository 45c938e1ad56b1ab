import { readFileSync } from 'node:fs';

/** Resident set size of a process in bytes, from /proc/<pid>/status VmRSS (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Sum of user+system CPU seconds a process has used (utime+stime from /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (fields 14/15 of the full line), in clock ticks
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
