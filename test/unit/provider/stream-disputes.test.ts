/**
 * The dispute duty's seating role against a fake market: a dispute's council is drawn by seatDispute from the block
 * after its draw block, which any daemon holding the stream's model sends; the seat event decides whether this
 * provider sits; a seat without evidence waits for it through the first half of the commit window.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {StreamMarket} from '../../../src/chain/contracts/stream-market.js'
import type {RevertName} from '../../../src/chain/contracts/generated/reverts.js'
import {ContractRevertError} from '../../../src/chain/errors.js'
import {createLogger} from '../../../src/provider/log.js'
import type {StreamBackend} from '../../../src/provider/stream/backend.js'
import {openStreamBook, type StreamBookStore} from '../../../src/provider/stream/book.js'
import {DisputeDuty} from '../../../src/provider/stream/disputes.js'
import type {StreamEvent} from '../../../src/provider/stream/market.js'

const ME = '0x00000000000000000000000000000000000000A1'
const OTHER = '0x00000000000000000000000000000000000000B2'
const ACCUSED = '0x00000000000000000000000000000000000000C3'
const SHA = 'ab'.repeat(32)
const receipt = {streamId: 7n, requestId: `0x${'01'.repeat(32)}`, responseHash: `0x${'02'.repeat(32)}`, promptTokens: 3n, completionTokens: 4n}
const event = (name: string, args: Record<string, unknown>): StreamEvent => ({name, args, blockNumber: 0, log: {} as StreamEvent['log']})
const opened = (id: bigint, drawBlock: number) => event('DisputeOpened', {disputeId: id, streamId: 7n, provider: ACCUSED, receipt, evidenceUri: 'ogpu-evidence:0x', drawBlock: BigInt(drawBlock)})

describe('DisputeDuty: seating disputes drawn from the pool', () => {
  let dir: string
  let book: StreamBookStore
  let now: number
  let modelHash: string
  let seatReverts: RevertName | undefined
  const seated: bigint[] = []
  const jobs: Array<Promise<void>> = []
  const logs: string[] = []

  const duty = () =>
    new DisputeDuty({
      market: {
        getStream: async () => ({modelHash: `0x${modelHash}`, commitWindow: 600n}),
        seatDispute: async (id: bigint) => {
          if (seatReverts) throw new ContractRevertError(`The contract refused with ${seatReverts}.`, seatReverts, [id, 1n])
          seated.push(id)
          return {hash: '0xabc'}
        },
        getDispute: async () => ({state: 1n, council: [ME, OTHER], commits: 0n, reveals: 0n}),
        verdictOf: async () => ({committed: false, revealed: false}),
      } as unknown as StreamMarket,
      domain: {name: 'ogpu', version: '1', chainId: 31337, verifyingContract: '0x0000000000000000000000000000000000000001'},
      book,
      address: ME,
      evidenceDir: join(dir, 'evidence'),
      backends: () => [{sha256: SHA} as StreamBackend],
      log: createLogger({write: (line) => logs.push(line)}),
      sendTx: async (_what, send) => ({hash: ((await send()) as unknown as {hash: string}).hash}) as never,
      now: () => now,
      spawn: (_key, job) => {
        const p = job()
        jobs.push(p)
        return p
      },
      due: () => true,
    })
  const settle = async () => {
    await Promise.all(jobs.splice(0))
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ogpu-dispute-duty-'))
    book = openStreamBook(dir)
    now = 1_000
    modelHash = SHA
    seatReverts = undefined
    seated.length = 0
    logs.length = 0
  })
  afterEach(() => {
    book.close()
    rmSync(dir, {recursive: true, force: true})
  })

  it('seats a dispute on a held model once its draw block is mined (the seat lands in a later one), and follows a re-anchored draw', async () => {
    const d = duty()
    d.onEvent(opened(1n, 100))
    d.tick(99)
    await settle()
    expect(seated).toEqual([])
    d.onEvent(event('DisputeDrawReanchored', {disputeId: 1n, fromBlock: 100n, toBlock: 400n}))
    d.tick(399)
    await settle()
    expect(seated).toEqual([])
    d.tick(400)
    await settle()
    expect(seated).toEqual([1n])
  })

  it('leaves a dispute on a model it does not hold to others, and stops once another account seated it', async () => {
    modelHash = 'cd'.repeat(32)
    const d = duty()
    d.onEvent(opened(2n, 10))
    d.tick(11)
    await settle()
    d.tick(12)
    await settle()
    expect(seated).toEqual([])
    modelHash = SHA
    seatReverts = 'StreamMarketNotSeating'
    d.onEvent(opened(3n, 10))
    d.tick(11)
    await settle()
    seatReverts = undefined
    d.tick(12)
    await settle()
    expect(seated).toEqual([]) // seated by someone else: not sent again
  })

  it('takes a seat only when the seat event names it, and reports it without its verdict', async () => {
    const d = duty()
    d.onEvent(opened(4n, 10))
    d.onEvent(opened(5n, 10))
    d.onEvent(event('DisputeCouncilSeated', {disputeId: 4n, council: [OTHER, ME], drawBlock: 10n, commitEnd: 1_600n, revealEnd: 2_200n}))
    d.onEvent(event('DisputeCouncilSeated', {disputeId: 5n, council: [OTHER], drawBlock: 10n, commitEnd: 1_600n, revealEnd: 2_200n}))
    expect(d.status()).toEqual([{disputeId: '4', streamId: '7', accused: ACCUSED, verdict: null, reason: null, committed: false, revealed: false}])
    expect(logs.some((l) => /Dispute 4 on stream 7: we hold a seat/.test(l))).toBe(true)
    d.tick(11)
    await settle()
    expect(seated).toEqual([]) // both are seated: nothing left to seat
    d.onEvent(event('DisputeResolved', {disputeId: 4n}))
    expect(d.status()).toEqual([])
  })

  it('waits for the evidence through the first half of the commit window before it judges without', async () => {
    const d = duty()
    d.onEvent(opened(6n, 10))
    d.onEvent(event('DisputeCouncilSeated', {disputeId: 6n, council: [ME], drawBlock: 10n, commitEnd: 1_600n, revealEnd: 2_200n}))
    now = 1_200 // 400 s before the commit end of a 600 s window: still waiting
    d.tick(11)
    await settle()
    expect(book.state.disputes['6']).toBeUndefined()
    now = 1_301 // past the half: judged without evidence, which proves nothing (valid)
    d.tick(12)
    await settle().catch(() => {})
    expect(book.state.disputes['6']).toMatchObject({accept: true, reason: 'no evidence'})
  })
})
