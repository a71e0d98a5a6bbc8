import {afterEach, describe, expect, it} from 'vitest'

import type {IndexedTask} from '../../../../src/market/types.js'
import {Scheduler} from '../../../../src/provider/daemon/scheduler.js'
import {addr, assignedTask, eagerJobs, instantSender, makeTask, ME, NOW, recordingLogger, response, revert, tempStore} from './fakes.js'

const stores: Array<ReturnType<typeof tempStore>> = []
afterEach(() => {
  for (const s of stores.splice(0)) s.dispose()
})

function setup(options: {bidding?: boolean; draining?: boolean; failing?: boolean} = {}) {
  const s = tempStore()
  stores.push(s)
  const jobs = eagerJobs()
  const calls: string[] = []
  const tx = (name: string) => async () => {
    calls.push(name)
    if (options.failing) throw revert('TaskMarketUnexpectedStatus')
    return response()
  }
  const log = recordingLogger()
  const forgotten: string[] = []
  const scheduler = new Scheduler({
    address: ME,
    records: s.records,
    log,
    clock: {now: () => NOW},
    sendTx: instantSender(),
    jobs,
    bidder: {evaluate: async (t) => void calls.push(`evaluate ${t.id}`), forget: (id) => void forgotten.push(`bidder ${id}`)},
    executor: {consider: (t) => void calls.push(`execute ${t.id}`), forget: (id) => void forgotten.push(`executor ${id}`)},
    council: {consider: (t, k) => void calls.push(`council ${t.id}:${k}`)},
    market: {
      assign: (id) => tx(`assign ${id}`)(),
      expire: (id) => tx(`expire ${id}`)(),
      finalizeCheckpoint: (id, k) => tx(`finalize ${id}:${k}`)(),
      timeoutCheckpoint: (id) => tx(`timeout ${id}`)(),
      seatCouncil: (id) => tx(`seat ${id}`)(),
    },
    forgetMaterials: (id) => void forgotten.push(`materials ${id}`),
    bidding: () => options.bidding ?? true,
    draining: () => options.draining ?? false,
  })
  return {scheduler, jobs, calls, forgotten, records: s.records, log}
}

const withMyBid = (task: IndexedTask): IndexedTask => ({...task, bids: [...task.bids, {index: task.bids.length, provider: ME, price: 1n, block: 1, txHash: '0x'}]})

