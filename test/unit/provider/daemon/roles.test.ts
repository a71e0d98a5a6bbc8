import {afterEach, describe, expect, it} from 'vitest'

import type {IndexedTask} from '../../../../src/market/types.js'
import {Bidder} from '../../../../src/provider/daemon/bidder.js'
import {CouncilDuty} from '../../../../src/provider/daemon/council-duty.js'
import {Executor} from '../../../../src/provider/daemon/executor.js'
import {buildStatus} from '../../../../src/provider/daemon/status.js'
import type {LoadedModel} from '../../../../src/provider/daemon/types.js'
import type {TaskMaterials} from '../../../../src/provider/task-materials.js'
import {addr, assignedTask, eagerJobs, instantSender, makeTask, ME, NOW, recordingLogger, response, revert, taskView, tempStore} from './fakes.js'

const stores: Array<ReturnType<typeof tempStore>> = []
afterEach(() => {
  for (const s of stores.splice(0)) s.dispose()
})
const store = () => {
  const s = tempStore()
  stores.push(s)
  return s
}
const common = (records: ReturnType<typeof tempStore>['records']) => ({address: ME, records, log: recordingLogger(), clock: {now: () => NOW}, sendTx: instantSender()})
const noModels = {get: () => undefined}
/** A model entry as far as the roles read it before running anything (they never reach the engine here). */
const someModel = {get: () => ({name: 'm', sha256: 'ab'.repeat(32)}) as unknown as LoadedModel}

describe('the bidder', () => {
  function bidder(tasks: IndexedTask[], overrides: Partial<ConstructorParameters<typeof Bidder>[0]> = {}) {
    const s = store()
    const bids: string[] = []
    const ports = {
      ...common(s.records),
      tasks: taskView(tasks),
      models: someModel,
      materials: {get: async () => ({spec: {}, data: {items: []}}) as unknown as TaskMaterials},
      freeStake: async () => 0n,
      strategy: {name: 'fake', decide: async () => ({bid: false as const, reason: 'never'})},
      bid: async (id: number, price: bigint) => {
        bids.push(`${id}@${price}`)
        return response()
      },
      bidding: () => true,
      vramGiB: () => 0,
      ...overrides,
    }
    return {bidder: new Bidder(ports, {maxConcurrentTasks: 1}), records: s.records, bids, log: ports.log}
  }

  // At the cap a lower bid evicts the highest one, so the cap alone is no reason to skip (it used to be): only a cap
  // of 0 oGPU bids is; task 7 (capped, bids above 0) gets as far as the stake check.
  it('journals why it does not bid: its own task, a model not held, bidding closed, the cap, capacity, stake', async () => {
    const busy = {...makeTask(99, {status: 'assigned', bids: [1, 2]}), executor: ME}
    const cases: Array<[IndexedTask, string, Partial<ConstructorParameters<typeof Bidder>[0]>?]> = [
      [{...makeTask(1), client: ME}, 'it is our own task'],
      [makeTask(2), 'model abababababab is not held', {models: noModels}],
      [makeTask(3, {biddingEnd: NOW - 1}), 'bidding is closed'],
      [makeTask(4, {bids: [0, 0, 0, 0]}), 'the bid cap is reached and every bid is 0 oGPU: none can be evicted'],
      [makeTask(7, {bids: [1, 2, 3, 4]}), 'free stake 0 oGPU is below the collateral 10'],
      [makeTask(5), 'at capacity (1 of 1 tasks)', {tasks: taskView([busy])}],
      [makeTask(6), 'free stake 0 oGPU is below the collateral 10'],
    ]
    for (const [task, reason, overrides] of cases) {
      const b = bidder([task], overrides)
      await b.bidder.evaluate(task)
      expect(b.records.record(task.id)?.skipped?.reason).toBe(reason)
      expect(b.bids).toEqual([])
    }
  })

  it('decides nothing once stopping, and turns a failing evaluation into a skip with its reason', async () => {
    const stopping = bidder([makeTask(7)], {bidding: () => false})
    await stopping.bidder.evaluate(makeTask(7))
    expect(stopping.records.record(7)).toBeUndefined()
    const broken = bidder([makeTask(8)], {materials: {get: async () => Promise.reject(new Error('spec unreadable'))}})
    await broken.bidder.evaluate(makeTask(8))
    expect(broken.records.record(8)?.skipped?.reason).toBe('spec unreadable')
  })
})

