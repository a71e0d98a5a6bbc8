/**
 * MarketIndexer: TaskMarket events, encoded from the ABI and served by an in-memory JSON-RPC node, fold into
 * IndexedTasks; the snapshot file round-trips the state; a restarted indexer resumes from the snapshot's cursor.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {getAddress, type JsonRpcProvider} from 'ethers'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {type TaskMarket, taskMarketAt} from '../../../src/chain/contracts/task-market.js'
import {MarketIndexer} from '../../../src/market/indexer.js'
import type {IndexedTask} from '../../../src/market/types.js'
import {emitted, FakeNode, word} from '../../helpers/fake-node.js'

const MARKET = getAddress(`0x${'4d'.repeat(20)}`)
const OTHER = getAddress(`0x${'0e'.repeat(20)}`)
const who = (name: string, byte: string) => ({name, address: getAddress(`0x${byte.repeat(20)}`)})
const alice = who('alice', 'a1') // client
const bob = who('bob', 'b2')
const carol = who('carol', 'c3')
const dave = who('dave', 'd4')
const erin = who('erin', 'e5')

const params = {
  specHash: word(0x5bec),
  specUri: 'ipfs://spec',
  dataRoot: word(0xda7a),
  modelHash: word(0x30de1),
  itemCount: 20,
  checkpoints: 2,
  councilSize: 2,
  maxBids: 3,
  maxPrice: 30n,
  councilFeePerVote: 1n,
  collateral: 10n,
  biddingWindow: 30,
  checkpointWindow: 60,
  commitWindow: 20,
  revealWindow: 20,
  softDeadline: 0,
  hardDeadline: 0,
}

let node: FakeNode
let provider: JsonRpcProvider
let market: TaskMarket
let dir: string

beforeEach(async () => {
  node = await FakeNode.start()
  provider = node.provider()
  market = taskMarketAt(MARKET, provider)
  dir = mkdtempSync(join(tmpdir(), 'ogpu-indexer-'))
})
afterEach(async () => {
  await node.close()
  rmSync(dir, {recursive: true, force: true})
})

/** The draw block the fake TaskAssigned events name (any number: the indexer only carries it). */
const DRAW_BLOCK = 77

/** The TaskMarket's events, typed by its ABI. */
const ev = {
  submitted: (id: number, escrow = 100n) => emitted(market, market.getEvent('TaskSubmitted'), [id, alice.address, params, 1_000, 970, escrow, 5n, 1000]),
  bid: (id: number, provider: string, bidIndex: number, price: bigint) => emitted(market, market.getEvent('BidPlaced'), [id, provider, bidIndex, price]),
  evicted: (id: number, provider: string, bidIndex: number, price: bigint) => emitted(market, market.getEvent('BidEvicted'), [id, provider, bidIndex, price]),
  assigned: (id: number, executor: string, price: bigint) => emitted(market, market.getEvent('TaskAssigned'), [id, executor, 1, price, DRAW_BLOCK]),
  seated: (id: number, k: number, council: string[], deadline: number) => emitted(market, market.getEvent('CouncilSeated'), [id, k, council, DRAW_BLOCK, deadline]),
  redrawn: (id: number, k: number) => emitted(market, market.getEvent('CouncilRedrawn'), [id, k, 1, 0, DRAW_BLOCK + 9]),
  committed: (id: number, k: number, root: string) => emitted(market, market.getEvent('CheckpointCommitted'), [id, k, root, 40 + k, 100 + k, 200 + k]),
  verdictCommitted: (id: number, k: number, voter: string) => emitted(market, market.getEvent('VerdictCommitted'), [id, k, voter, word(0xc0 + k)]),
  revealed: (id: number, k: number, voter: string, accept: boolean) => emitted(market, market.getEvent('VerdictRevealed'), [id, k, voter, accept]),
  slashed: (id: number, k: number, voter: string, amount: bigint) => emitted(market, market.getEvent('VoterSlashed'), [id, k, voter, amount]),
  cpFinalized: (id: number, k: number, accepted: boolean, votes: [number, number], paid: bigint, nextDeadline: number) =>
    emitted(market, market.getEvent('CheckpointFinalized'), [id, k, accepted, votes[0], votes[1], paid, 0n, 1n, nextDeadline]),
  finalized: (id: number, confirmed: boolean, paid: bigint, refund: bigint) => emitted(market, market.getEvent('TaskFinalized'), [id, confirmed, paid, refund]),
  failed: (id: number, k: number, reason: number, refund: bigint) => emitted(market, market.getEvent('TaskFailed'), [id, k, reason, 10n, 4n, 2n, refund]),
  expired: (id: number, refund: bigint) => emitted(market, market.getEvent('TaskExpired'), [id, 0, refund]),
  cancelled: (id: number, refund: bigint) => emitted(market, market.getEvent('TaskCancelled'), [id, refund]),
}

