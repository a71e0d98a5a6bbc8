/**
 * Server-Sent Events as OpenAI-compatible servers send them: `data: <json>` lines separated by a blank line, ending
 * with `data: [DONE]`. The parser is incremental (bytes arrive in arbitrary pieces, a multi-byte character or a line
 * may be split across them) and follows the WHATWG rules the gateway needs: `\n`, `\r\n` or `\r` line ends, several
 * `data:` lines joined by `\n`, comment lines (`:`) and other fields ignored.
 */

export interface SseEvent {
  /** The `event:` field. Defaults to `message`. */
  event: string
  /** The `data:` lines, joined by `\n`. */
  data: string
}

export class SseParser {
  private readonly decoder = new TextDecoder()
  private buffer = ''
  private data: string[] = []
  private event = ''
  /** A `\r` ended the last piece: a `\n` at the start of the next one belongs to it. */
  private pendingCr = false

  /** Feeds a piece of the stream; returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, {stream: true})
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1)
    this.pendingCr = false
    this.buffer += text
    const events: SseEvent[] = []
    let start = 0
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      const line = this.buffer.slice(start, i)
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++
        } else this.pendingCr = true
      }
      start = i + 1
      const event = this.line(line)
      if (event) events.push(event)
    }
    this.buffer = this.buffer.slice(start)
    return events
  }

  /** Ends the stream: an event without its final blank line is dropped, as the standard says. */
  end(): SseEvent[] {
    this.decoder.decode()
    this.buffer = ''
    this.data = []
    this.event = ''
    return []
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = ''
        return undefined
      }
      const event = {event: this.event || 'message', data: this.data.join('\n')}
      this.data = []
      this.event = ''
      return event
    }
    if (line.startsWith(':')) return undefined
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.data.push(value)
    else if (field === 'event') this.event = value
    return undefined
  }
}

/** Reads a response body as SSE events (the body is any async iterable of bytes, e.g. fetch's `response.body`). */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const parser = new SseParser()
  for await (const chunk of body) yield* parser.push(chunk)
  parser.end()
}

/** One SSE frame carrying `value` as JSON (or the literal `[DONE]`). */
export function sseFrame(value: unknown): string {
  return `data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`
}
