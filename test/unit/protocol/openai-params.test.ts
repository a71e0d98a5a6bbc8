import {describe, expect, it} from 'vitest'

import {parseCallerBody} from '../../../src/gateway/caller.js'
import {HttpStatusError} from '../../../src/http/index.js'
import {unsupportedParameter} from '../../../src/protocol/openai-params.js'
import {parseOpenAiRequest} from '../../../src/provider/stream/api/request.js'
import {DEFAULT_STREAM_LIMITS} from '../../../src/provider/stream/auth.js'

const chat = {messages: [{role: 'user', content: 'Hi'}]}

describe('OpenAI parameters ogpu does not honour yet are refused, never ignored', () => {
  it('names each refused parameter with OpenAI\'s code', () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{tools: [{type: 'function', function: {name: 'f'}}]}, 'tools', 'unsupported_parameter'],
      [{tool_choice: 'auto'}, 'tool_choice', 'unsupported_parameter'],
      [{functions: []}, 'functions', 'unsupported_parameter'],
      [{function_call: 'auto'}, 'function_call', 'unsupported_parameter'],
      [{top_logprobs: 3}, 'top_logprobs', 'unsupported_parameter'],
      [{suffix: 'end'}, 'suffix', 'unsupported_parameter'],
      [{response_format: {type: 'json_object'}}, 'response_format', 'unsupported_value'],
      [{response_format: {type: 'json_schema', json_schema: {name: 'x', schema: {}}}}, 'response_format', 'unsupported_value'],
      [{logprobs: true}, 'logprobs', 'unsupported_value'],
      [{logprobs: 2}, 'logprobs', 'unsupported_value'],
      [{presence_penalty: 0.5}, 'presence_penalty', 'unsupported_value'],
      [{frequency_penalty: -1}, 'frequency_penalty', 'unsupported_value'],
      [{logit_bias: {'42': 5}}, 'logit_bias', 'unsupported_value'],
      [{best_of: 3}, 'best_of', 'unsupported_value'],
      [{echo: true}, 'echo', 'unsupported_value'],
    ]
    for (const [body, param, code] of cases) expect(unsupportedParameter({...chat, ...body}), param).toMatchObject({param, code})
  })

  it('accepts the values that ask for nothing, and parameters that change nothing returned', () => {
    const harmless = {
      logprobs: false,
      presence_penalty: 0,
      frequency_penalty: 0,
      logit_bias: {},
      best_of: 1,
      echo: false,
      response_format: {type: 'text'},
      tool_choice: 'none',
      parallel_tool_calls: true, // meaningless without tools
      user: 'u-1',
      seed: 7,
      metadata: {app: 'x'},
      store: false,
    }
    expect(unsupportedParameter({...chat, ...harmless})).toBeUndefined()
    expect(unsupportedParameter({...chat, tools: null, suffix: null})).toBeUndefined()
  })

  it('is the one rule of the provider\'s parser and the gateway\'s caller check: 400 with the param', () => {
    const body = {...chat, response_format: {type: 'json_object'}}
    const refusal = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        return error as HttpStatusError
      }
      throw new Error('not refused')
    }
    for (const error of [refusal(() => parseOpenAiRequest('chat', body, DEFAULT_STREAM_LIMITS)), refusal(() => parseCallerBody('chat', body))]) {
      expect(error).toBeInstanceOf(HttpStatusError)
      expect(error).toMatchObject({status: 400, code: 'unsupported_value', param: 'response_format'})
    }
  })
})
