/** The management commands' only way to print: one line at a time on stdout. */
export function print(line: string): void {
  process.stdout.write(line + '\n');
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
