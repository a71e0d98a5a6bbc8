import {describe, expect, it} from 'vitest'

import {gatewayError, maxTokensOf, parseCallerBody, statusOf} from '../../../src/gateway/caller.js'
import {ExitCode, UserError} from '../../../src/errors/index.js'

describe('the caller\'s request', () => {
  it('takes a JSON object with messages (chat) or a prompt (completions), and leaves ogpu to the gateway', () => {
    expect(parseCallerBody('chat', '{"messages":[{"role":"user","content":"Hi"}]}')).toEqual({messages: [{role: 'user', content: 'Hi'}]})
    const refused = (route: 'chat' | 'completions', body: string) => {
      try {
        parseCallerBody(route, body)
      } catch (error) {
        return [statusOf(error), (error as UserError).code, (error as Error).message]
      }
      return undefined
    }
    expect(refused('chat', 'nope')?.slice(0, 2)).toEqual([400, 'invalid_request'])
    expect(refused('chat', '[]')?.[2]).toBe('The request body must be a JSON object.')
    expect(refused('chat', '{"messages":[]}')?.[2]).toBe('messages must be a non-empty array.')
    expect(refused('completions', '{"prompt":5}')?.[2]).toBe('prompt must be a string or an array of token ids.')
    expect(refused('chat', '{"messages":[1],"stream":"yes"}')?.[2]).toBe('stream must be a boolean.')
    expect(refused('chat', '{"messages":[1],"ogpu":{}}')?.[2]).toBe('ogpu is reserved for the gateway.')
  })

  it('answers errors with their status: the caller\'s fault below 500, the network\'s from 500', () => {
    expect(gatewayError(413, 'too_large', 'Big.')).toMatchObject({status: 413, kind: 'user', exitCode: ExitCode.User, details: {status: 413}})
    expect(gatewayError(503, 'no_generator', 'None.', 'Wait.')).toMatchObject({kind: 'external', hint: 'Wait.'})
    expect(statusOf(new Error('x'))).toBe(500)
    expect(maxTokensOf({max_completion_tokens: 3, max_tokens: 9})).toBe(3)
    expect(maxTokensOf({})).toBe(Number.POSITIVE_INFINITY)
  })
})
