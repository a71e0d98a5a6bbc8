/** Small, dependency-free output helpers shared by commands. Colours follow NO_COLOR and TTY-ness. */

const useColor = (stream: NodeJS.WriteStream = process.stdout): boolean =>
  !process.env.NO_COLOR && process.env.TERM !== 'dumb' && Boolean(stream.isTTY)

const wrap = (open: number, close: number) => (text: string) =>
  useColor(process.stderr) && useColor(process.stdout) ? `\u001B[${open}m${text}\u001B[${close}m` : text

export const color = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
}

/** Renders rows as an aligned plain-text table (no box drawing: safe over any SSH link). */
export function table(headers: string[], rows: Array<Array<string | number | bigint | boolean>>): string {
  const cells = rows.map((row) => row.map(String))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)))
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [color.bold(line(headers)), ...cells.map(line)].join('\n')
}

/** Renders label/value pairs, aligned. */
export function keyValues(pairs: Array<[string, string | number | bigint | boolean | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length))
  return pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${color.dim(`${k}:`.padEnd(width + 1))} ${String(v)}`)
    .join('\n')
}
