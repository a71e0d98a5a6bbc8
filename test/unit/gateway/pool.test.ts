import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {describe, expect, it} from 'vitest'

import {generatorScore, probeHealth, type ProbeResult, SubscriberPool, type SubscriberRecord} from '../../../src/gateway/pool.js'

const rec = (address: string, endpoint: string | null = `http://${address}`): SubscriberRecord => ({address, endpoint})

function pool(records: SubscriberRecord[], health: Record<string, ProbeResult>, clock = {t: 1_000_000}) {
  return {
    clock,
    pool: new SubscriberPool({list: async () => records, probe: async (endpoint) => health[endpoint] ?? {ok: false, latencyMs: 0, reason: 'down'}, now: () => clock.t}),
  }
}

describe('SubscriberPool', () => {
  it('is live only when the health check answers; a subscriber without an endpoint is not', async () => {
    const {pool: p} = pool([rec('a'), rec('b'), rec('c', null)], {'http://a': {ok: true, latencyMs: 5}, 'http://b': {ok: false, latencyMs: 1, reason: 'health answered 503'}})
    await p.refresh()
    expect(p.live().map((s) => s.address)).toEqual(['a'])
    expect(p.get('b')!.reason).toBe('health answered 503')
    expect(p.get('c')!.reason).toBe('no endpoint registered')
  })

  it('prefers the fastest, then spreads load, then avoids recent failures (which are forgotten)', async () => {
    const {pool: p, clock} = pool([rec('a'), rec('b')], {'http://a': {ok: true, latencyMs: 10}, 'http://b': {ok: true, latencyMs: 20}})
    await p.refresh()
    expect(p.chooseGenerator()!.address).toBe('a')
    const end1 = p.begin('a')
    const end2 = p.begin('a')
    expect(p.chooseGenerator()!.address).toBe('b') // 10 × 3 > 20
    end1()
    end1() // idempotent: one lease ends once
    expect(p.get('a')!.inflight).toBe(1)
    end2()
    p.failed('a', 'refused')
    expect(p.chooseGenerator()!.address).toBe('b') // 10 + 1000 > 20
    clock.t += 31_000
    expect(p.chooseGenerator()!.address).toBe('a') // the failure is forgotten
    expect(p.chooseGenerator(new Set(['a']))!.address).toBe('b')
  })

  it('takes a failed subscriber down until its next health check, and chooses verifiers apart from the generator', async () => {
    const health: Record<string, ProbeResult> = {'http://a': {ok: true, latencyMs: 1}, 'http://b': {ok: true, latencyMs: 2}, 'http://c': {ok: true, latencyMs: 3}}
    const {pool: p} = pool([rec('a'), rec('b'), rec('c')], health)
    await p.refresh()
    p.failed('a', 'connection refused', {down: true})
    expect(p.live().map((s) => s.address)).toEqual(['b', 'c'])
    expect(p.chooseVerifiers(2, new Set(['b'])).map((s) => s.address)).toEqual(['c'])
    await p.refresh()
    expect(p.live().map((s) => s.address)).toEqual(['a', 'b', 'c'])
    expect(p.chooseVerifiers(5, new Set(['a'])).map((s) => s.address)).toEqual(['b', 'c'])
    expect(p.chooseGenerator(new Set(['a', 'b', 'c']))).toBeUndefined()
  })

  it('uses preferred generators first while they are live and not excluded', async () => {
    const records = [rec('a'), rec('b'), rec('c')]
    const p = new SubscriberPool({list: async () => records, probe: async (e) => ({ok: e !== 'http://c', latencyMs: e === 'http://a' ? 1 : 9}), preferred: ['c', 'b']})
    await p.refresh()
    expect(p.chooseGenerator()!.address).toBe('b') // c is down
    expect(p.chooseGenerator(new Set(['b']))!.address).toBe('a')
  })

  it('scores unknown latency as 50 ms and a recent failure as a second', () => {
    expect(generatorScore({latencyMs: null, inflight: 0, failures: []}, 0)).toBe(50)
    expect(generatorScore({latencyMs: 10, inflight: 1, failures: [0, -40_000]}, 0)).toBe(1020)
  })

  it('probes a real /health endpoint, and reports a refused connection', async () => {
    let status = 200
    const server = createServer((req, res) => res.writeHead(req.url === '/health' ? status : 404).end('{}'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      expect((await probeHealth(url)).ok).toBe(true)
      status = 503
      expect(await probeHealth(url)).toMatchObject({ok: false, reason: 'health answered 503'})
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
    expect(await probeHealth(url)).toMatchObject({ok: false, reason: expect.stringMatching(/^unreachable \((ECONNREFUSED|UND_ERR_SOCKET)\)$/)})
  })
})
