/**
 * A stdout for ink that sends the terminal only the lines that changed.
 *
 * Ink (standard mode) writes each frame as "erase the previous N lines, then the whole frame". In the alternate
 * screen the app owns every row, so this stream takes the frame out of that write, compares it line by line with the
 * previous one, and writes only the changed lines at their absolute row (each inside a synchronized update). Over a
 * slow SSH link a frame where one countdown ticked costs one line, not the screen. (Ink's own incremental mode
 * places frames that end with a newline one row too low, hence this.) Anything that is not a frame (cursor
 * show/hide, other escapes) passes through unchanged.
 */
import {EventEmitter} from 'node:events'

const BSU = '\u001B[?2026h'
const ESU = '\u001B[?2026l'
/** The erase prefix of a frame: eraseLines(n) = (EL2 [CUU1])* then CHA1. */
const ERASE_PREFIX = /^(?:\u001B\[2K(?:\u001B\[1?A)?)*(?:\u001B\[G)?/
/** Cursor movement or erase escapes (not colours): their presence means the chunk is not a plain frame. */
const CONTROL = /\u001B\[[0-9;?]*[A-HJKSTfhlsu]/

/** The frame a chunk written by ink holds (its lines), or undefined when the chunk is not a frame. */
export function frameOf(chunk: string): string[] | undefined {
  let text = chunk
  if (text.startsWith(BSU)) text = text.slice(BSU.length)
  if (text.endsWith(ESU)) text = text.slice(0, -ESU.length)
  const prefix = ERASE_PREFIX.exec(text)?.[0] ?? ''
  const body = text.slice(prefix.length)
  if (prefix === '' && !body.includes('\n')) return undefined
  if (CONTROL.test(body)) return undefined
  const lines = body.endsWith('\n') ? body.slice(0, -1).split('\n') : body.split('\n')
  return body === '' ? [] : lines
}

/** The escapes that turn screen `previous` into `next`: each changed row erased and rewritten in place. */
export function diffFrames(previous: readonly string[], next: readonly string[]): string {
  let out = ''
  const rows = Math.max(previous.length, next.length)
  for (let i = 0; i < rows; i++) {
    if (previous[i] === next[i]) continue
    out += `\u001B[${i + 1};1H\u001B[2K${next[i] ?? ''}`
  }
  return out === '' ? '' : `${BSU}${out}${ESU}`
}

export interface ScreenTarget {
  write(chunk: string): boolean
  columns?: number
  rows?: number
  isTTY?: boolean
  on(event: 'resize', listener: () => void): unknown
  off(event: 'resize', listener: () => void): unknown
}

export class ScreenStream extends EventEmitter {
  readonly isTTY = true
  private previous: string[] = []
  /** Bytes sent to the terminal (for tests and benchmarks). */
  bytesWritten = 0

  constructor(private readonly target: ScreenTarget) {
    super()
    target.on('resize', this.onResize)
  }

  get columns(): number {
    return this.target.columns || 80
  }

  get rows(): number {
    return this.target.rows || 24
  }

  write(chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const frame = frameOf(text)
    const out = frame === undefined ? text : diffFrames(this.previous, frame)
    if (frame !== undefined) this.previous = frame
    if (out) {
      this.bytesWritten += Buffer.byteLength(out)
      this.target.write(out)
    }
    const done = typeof encoding === 'function' ? encoding : callback
    if (typeof done === 'function') done()
    return true
  }

  /**
   * A resized terminal may have reflowed the screen: clear it, so that the next frame (which ink draws at once for
   * the new size) is painted in full.
   */
  private readonly onResize = () => {
    this.previous = []
    this.target.write('\u001B[2J')
    this.emit('resize')
  }

  dispose(): void {
    this.target.off('resize', this.onResize)
  }
}
