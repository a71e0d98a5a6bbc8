import {describe, expect, it} from 'vitest'

import {readSse, SseParser, sseFrame} from '../../../src/gateway/sse.js'

describe('SseParser', () => {
  it('parses OpenAI chunks and [DONE] split at every possible byte', () => {
    const text = `${sseFrame({a: 'héllo ✓'})}: comment\n\n${sseFrame({b: 2})}${sseFrame('[DONE]')}`
    const bytes = new TextEncoder().encode(text)
    for (let cut = 1; cut < bytes.length; cut++) {
      const parser = new SseParser()
      const events = [...parser.push(bytes.slice(0, cut)), ...parser.push(bytes.slice(cut))]
      expect(events.map((e) => e.data)).toEqual(['{"a":"héllo ✓"}', '{"b":2}', '[DONE]'])
    }
  })

  it('accepts CRLF and CR line ends, also when a CRLF is split between pieces', () => {
    const parser = new SseParser()
    expect(parser.push('data: one\r')).toEqual([])
    expect(parser.push('\n\r\ndata: two\r\rdata: three\n\n')).toEqual([
      {event: 'message', data: 'one'},
      {event: 'message', data: 'two'},
      {event: 'message', data: 'three'},
    ])
  })

  it('joins multi-line data, keeps the event name, ignores other fields and drops an unterminated event', () => {
    const parser = new SseParser()
    expect(parser.push('event: error\nid: 7\ndata: line 1\ndata:line 2\n\ndata: cut')).toEqual([{event: 'error', data: 'line 1\nline 2'}])
    expect(parser.end()).toEqual([])
  })

  it('reads an async body', async () => {
    async function* body() {
      yield new TextEncoder().encode('data: {"x"')
      yield new TextEncoder().encode(':1}\n\ndata: [DONE]\n\n')
    }
    const events = []
    for await (const e of readSse(body())) events.push(e.data)
    expect(events).toEqual(['{"x":1}', '[DONE]'])
  })
})