describe('the executor', () => {
  function executor(tasks: IndexedTask[], commit: () => Promise<ReturnType<typeof response>>, serving?: () => boolean) {
    const s = store()
    const jobs = eagerJobs()
    const warnings: string[] = []
    const ports = {
      ...common(s.records),
      tasks: taskView(tasks),
      models: noModels,
      materials: {get: async () => ({data: {items: [{prompt: 'a'}, {prompt: 'b'}], tree: {proof: (i: number) => [`item-proof-${i}`]}}}) as unknown as TaskMaterials},
      jobs,
      commitCheckpoint: commit,
      draining: () => false,
      signal: new AbortController().signal,
      warnOnce: (_key: string, message: string) => void warnings.push(message),
      servingItems: serving,
    }
    return {executor: new Executor(ports), records: s.records, jobs, warnings, log: ports.log}
  }
  const result = (index: number) => ({index, tokenIds: [1, 2], completion: 'x', finishReason: 'stop'}) as never

  it('commits a recorded checkpoint root once, journaling sent and done', async () => {
    const task = {...assignedTask(1, 'executor'), itemCount: 2, checkpoints: 1}
    const roots: string[] = []
    const e = executor([task], async () => {
      roots.push('sent')
      return response()
    })
    e.records.append({t: 'checkpoint', taskId: 1, k: 0, root: '0xroot'})
    e.executor.maybeCommit(task, NOW)
    await e.jobs.settled()
    expect(roots).toEqual(['sent'])
    expect(e.records.record(1)?.checkpoints?.[0]?.status).toBe('done')
    // On chain now: no second commit, the record says done.
    e.executor.maybeCommit({...task, checkpointList: [{k: 0, state: 'voting', resultRoot: '0xroot', seedBlock: 1, commitEnd: NOW + 9, revealEnd: NOW + 19, committedBlock: 1, verdicts: {}}]}, NOW)
    await e.jobs.settled()
    expect(roots).toEqual(['sent'])
  })

  it('ignores a commit the chain moved past, journals any other refusal, and warns on a missed deadline', async () => {
    const task = {...assignedTask(2, 'executor'), itemCount: 2, checkpoints: 1}
    const moved = executor([task], async () => Promise.reject(revert('TaskMarketRoundInProgress')))
    moved.records.append({t: 'checkpoint', taskId: 2, k: 0, root: '0xr'})
    moved.executor.maybeCommit(task, NOW)
    await moved.jobs.settled()
    expect(moved.records.record(2)?.checkpoints?.[0]?.status).toBe('intent')
    const refused = executor([task], async () => Promise.reject(revert('TaskMarketNotExecutor')))
    refused.records.append({t: 'checkpoint', taskId: 2, k: 0, root: '0xr'})
    refused.executor.maybeCommit(task, NOW)
    await refused.jobs.settled()
    expect(refused.records.record(2)?.checkpoints?.[0]?.status).toBe('failed')
    const late = executor([task], async () => response())
    late.records.append({t: 'checkpoint', taskId: 2, k: 0, root: '0xr'})
    late.executor.maybeCommit({...task, deadline: NOW - 5}, NOW)
    expect(late.warnings).toEqual(['Task 2: missed the deadline of checkpoint 0'])
  })

  it('serves kept results with both proofs to the client and the council only, and says when it is not serving', async () => {
    const task = {...assignedTask(3, 'executor'), itemCount: 2, checkpoints: 1}
    let serving = true
    const e = executor([task], async () => response(), () => serving)
    e.records.append({t: 'result', taskId: 3, result: result(0)})
    e.records.append({t: 'result', taskId: 3, result: result(1)})
    e.records.append({t: 'checkpoint', taskId: 3, k: 0, root: '0xr'})
    const source = e.executor.itemSource()
    const items = (await source.items(3, 0, 5))!
    expect(items.map((i) => [i.index, i.k, i.itemProof])).toEqual([
      [0, 0, ['item-proof-0']],
      [1, 0, ['item-proof-1']],
    ])
    expect(items[0]!.resultProof.length).toBe(1)
    expect(await source.items(4, 0, 1)).toBeUndefined()
    expect(await source.mayRead(3, task.client)).toBe(true)
    expect(await source.mayRead(3, task.council[0]!)).toBe(true)
    expect(await source.mayRead(3, addr(77))).toBe(false)
    expect(source.serving?.()).toBe(true)
    serving = false
    expect(source.serving?.()).toBe(false)
  })
})

