/**
 * Where each pane goes for a terminal size. The app draws rows−1 lines (a full-height frame would make ink clear
 * the screen on every redraw): a header, an optional banner, the body, the streams line and the help line.
 *
 *   header
 *   [banner: reconnecting…]
 *   auction book (list)        │ my wallet
 *   selected task (ladder…)    │ market pulse
 *                              │ events
 *   streams
 *   help
 */

export const MIN_COLUMNS = 50
export const MIN_ROWS = 12

export interface Layout {
  columns: number
  /** Lines drawn (terminal rows − 1). */
  height: number
  tooSmall: boolean
  banner: boolean
  /** Lines of the body (between the header/banner and the streams line). */
  body: number
  /** Two columns, or the right-hand panes under the auction book. */
  split: boolean
  left: number
  right: number
  /** Auction rows shown. */
  listRows: number
  /** Lines of the selected task pane (its title included). */
  taskRows: number
  walletRows: number
  pulseRows: number
  eventRows: number
  /** Lines of the streams pane (its title on the first one). */
  streamRows: number
}

export function computeLayout(columns: number, rows: number, options: {banner?: boolean; streams?: number} = {}): Layout {
  const height = Math.max(1, rows - 1)
  const banner = Boolean(options.banner)
  const streamRows = Math.max(1, Math.min(options.streams ?? 1, Math.floor(height / 6)))
  const body = height - 2 - streamRows - (banner ? 1 : 0)
  const tooSmall = columns < MIN_COLUMNS || rows < MIN_ROWS
  const split = columns >= 72
  const right = split ? Math.max(28, Math.min(48, Math.floor(columns * 0.37))) : columns
  const left = split ? columns - right - 1 : columns
  if (split) {
    const taskRows = Math.max(4, Math.min(16, Math.floor(body * 0.42)))
    const listRows = Math.max(1, body - taskRows - 2)
    const walletRows = Math.min(12, Math.max(3, Math.floor(body * 0.36)))
    const pulseRows = Math.max(2, Math.min(7, Math.floor(body * 0.25)))
    const eventRows = Math.max(1, body - walletRows - pulseRows)
    return {columns, height, tooSmall, banner, body, split, left, right, listRows, taskRows, walletRows, pulseRows, eventRows, streamRows}
  }
  // Narrow: everything stacked; the auction book keeps most of the room.
  const walletRows = 3
  const pulseRows = 2
  const eventRows = 2
  const rest = Math.max(4, body - walletRows - pulseRows - eventRows)
  const taskRows = Math.max(3, Math.floor(rest * 0.4))
  const listRows = Math.max(1, rest - taskRows - 2)
  return {columns, height, tooSmall, banner, body, split, left, right, listRows, taskRows, walletRows, pulseRows, eventRows, streamRows}
}
