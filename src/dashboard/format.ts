/**
 * Compact, fixed-width friendly formatting for the dashboard (the TUI and its plain snapshot). Plain strings only:
 * no colours, no terminal codes.
 */
import {formatUnits} from 'ethers'

/** An amount of oGPU (or ETH) in base units, in at most ~7 characters: "30", "12.5", "1234.6", "12.3k", "0.0012". */
export function compactAmount(wei: bigint | string): string {
  const value = typeof wei === 'bigint' ? wei : BigInt(wei)
  if (value === 0n) return '0'
  const v = Number(formatUnits(value, 18))
  const abs = Math.abs(v)
  if (abs >= 1e9) return `${trim((v / 1e9).toPrecision(3))}G`
  if (abs >= 1e6) return `${trim((v / 1e6).toPrecision(3))}M`
  if (abs >= 1e4) return `${trim((v / 1e3).toPrecision(3))}k`
  if (abs >= 1) return trim(v.toFixed(abs >= 1000 ? 0 : abs >= 100 ? 1 : 2))
  if (abs >= 0.0001) return trim(v.toPrecision(2))
  return v.toExponential(1)
}

const trim = (text: string): string => (text.includes('.') && !text.includes('e') ? text.replace(/0+$/, '').replace(/\.$/, '') : text)

/** A display number (already in tokens) in the same compact style. */
export function compactNumber(v: number): string {
  if (!Number.isFinite(v)) return '-'
  if (v === 0) return '0'
  const abs = Math.abs(v)
  if (abs >= 1e6) return `${trim((v / 1e6).toPrecision(3))}M`
  if (abs >= 1e4) return `${trim((v / 1e3).toPrecision(3))}k`
  if (abs >= 1) return trim(v.toFixed(abs >= 1000 ? 0 : abs >= 100 ? 1 : 2))
  if (abs >= 0.0001) return trim(v.toPrecision(2))
  return v.toExponential(1)
}

/** "0x1234…abcd" */
export function shortAddress(address: string | null | undefined): string {
  if (!address) return '-'
  return `${address.slice(0, 6)}…${address.slice(-4)}`
}

/** "12s", "4m05s", "1h02m", "3d04h" */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`
}

const BARS = '▁▂▃▄▅▆▇█'

/** A sparkline of the last `width` values (one character each), scaled between their min and max. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-Math.max(0, width))
  if (shown.length === 0) return ''
  const min = Math.min(...shown)
  const max = Math.max(...shown)
  if (max === min) return BARS[3]!.repeat(shown.length)
  return shown.map((v) => BARS[Math.min(7, Math.floor(((v - min) / (max - min)) * 7.999))]).join('')
}

/** Cuts `text` to `width` characters (with an ellipsis when cut) and pads it to exactly `width`. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return ''
  const chars = [...text]
  const cut = chars.length > width ? `${chars.slice(0, Math.max(0, width - 1)).join('')}…` : text
  const pad = width - Math.min(chars.length, width)
  return align === 'right' ? `${' '.repeat(pad)}${cut}` : `${cut}${' '.repeat(pad)}`
}

/** Cuts `text` to at most `width` characters, without padding. */
export function clip(text: string, width: number): string {
  const chars = [...text]
  return chars.length > width ? `${chars.slice(0, Math.max(0, width - 1)).join('')}…` : text
}
