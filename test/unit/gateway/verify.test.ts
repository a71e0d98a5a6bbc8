import {describe, expect, it} from 'vitest'

import type {Part} from '../../../src/gateway/context.js'
import {ReleaseGate} from '../../../src/gateway/release.js'
import {ResponseVerifier} from '../../../src/gateway/verify.js'
import {verificationCharge} from '../../../src/protocol/stream.js'
import {ANSWER, contextOf, endOf, endpointOf, fakeNetwork, metricsOf, poolOf, PROMPT_TOKENS, providers} from './role-fakes.js'

const [w1] = providers
const [p1, p2, p3] = providers.map((w) => w.address) as [string, string, string]
const body = '{"messages":[{"role":"user","content":"Hi"}],"stream":true}'
const requestId = `0x${'05'.repeat(32)}`

async function setup(options: {down?: typeof providers} = {}) {
  const net = fakeNetwork()
  const pool = await poolOf(providers, options.down)
  const context = contextOf()
  const metrics = metricsOf()
  const audits: Array<[string, string, bigint]> = []
  const verifier = new ResponseVerifier({context, pool, metrics, calls: net.calls, auditCharge: (p, s, c) => void audits.push([p, s, c])})
  const parts: Part[] = [{provider: p1, endpoint: endpointOf(w1!), body, requestId, tokens: ANSWER, text: 'abc', end: await endOf(w1!, body, requestId, ANSWER, 0)}]
  return {net, context, metrics, verifier, parts, audits}
}

describe('verify and release', () => {
  it('releases once the other subscribers approve, and reports their charges', async () => {
    const {verifier, parts, audits, metrics} = await setup()
    const gate = new ReleaseGate('unanimous', 3, 0)
    const v = verifier.verify('r1', parts, gate)
    expect(await v.decided).toBe('release')
    const reports = await v.settled
    const charge = verificationCharge(PROMPT_TOKENS, ANSWER.length, 10n ** 17n)
    expect(reports.map((r) => [r.verifier, r.outcome, r.charge])).toEqual([
      [p2, 'approved', charge],
      [p3, 'approved', charge],
    ])
    expect(audits).toEqual([
      [p2, charge.toString(), charge],
      [p3, charge.toString(), charge],
    ])
    expect(metrics.verifications.get({outcome: 'approved'})).toBe(2)
  })

  it('fails a unanimous response at a rejection, naming the part and token', async () => {
    const {net, verifier, parts} = await setup()
    net.verifyScripts.set(p3, 'reject')
    const v = verifier.verify('r1', parts, new ReleaseGate('unanimous', 3, 0))
    expect(await v.decided).toBe('fail')
    const reports = await v.settled
    expect(reports.find((r) => r.verifier === p3)).toMatchObject({outcome: 'rejected', rejectedParts: [0], reason: 'part 0: token 1 token'})
  })

  it('counts a forged attestation and an unreachable verifier as abstentions', async () => {
    const {net, verifier, parts, context} = await setup()
    net.verifyScripts.set(p2, 'forge')
    net.verifyScripts.set(p3, 'down')
    const v = verifier.verify('r1', parts, new ReleaseGate('weighted', 3, 5000))
    expect(await v.decided).toBe('fail')
    const reports = await v.settled
    expect(reports.map((r) => r.outcome)).toEqual(['abstained', 'abstained'])
    expect(reports[0]!.reason).toMatch(/attestation is not signed by it/)
    expect(context.events.filter((e) => e.type === 'verdict')).toHaveLength(2)
  })

  it('abstains for the verifier seats no live subscriber can take', async () => {
    const {verifier, parts, context} = await setup({down: [providers[2]!]})
    const v = verifier.verify('r1', parts, new ReleaseGate('optimistic', 3, 0))
    expect(await v.decided).toBe('release')
    expect(await v.settled).toHaveLength(1)
    expect(context.events).toContainEqual({type: 'verdict', id: 'r1', verifier: '', outcome: 'abstained', reason: 'not enough live subscribers to verify'})
  })
})
