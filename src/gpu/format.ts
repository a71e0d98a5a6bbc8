/** Human formatting for the model and provider GPU commands (the services return raw numbers). */

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`
}

/** 134105856 → "134.1M". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return String(n)
}

/** A one-line progress bar: "[#######.......]  45%  12.0 MiB / 27.0 MiB  3.1 MiB/s". */
export function progressLine(done: number, total: number | undefined, bytesPerSecond?: number, width = 24): string {
  const speed = bytesPerSecond === undefined ? '' : `  ${formatBytes(bytesPerSecond)}/s`
  if (!total) return `${formatBytes(done)}${speed}`
  const ratio = Math.min(1, done / total)
  const filled = Math.round(ratio * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}${speed}`
}