/** Mines task `id` from submission to assignment and seating (bob bids 20, carol 15: carol executes; dave and erin,
 *  drawn from the pool, sit). */
function submitAndAssign(id: number): {submittedBlock: number; assignedBlock: number} {
  const submittedBlock = node.mine(ev.submitted(id))
  node.mine(ev.bid(id, bob.address, 0, 20n))
  node.mine(ev.bid(id, carol.address, 1, 15n))
  const assignedBlock = node.mine(ev.assigned(id, carol.address, 15n))
  node.mine(ev.seated(id, 0, [dave.address, erin.address], 5_000))
  return {submittedBlock, assignedBlock}
}

const indexer = (options: {fromBlock?: number; snapshotPath?: string; pageSize?: number; confirmations?: number} = {}) =>
  new MarketIndexer({provider, market: MARKET, fromBlock: 1, ...options})

describe('MarketIndexer folds TaskMarket events into IndexedTasks', () => {
  it('a task from submission to finalization: bids with the best bid, assignment with its council, checkpoints, verdicts, payments', async () => {
    const {submittedBlock, assignedBlock} = submitAndAssign(1)
    const cp0Block = node.mine(ev.committed(1, 0, word(0x100)))
    node.mine(ev.verdictCommitted(1, 0, dave.address), ev.verdictCommitted(1, 0, erin.address))
    node.mine(ev.revealed(1, 0, dave.address, true), ev.revealed(1, 0, erin.address, true))
    node.mine(ev.cpFinalized(1, 0, true, [2, 0], 7n, 6_000))
    const cp1Block = node.mine(ev.committed(1, 1, word(0x101)))
    node.mine(ev.verdictCommitted(1, 1, dave.address), ev.verdictCommitted(1, 1, erin.address))
    node.mine(ev.revealed(1, 1, dave.address, true))
    node.mine(ev.slashed(1, 1, erin.address, 5n), ev.cpFinalized(1, 1, true, [1, 0], 6n, 0))
    const endedBlock = node.mine(ev.finalized(1, true, 2n, 50n))

    const market = indexer()
    expect(await market.sync()).toEqual({fromBlock: 1, toBlock: endedBlock, events: 18})
    const logs = node.minedLogs()
    const expected: IndexedTask = {
      id: 1,
      client: alice.address,
      status: 'finalized',
      ...params,
      biddingEnd: 1_000,
      assignableAt: 970,
      escrow: 100n,
      submittedBlock,
      submittedTx: logs[0]!.transactionHash,
      bids: [
        {index: 0, provider: bob.address, price: 20n, block: submittedBlock + 1, txHash: logs[1]!.transactionHash},
        {index: 1, provider: carol.address, price: 15n, block: submittedBlock + 2, txHash: logs[2]!.transactionHash},
      ],
      bestIndex: 1,
      bestPrice: 15n,
      executor: carol.address,
      price: 15n,
      council: [dave.address, erin.address],
      councilSeated: true,
      drawBlock: DRAW_BLOCK,
      deadline: 6_000,
      assignedBlock,
      checkpointList: [
        {
          k: 0,
          state: 'accepted',
          resultRoot: word(0x100),
          seedBlock: 40,
          commitEnd: 100,
          revealEnd: 200,
          committedBlock: cp0Block,
          verdicts: {
            [dave.address]: {voter: dave.address, commitment: word(0xc0), accept: true},
            [erin.address]: {voter: erin.address, commitment: word(0xc0), accept: true},
          },
          approvals: 2,
          rejections: 0,
          executorPaid: 7n,
          latePenalty: 0n,
          feePerVoter: 1n,
        },
        {
          k: 1,
          state: 'accepted',
          resultRoot: word(0x101),
          seedBlock: 41,
          commitEnd: 101,
          revealEnd: 201,
          committedBlock: cp1Block,
          verdicts: {
            [dave.address]: {voter: dave.address, commitment: word(0xc1), accept: true},
            [erin.address]: {voter: erin.address, commitment: word(0xc1), slashed: 5n},
          },
          approvals: 1,
          rejections: 0,
          executorPaid: 6n,
          latePenalty: 0n,
          feePerVoter: 1n,
        },
      ],
      executorPaid: 7n + 6n + 2n,
      clientRefund: 50n,
      confirmed: true,
      endedBlock,
    }
    expect(market.task(1)).toEqual(expected)
    expect(market.tasks()).toEqual([expected])
    expect(market.state.cursor).toBe(endedBlock)
  })

  it('an evicted bid leaves the task; the lower bid that evicted it takes its index; the best bid follows', async () => {
    node.mine(ev.submitted(1))
    node.mine(ev.bid(1, bob.address, 0, 20n))
    node.mine(ev.bid(1, carol.address, 1, 15n))
    node.mine(ev.bid(1, dave.address, 2, 25n)) // the cap (maxBids 3)
    node.mine(ev.evicted(1, dave.address, 2, 25n), ev.bid(1, erin.address, 2, 18n))
    const market = indexer()
    await market.sync()
    const task = market.task(1)!
    expect(task.assignableAt).toBe(970)
    expect(task.bids.map((b) => [b.index, b.provider, b.price])).toEqual([
      [0, bob.address, 20n],
      [1, carol.address, 15n],
      [2, erin.address, 18n],
    ])
    expect([task.bestIndex, task.bestPrice]).toEqual([1, 15n])
    // evicting the best (all bids equal to it) recomputes it from the bids left until the next BidPlaced sets it
    node.mine(ev.evicted(1, carol.address, 1, 15n))
    await market.sync()
    expect(market.task(1)!.bids.map((b) => b.provider)).toEqual([bob.address, erin.address])
    expect([market.task(1)!.bestIndex, market.task(1)!.bestPrice]).toEqual([2, 18n])
  })

  it('an undecided round re-draws the council: the seats and verdicts go, the root stays, the new council is seated', async () => {
    submitAndAssign(1)
    node.mine(ev.committed(1, 0, word(0x100)))
    node.mine(ev.verdictCommitted(1, 0, dave.address))
    node.mine(ev.redrawn(1, 0))
    const market = indexer()
    await market.sync()
    let task = market.task(1)!
    expect(task).toMatchObject({status: 'assigned', council: [], councilSeated: false, drawBlock: DRAW_BLOCK + 9, deadline: 5_000})
    expect(task.checkpointList[0]).toMatchObject({state: 'voting', resultRoot: word(0x100), verdicts: {}})
    node.mine(ev.seated(1, 0, [bob.address, erin.address], 0), ev.committed(1, 0, word(0x100)))
    await market.sync()
    task = market.task(1)!
    expect(task).toMatchObject({council: [bob.address, erin.address], councilSeated: true, deadline: 5_000})
  })

  it('a checkpoint still voting when the task is finalized ends cancelled', async () => {
    submitAndAssign(1)
    node.mine(ev.committed(1, 0, word(0x100)))
    node.mine(ev.finalized(1, false, 0n, 90n))
    const market = indexer()
    await market.sync()
    expect(market.task(1)).toMatchObject({status: 'finalized', confirmed: false, clientRefund: 90n, executorPaid: 0n})
    expect(market.task(1)!.checkpointList[0]!.state).toBe('cancelled')
  })

  it('failure: a rejected checkpoint and a timeout fail the task with their slashes and refund; expiry and cancellation end it', async () => {
    submitAndAssign(1)
    node.mine(ev.committed(1, 0, word(0x100)))
    node.mine(ev.revealed(1, 0, dave.address, false))
    const failedBlock = node.mine(ev.failed(1, 0, 0, 80n))
    submitAndAssign(2)
    node.mine(ev.failed(2, 1, 1, 70n))
    node.mine(ev.submitted(3))
    const expiredBlock = node.mine(ev.expired(3, 100n))
    node.mine(ev.submitted(4))
    node.mine(ev.cancelled(4, 100n))

    const market = indexer()
    await market.sync()
    expect(market.task(1)).toMatchObject({
      status: 'failed',
      failure: {k: 0, reason: 'rejected', executorSlashed: 10n, rewardPerRejecter: 4n, slashToClient: 2n},
      clientRefund: 80n,
      endedBlock: failedBlock,
    })
    expect(market.task(1)!.checkpointList[0]!.verdicts[dave.address]).toEqual({voter: dave.address, accept: false})
    expect(market.task(2)).toMatchObject({status: 'failed', failure: {k: 1, reason: 'timeout'}, clientRefund: 70n})
    expect(market.task(3)).toMatchObject({status: 'expired', clientRefund: 100n, endedBlock: expiredBlock})
    expect(market.task(4)).toMatchObject({status: 'cancelled', clientRefund: 100n})
  })

  it("ignores other contracts' logs and events of tasks submitted before fromBlock, and tells listeners each applied event", async () => {
    node.mine(ev.submitted(1))
    const from = node.mine(ev.bid(1, bob.address, 0, 20n))
    node.mine({...ev.submitted(9), address: OTHER})
    node.mine(ev.submitted(2))
    const market = indexer({fromBlock: from})
    const seen: Array<[string, number]> = []
    market.onEvent((event, log) => seen.push([event.name, log.blockNumber]))
    await market.sync()
    expect([...market.state.tasks.keys()]).toEqual([2])
    expect(seen).toEqual([
      ['BidPlaced', from],
      ['TaskSubmitted', from + 2],
    ])
  })

  it('stays `confirmations` blocks behind the head, and pages of any size give the same state', async () => {
    submitAndAssign(1)
    node.mine(ev.committed(1, 0, word(0x100)))
    const whole = indexer()
    await whole.sync()
    const paged = indexer({pageSize: 1})
    await paged.sync()
    expect(paged.state).toEqual(whole.state)
    const behind = indexer({confirmations: 1})
    expect(await behind.sync()).toMatchObject({toBlock: node.head - 1})
    expect(behind.task(1)!.checkpointList).toEqual([])
  })
})