describe('council duty', () => {
  function council(overrides: Partial<ConstructorParameters<typeof CouncilDuty>[0]> = {}) {
    const s = store()
    const jobs = eagerJobs()
    const sent: string[] = []
    const ports = {
      ...common(s.records),
      models: noModels,
      materials: {spec: async () => ({}) as never},
      jobs,
      seedOf: async () => '0x01',
      endpointOf: async () => 'http://executor',
      fetchItems: async () => new Map(),
      market: {
        verdictCommitment: async (_t: number, _k: number, accept: boolean) => `0xcommit-${accept}`,
        commitVerdict: async (_t: number, _k: number, c: string) => {
          sent.push(`commit ${c}`)
          return response()
        },
        revealVerdict: async (_t: number, _k: number, accept: boolean) => {
          sent.push(`reveal ${accept}`)
          return response()
        },
      },
      stopping: () => false,
      ...overrides,
    }
    return {duty: new CouncilDuty(ports), records: s.records, jobs, sent}
  }

  it('rejects a checkpoint it cannot check, journaling the verdict before committing it', async () => {
    const c = council()
    const task = assignedTask(1, 'council', {})
    c.duty.consider(task, 0, NOW)
    await c.jobs.settled()
    const vote = c.records.record(1)?.votes?.[0]
    expect(vote).toMatchObject({accept: false, commitment: '0xcommit-false', status: 'done'})
    expect(vote?.problems[0]).toMatch(/^could not check: the model ababababab.. is not loaded$/)
    expect(c.sent).toEqual(['commit 0xcommit-false'])
  })

  it('decides nothing while stopping (it checks again after the restart)', async () => {
    const c = council({stopping: () => true})
    c.duty.consider(assignedTask(2, 'council', {}), 0, NOW)
    await c.jobs.settled()
    expect(c.records.record(2)?.votes).toBeUndefined()
    expect(c.sent).toEqual([])
  })

  it('reveals once every seat committed, not before, and not while reveals are held', async () => {
    const c = council()
    c.records.append({t: 'vote', taskId: 3, k: 0, accept: true, salt: `0x${'00'.repeat(32)}`, commitment: '0xc', sample: [], problems: []})
    const half = assignedTask(3, 'council', {verdicts: {[ME]: {commitment: '0xc'}}})
    c.duty.consider(half, 0, NOW)
    expect(c.sent).toEqual([])
    const all = assignedTask(3, 'council', {verdicts: {[ME]: {commitment: '0xc'}, [addr(12)]: {commitment: '0xd'}}})
    const held = council({mayReveal: () => false})
    held.records.append({t: 'vote', taskId: 3, k: 0, accept: true, salt: `0x${'00'.repeat(32)}`, commitment: '0xc', sample: [], problems: []})
    held.duty.consider(all, 0, NOW)
    expect(held.sent).toEqual([])
    c.duty.consider(all, 0, NOW)
    await c.jobs.settled()
    expect(c.sent).toEqual(['reveal true'])
    expect(c.records.record(3)?.votes?.[0]?.reveal?.status).toBe('done')
  })

  it('re-sends a journaled commitment that is not on chain yet (a restart between the journal and the transaction)', async () => {
    const c = council()
    c.records.append({t: 'vote', taskId: 4, k: 0, accept: false, salt: `0x${'00'.repeat(32)}`, commitment: '0xkept', sample: [1], problems: []})
    c.duty.consider(assignedTask(4, 'council', {}), 0, NOW)
    await c.jobs.settled()
    expect(c.sent).toEqual(['commit 0xkept'])
  })
})

