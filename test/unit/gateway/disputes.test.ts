import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {Part} from '../../../src/gateway/context.js'
import {Disputes} from '../../../src/gateway/disputes.js'
import {receiptDigest, toReceipt} from '../../../src/protocol/stream.js'
import {ANSWER, contextOf, domain, endOf, endpointOf, fakeNetwork, metricsOf, poolOf, providers, streamOf} from './role-fakes.js'

const [w1, w2, w3] = providers as [(typeof providers)[0], (typeof providers)[0], (typeof providers)[0]]
const body = '{"messages":[{"role":"user","content":"Hi"}],"stream":true}'
const requestId = `0x${'08'.repeat(32)}`

describe('disputes', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ogpu-disputes-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  async function setup(options: {enabled?: boolean; open?: () => Promise<{disputeId: bigint; council: string[]}>; councilSize?: number; council?: string[]} = {}) {
    const net = fakeNetwork()
    // The gateway's pool holds the stream's subscribers w1 and w2; w3 is a staked provider of the pool drawn from, not a subscriber.
    const pool = await poolOf([w1, w2])
    const context = contextOf(streamOf({councilSize: options.councilSize ?? 1}))
    const metrics = metricsOf()
    const opened: Array<{provider: string; evidenceUri: string}> = []
    const registryReads: string[] = []
    const disputes = new Disputes({
      context,
      pool,
      metrics,
      calls: net.calls,
      chain: {
        openDispute: async (input) => {
          opened.push({provider: input.provider, evidenceUri: input.evidenceUri})
          return options.open ? options.open() : {disputeId: 4n, council: options.council ?? [w1.address]}
        },
        endpointOf: async (address) => {
          registryReads.push(address)
          return providers.some((w) => w.address === address) ? endpointOf(providers.find((w) => w.address === address)!) : undefined
        },
      },
      evidenceDir: join(dir, 'evidence'),
      publicUrl: () => 'http://gateway.test/',
      enabled: options.enabled,
    })
    const end = await endOf(w2, body, requestId, ANSWER, 0)
    const part: Part = {provider: w2.address, endpoint: endpointOf(w2), body, requestId, tokens: ANSWER, text: 'abc', end}
    const digest = receiptDigest(domain, toReceipt(end.receipt))
    return {net, context, metrics, disputes, part, digest, opened, registryReads}
  }

  it('keeps the evidence, opens the dispute, and pushes the evidence to the council it seated', async () => {
    const {net, disputes, part, digest, opened, context, metrics, registryReads} = await setup({councilSize: 1})
    await disputes.submit(part)
    expect(disputes.evidence(digest)).toEqual({receipt: part.end!.receipt, signature: part.end!.signature, provider: w2.address, body, tokens: ANSWER})
    expect(disputes.evidence('not-a-digest')).toBeUndefined()
    expect(net.evidence.map((e) => e.endpoint)).toEqual([endpointOf(w1)])
    expect(opened).toEqual([{provider: w2.address, evidenceUri: `http://gateway.test/v1/ogpu/evidence/${digest}`}])
    expect(context.events).toEqual([{type: 'dispute', provider: w2.address, digest, disputeId: '4'}])
    expect(metrics.disputes.get({outcome: 'opened'})).toBe(1)
    expect(net.evidence).not.toContainEqual({endpoint: endpointOf(w3)})
    expect(registryReads).toEqual([]) // a subscriber's endpoint comes from the pool
  })

  it('reaches a seat drawn from the staked pool outside the subscribers at its registered endpoint', async () => {
    const stranger = '0x000000000000000000000000000000000000bEEF'
    const {net, disputes, part, registryReads} = await setup({councilSize: 3, council: [w3.address, w1.address, stranger]})
    await disputes.submit(part)
    expect(registryReads).toEqual([w3.address, stranger])
    expect(net.evidence.map((e) => e.endpoint).sort()).toEqual([endpointOf(w1), endpointOf(w3)].sort()) // the stranger has no endpoint: nothing sent
  })

  it('reports a dispute that cannot be opened, and opens none when disabled', async () => {
    const failing = await setup({open: async () => Promise.reject(new Error('DisputeBondTooLow'))})
    await failing.disputes.submit(failing.part)
    expect(failing.context.events).toEqual([{type: 'dispute', provider: w2.address, digest: failing.digest, error: 'DisputeBondTooLow'}])
    expect(failing.metrics.disputes.get({outcome: 'failed'})).toBe(1)
    const off = await setup({enabled: false})
    await off.disputes.submit(off.part)
    expect(off.opened).toEqual([])
    expect(off.net.evidence).toEqual([])
  })
})