describe('MarketIndexer snapshots', () => {
  it('round-trips the state through the snapshot file, bigints included', async () => {
    submitAndAssign(1)
    node.mine(ev.committed(1, 0, word(0x100)))
    const snapshotPath = join(dir, 'market', 'index.json')
    const first = indexer({snapshotPath})
    await first.sync()
    const restored = indexer({snapshotPath})
    expect(restored.state).toEqual(first.state)
    expect(typeof restored.task(1)!.escrow).toBe('bigint')
    expect(JSON.parse(readFileSync(snapshotPath, 'utf8'))).toMatchObject({market: MARKET, cursor: node.head})
  })

  it('resumes from the snapshot cursor: only the new blocks are read, and the state is what a full read gives', async () => {
    submitAndAssign(1)
    const snapshotPath = join(dir, 'index.json')
    await indexer({snapshotPath}).sync()
    const cursor = node.head
    node.mine(ev.committed(1, 0, word(0x100)))
    node.mine(ev.submitted(2))
    const resumed = indexer({snapshotPath})
    const asked = node.getLogsRanges.length
    expect(await resumed.sync()).toEqual({fromBlock: cursor + 1, toBlock: node.head, events: 2})
    expect(node.getLogsRanges.slice(asked)).toEqual([[cursor + 1, node.head]])
    const full = indexer()
    await full.sync()
    expect(resumed.state).toEqual(full.state)
    // Nothing new: no log is read.
    const again = node.getLogsRanges.length
    expect(await indexer({snapshotPath}).sync()).toEqual({fromBlock: node.head + 1, toBlock: node.head, events: 0})
    expect(node.getLogsRanges.length).toBe(again)
  })

  it("rebuilds from the chain when the snapshot is another market's or corrupt", async () => {
    submitAndAssign(1)
    const snapshotPath = join(dir, 'index.json')
    await new MarketIndexer({provider, market: OTHER, fromBlock: 1, snapshotPath}).sync()
    expect(indexer({snapshotPath}).state).toEqual({cursor: 0, tasks: new Map()})
    writeFileSync(snapshotPath, '{"market": "0x4d4d')
    const rebuilt = indexer({snapshotPath, fromBlock: 3})
    expect(rebuilt.state).toEqual({cursor: 2, tasks: new Map()})
  })
})
