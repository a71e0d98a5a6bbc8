import {describe, expect, it} from 'vitest'

import {ResponseGenerator} from '../../../src/gateway/generate.js'
import {HttpStatusError} from '../../../src/http/index.js'
import {ANSWER, contextOf, fakeNetwork, metricsOf, poolOf, providers} from './role-fakes.js'

const [p1, p2, p3] = providers.map((w) => w.address) as [string, string, string]

async function setup() {
  const net = fakeNetwork()
  const pool = await poolOf()
  const context = contextOf()
  const metrics = metricsOf()
  const generator = new ResponseGenerator({context, pool, metrics, calls: net.calls})
  const texts: string[] = []
  const run = (exclude: string[] = []) => generator.generate({id: 'r1', route: 'chat', base: {messages: [{role: 'user', content: 'Hi'}], stream: true, max_tokens: 8}, exclude: new Set(exclude), onText: (t) => texts.push(t)})
  return {net, pool, context, metrics, run, texts}
}

describe('generate and failover', () => {
  it('answers from the best live generator, with its receipt', async () => {
    const {run, texts, context} = await setup()
    const parts = await run()
    expect(parts).toHaveLength(1)
    expect(parts[0]).toMatchObject({provider: p1, tokens: ANSWER, text: 'abc'})
    expect(parts[0]!.end!.finishReason).toBe('stop')
    expect(texts.join('')).toBe('abc')
    expect(context.events.map((e) => e.type)).toEqual(['generator', 'generated'])
  })

  it('fails over before the first token, and takes an unreachable generator out of the live set', async () => {
    const {net, run, pool, metrics, context} = await setup()
    net.generateScripts.set(p1, 'down')
    const parts = await run()
    expect(parts.map((p) => p.provider)).toEqual([p2])
    expect(pool.get(p1)!.live).toBe(false)
    expect(metrics.failovers.get({kind: 'before_first_token'})).toBe(1)
    expect(context.events).toContainEqual(expect.objectContaining({type: 'failover', provider: p1, kind: 'before_first_token'}))
  })

  it('resumes a response that broke off mid-stream on another generator, with the tokens so far', async () => {
    const {net, run, texts} = await setup()
    net.generateScripts.set(p1, 'die_after_1')
    const parts = await run()
    expect(parts.map((p) => [p.provider, p.tokens, p.end === null])).toEqual([
      [p1, [10], true],
      [p2, [11, 12, 0], false],
    ])
    expect(JSON.parse(net.bodies[1]!.body).ogpu).toEqual({resumeTokens: [10]})
    expect(texts.join('')).toBe('abc')
  })

  it('skips the excluded generators (rejected in an earlier round)', async () => {
    const {run} = await setup()
    expect((await run([p1, p2])).map((p) => p.provider)).toEqual([p3])
  })

  it('sends a caller\'s fault back with the provider\'s own status, code and message, without failing over', async () => {
    const {net, run, net: {bodies}} = await setup()
    net.generateScripts.set(p1, 'caller_fault')
    const error = await run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error).toMatchObject({status: 400, code: 'invalid_request', message: 'temperature must be 0 or absent.'})
    expect(bodies).toHaveLength(1)
  })

  it('answers 502 bad_receipt when a finished response comes with a receipt that does not sign it', async () => {
    const {net, run, metrics} = await setup()
    net.generateScripts.set(p1, 'bad_receipt')
    await expect(run()).rejects.toMatchObject({status: 502, code: 'bad_receipt'})
    expect(metrics.failovers.get({kind: 'bad_receipt'})).toBe(1)
  })

  it('answers 503 no_generator when every generator failed', async () => {
    const {net, run} = await setup()
    for (const p of [p1, p2, p3]) net.generateScripts.set(p, 'down')
    await expect(run()).rejects.toMatchObject({status: 503, code: 'no_generator', message: expect.stringMatching(/no subscriber could generate it \(last error: .*ECONNREFUSED\)/)})
  })
})