describe('the status document', () => {
  /** The status of a daemon at ME with these records and indexed tasks (everything else fixed). */
  const statusOf = (s: ReturnType<typeof store>, tasks: IndexedTask[], bidLatencies: number[]) =>
    buildStatus({
      address: ME,
      version: 't',
      network: {name: 'devnet', chainId: 1},
      url: 'http://x',
      startedAt: new Date(),
      bidding: true,
      stopping: false,
      chain: {cursor: 10, time: NOW},
      strategy: 'x',
      models: [],
      vramGiB: 0,
      records: Object.values(s.store.state.tasks),
      tasks: taskView(tasks),
      bidLatencies,
      txQueue: 0,
    })

  it('counts bids and skips, names each task\'s role and phase, and credits council fees only to majority voters', () => {
    const s = store()
    const r = s.records
    r.append({t: 'skip', taskId: 1, reason: 'no', at: 0})
    r.append({t: 'bid', taskId: 2, price: '1000000000000000000', strategy: 'x', at: 0})
    r.append({t: 'bid-tx', taskId: 2, status: 'done'})
    r.append({t: 'bid', taskId: 3, price: '1', strategy: 'x', at: 0})
    r.append({t: 'bid-tx', taskId: 3, status: 'failed', error: 'x'})
    r.append({t: 'vote', taskId: 2, k: 0, accept: false, salt: '0x', commitment: '0xc', sample: [0], problems: ['item 0: differs']})
    const seat = assignedTask(2, 'council', {state: 'accepted', feePerVoter: 5n, verdicts: {[ME]: {commitment: '0xc', accept: false}, [addr(12)]: {commitment: '0xd', accept: true}}})
    const status = statusOf(s, [makeTask(1), seat, makeTask(3)], [10, 20, 30])
    expect(status.bids).toEqual({placed: 1, skipped: 1, failed: 1, latencyMs: {p50: 20, p95: 30}})
    expect(status.tasks.map((t) => [t.id, t.role, t.phase, t.price])).toEqual([
      [3, 'bidder', 'bidding', '0.000000000000000001'],
      [2, 'council', 'waiting for checkpoint 1', '1'],
    ])
    expect(status.council).toEqual([{taskId: 2, k: 0, verdict: 'reject', committed: true, revealed: true, sample: [0], problems: ['item 0: differs']}])
    expect(status.earnings.councilFees).toBe('0')
  })

  it('keeps a verdict, its sample and its problems secret until the reveal: only the flags show', () => {
    const s = store()
    s.records.append({t: 'bid', taskId: 4, price: '1', strategy: 'x', at: 0})
    s.records.append({t: 'vote', taskId: 4, k: 0, accept: true, salt: '0x', commitment: '0xc', sample: [3, 5], problems: []})
    const committed = assignedTask(4, 'council', {verdicts: {[ME]: {commitment: '0xc'}}})
    const status = statusOf(s, [committed], [])
    expect(status.council).toEqual([{taskId: 4, k: 0, committed: true, revealed: false, verdict: null, sample: null, problems: null}])
    expect(JSON.stringify(status)).not.toMatch(/accept|\[3,5\]/)
  })
})
