import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {Part} from '../../../src/gateway/context.js'
import {Settlement} from '../../../src/gateway/settlement.js'
import type {VerifierReport} from '../../../src/gateway/verify.js'
import {VoucherBook} from '../../../src/gateway/voucher-book.js'
import {generationCharge, recoverVoucher} from '../../../src/protocol/stream.js'
import {ANSWER, client, contextOf, domain, endOf, endpointOf, fakeNetwork, metricsOf, poolOf, providers} from './role-fakes.js'

const [w1, w2, w3] = providers as [(typeof providers)[0], (typeof providers)[0], (typeof providers)[0]]
const body = '{"messages":[{"role":"user","content":"Hi"}],"stream":true}'
const requestId = `0x${'06'.repeat(32)}`

describe('settlement and vouchers', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ogpu-settle-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  async function setup() {
    const net = fakeNetwork()
    const pool = await poolOf()
    const context = contextOf()
    const metrics = metricsOf()
    const book = VoucherBook.open({dir, chainId: 31337, market: String(domain.verifyingContract), streamId: 1n, client: client.address})
    const disputed: Part[] = []
    const settlement = new Settlement({context, book, pool, metrics, calls: net.calls, dispute: async (part) => void disputed.push(part)})
    const end = await endOf(w1, body, requestId, ANSWER, 0)
    const parts: Part[] = [{provider: w1.address, endpoint: endpointOf(w1), body, requestId, tokens: ANSWER, text: 'abc', end}]
    const report = (w: typeof w1, charge: bigint, rejected = false): VerifierReport => ({verifier: w.address, outcome: rejected ? 'rejected' : 'approved', charge, rejectedParts: rejected ? [0] : []})
    return {net, context, metrics, book, settlement, parts, disputed, report}
  }

  it('pays the verifiers and the final generator with signed cumulative vouchers, once per provider', async () => {
    const {net, book, settlement, parts, report, disputed} = await setup()
    await settlement.settle('r1', parts, [report(w2, 7n), report(w3, 9n)], {released: true})
    const generated = generationCharge(ANSWER.length, 10n ** 18n)
    expect(net.vouchers).toEqual([
      {endpoint: endpointOf(w2), cumulativeAmount: '7'},
      {endpoint: endpointOf(w3), cumulativeAmount: '9'},
      {endpoint: endpointOf(w1), cumulativeAmount: generated.toString()},
    ])
    const entry = book.get(w1.address)
    expect(entry).toMatchObject({cumulative: generated, delivered: generated})
    expect(recoverVoucher(domain, {streamId: 1n, provider: w1.address, cumulativeAmount: generated}, entry.signature!)).toBe(client.address)
    expect(disputed).toEqual([])
    book.close()
  })

  it('disputes a rejected final part instead of paying its generator; the verifiers are paid', async () => {
    const {net, settlement, parts, report, disputed, context, metrics, book} = await setup()
    await settlement.settle('r1', parts, [report(w2, 7n), report(w3, 9n, true)], {released: true})
    expect(disputed.map((p) => p.provider)).toEqual([w1.address])
    expect(net.vouchers.map((v) => v.endpoint)).toEqual([endpointOf(w2), endpointOf(w3)])
    expect(context.events).toContainEqual({type: 'rejected', id: 'r1', provider: w1.address, released: true})
    expect(metrics.responses.get({method: 'unanimous', outcome: 'rejected_after_release'})).toBe(1)
    book.close()
  })

  it('pays its own computation of a charge, and reports a stated one that differs', async () => {
    const {settlement, context, metrics, book} = await setup()
    settlement.auditCharge(w2.address, '5', 5n)
    settlement.auditCharge(w2.address, '6', 5n)
    expect(context.events).toEqual([{type: 'charge_mismatch', provider: w2.address, stated: '6', computed: '5'}])
    expect(metrics.chargeMismatches.get()).toBe(1)
    book.close()
  })

  it('keeps an undelivered voucher in the book: the next one carries the whole amount', async () => {
    const {net, settlement, parts, report, book, context} = await setup()
    net.refuseVouchers.add(endpointOf(w2))
    await settlement.settle('r1', parts, [report(w2, 7n)], {released: true})
    expect(book.get(w2.address)).toMatchObject({cumulative: 7n, delivered: 0n})
    expect(context.events).toContainEqual(expect.objectContaining({type: 'voucher', provider: w2.address, delivered: false}))
    net.refuseVouchers.clear()
    await settlement.settle('r2', parts, [report(w2, 3n)], {released: true})
    expect(net.vouchers.filter((v) => v.endpoint === endpointOf(w2))).toEqual([{endpoint: endpointOf(w2), cumulativeAmount: '10'}])
    book.close()
  })
})