describe('the scheduler', () => {
  it('evaluates an open task once, and never while stopping', async () => {
    const a = setup()
    a.scheduler.consider(makeTask(1), NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual(['evaluate 1'])
    a.records.append({t: 'skip', taskId: 1, reason: 'no', at: 0})
    a.scheduler.consider(makeTask(1), NOW)
    expect(a.calls).toEqual(['evaluate 1'])
    const b = setup({bidding: false})
    b.scheduler.consider(makeTask(2), NOW)
    expect(b.calls).toEqual([])
  })

  it('assigns a task we bid on once the bid cap is reached, or once bidding is over with any bid (one is enough)', async () => {
    const a = setup()
    a.records.append({t: 'bid', taskId: 3, price: '1', strategy: 'x', at: 0})
    a.scheduler.consider(withMyBid(makeTask(3, {bids: [5, 6, 7]})), NOW)
    a.records.append({t: 'bid', taskId: 4, price: '1', strategy: 'x', at: 0})
    a.scheduler.consider(withMyBid(makeTask(4, {biddingEnd: NOW - 2})), NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual(['assign 3', 'assign 4'])
    expect(a.log.lines.filter((l) => l.event === 'tx').map((l) => l.message)).toEqual(['Assigned on task 3', 'Assigned on task 4'])
  })

  it('assigns a full task only once its minimum open time is over (the cap alone is not enough)', async () => {
    const a = setup()
    a.records.append({t: 'bid', taskId: 3, price: '1', strategy: 'x', at: 0})
    const full = withMyBid(makeTask(3, {bids: [5, 6, 7]}))
    a.scheduler.consider({...full, assignableAt: NOW + 1}, NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual([])
    a.scheduler.consider({...full, assignableAt: NOW}, NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual(['assign 3'])
  })

  it('expires any open task whose window ended without a bid, whether or not we bid (even while stopping)', async () => {
    const a = setup()
    for (const id of [11, 12, 13]) a.records.append({t: 'skip', taskId: id, reason: 'not ours', at: 0})
    a.scheduler.consider(makeTask(11, {biddingEnd: NOW - 2}), NOW) // no bid at all
    a.scheduler.consider(makeTask(12, {biddingEnd: NOW - 2, bids: [5]}), NOW) // someone else's lone bid: assignable, its bidder assigns
    a.scheduler.consider(makeTask(13, {biddingEnd: NOW - 0.5}), NOW) // within the second after the window
    a.scheduler.consider(makeTask(14, {biddingEnd: NOW - 2, bids: [5, 6]}), NOW) // two bids: assign, not ours to send
    await a.jobs.settled()
    expect([...a.calls].sort()).toEqual(['evaluate 14', 'expire 11'])
    expect(a.jobs.keys.filter((k) => k.startsWith('expire:'))).toEqual(['expire:11'])
    const draining = setup({draining: true, bidding: false})
    draining.scheduler.consider(makeTask(11, {biddingEnd: NOW - 2}), NOW)
    await draining.jobs.settled()
    expect(draining.calls).toEqual(['expire 11'])
  })

  it('logs a permissionless transaction someone else sent first as debug, not as a failure', async () => {
    const a = setup({failing: true})
    a.records.append({t: 'bid', taskId: 3, price: '1', strategy: 'x', at: 0})
    a.scheduler.consider(withMyBid(makeTask(3, {bids: [5, 6, 7]})), NOW)
    await a.jobs.settled()
    expect(a.log.lines.map((l) => [l.level, l.fields?.revert])).toEqual([['debug', 'TaskMarketUnexpectedStatus']])
  })

  it('settles a bid whose outcome a crash left unknown from what the chain shows', () => {
    const a = setup()
    a.records.append({t: 'bid', taskId: 5, price: '1', strategy: 'x', at: 0})
    a.scheduler.consider(withMyBid(makeTask(5)), NOW)
    a.records.append({t: 'bid', taskId: 6, price: '1', strategy: 'x', at: 0})
    a.scheduler.consider(makeTask(6, {status: 'assigned', bids: [1, 2]}), NOW)
    a.records.flush()
    expect(a.records.record(5)?.bid?.status).toBe('done')
    expect(a.records.record(6)?.bid?.status).toBe('failed')
  })

  it('hands execution to the executor (not while draining), council seats to the council, and finalizes a fully revealed round', async () => {
    const a = setup()
    const mine = assignedTask(7, 'executor')
    a.scheduler.consider(mine, NOW)
    const seat = assignedTask(8, 'council', {verdicts: {[ME]: {commitment: '0x1', accept: true}, [addr(12)]: {commitment: '0x2', accept: false}}})
    a.scheduler.consider(seat, NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual(['execute 7', 'council 8:0', 'finalize 8:0'])
    const b = setup({draining: true})
    b.scheduler.consider(mine, NOW)
    expect(b.calls).toEqual([])
  })

  it('seats the council of any assigned task that has none yet, ours or not, and does nothing else on it until then', async () => {
    const a = setup()
    const unseated = {...makeTask(20, {status: 'assigned', bids: [5]}), executor: addr(5), councilSeated: false}
    a.scheduler.consider(unseated, NOW)
    a.scheduler.consider({...unseated, id: 21, executor: ME}, NOW) // ours: no execution before the council sits
    a.scheduler.consider({...assignedTask(22, 'council'), councilSeated: true}, NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual(['seat 20', 'seat 21'])
    expect(a.log.lines.filter((l) => l.event === 'tx').map((l) => l.message)).toEqual(['Seat the council on task 20', 'Seat the council on task 21'])
  })

  it('does council duty on a seat drawn from the pool, on a task it never bid for', async () => {
    const a = setup()
    const seat = assignedTask(23, 'council', {})
    expect(seat.bids.some((b) => b.provider === ME)).toBe(false)
    a.scheduler.consider(seat, NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual(['council 23:0'])
  })

  it('times out an executor past its deadline when we sit on the council', async () => {
    const a = setup()
    const task = {...assignedTask(9, 'council'), deadline: NOW - 5}
    a.scheduler.consider(task, NOW)
    await a.jobs.settled()
    expect(a.calls).toEqual(['timeout 9'])
  })

  it('records a task\'s end once and drops what the roles kept for it', () => {
    const a = setup()
    a.records.append({t: 'bid', taskId: 10, price: '1', strategy: 'x', at: 0})
    const ended = makeTask(10, {status: 'finalized', bids: [1, 2, 3]})
    a.scheduler.consider(ended, NOW)
    a.scheduler.consider(ended, NOW)
    expect(a.records.record(10)?.ended).toBe('finalized')
    expect(a.forgotten).toEqual(['bidder 10', 'executor 10', 'materials 10'])
  })
})
