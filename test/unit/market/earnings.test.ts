/** The settlement rule of ITaskMarket read back from indexed events, on hand-built tasks. */
import {describe, expect, it} from 'vitest'

import {checkpointSeats, councilFeeOf, councilFeesByVoter, earningsOf, nextCheckpoint, rejectRewardOf, verdictState} from '../../../src/market/earnings.js'
import type {CheckpointState, IndexedCheckpoint, IndexedTask, IndexedVerdict} from '../../../src/market/types.js'
import {addr, makeTask, oGPU} from '../tui/fixtures.js'

const [executor, a, b, c, client] = [addr(20), addr(21), addr(22), addr(23), addr(1)]

type Vote = 'accept' | 'reject' | 'committed' | 'silent-slashed'
function checkpoint(k: number, state: CheckpointState, votes: Record<string, Vote>, extra: Partial<IndexedCheckpoint> = {}): IndexedCheckpoint {
  const verdicts: Record<string, IndexedVerdict> = {}
  for (const [voter, vote] of Object.entries(votes))
    verdicts[voter] =
      vote === 'committed' ? {voter, commitment: '0x01'} : vote === 'silent-slashed' ? {voter, commitment: '0x01', slashed: oGPU('0.5')} : {voter, commitment: '0x01', accept: vote === 'accept'}
  const approvals = Object.values(votes).filter((v) => v === 'accept').length
  const rejections = Object.values(votes).filter((v) => v === 'reject').length
  const finalized = state === 'accepted' || state === 'rejected'
  return {
    k,
    state,
    resultRoot: '0x',
    seedBlock: 0,
    commitEnd: 0,
    revealEnd: 0,
    committedBlock: 0,
    verdicts,
    ...(finalized ? {approvals, rejections, feePerVoter: oGPU(1), executorPaid: state === 'accepted' ? oGPU(5) : 0n, latePenalty: 0n} : {}),
    ...extra,
  }
}

function task(id: number, checkpoints: IndexedCheckpoint[], extra: Partial<IndexedTask> = {}): IndexedTask {
  return Object.assign(makeTask(id, {status: 'assigned', bids: [5, 6, 6, 6]}), {
    client,
    executor,
    council: [a, b, c],
    checkpoints: 3,
    checkpointList: checkpoints,
    executorPaid: checkpoints.reduce((sum, cp) => sum + (cp.executorPaid ?? 0n), 0n),
    ...extra,
  })
}

describe('council fees', () => {
  it('pay only the voters who revealed with the majority: minority voters and seats that did not reveal get nothing', () => {
    const cp = checkpoint(0, 'accepted', {[a]: 'accept', [b]: 'reject', [c]: 'silent-slashed'})
    expect(councilFeeOf(cp, a)).toBe(oGPU(1))
    expect(councilFeeOf(cp, b)).toBeUndefined()
    expect(councilFeeOf(cp, c)).toBeUndefined()
  })

  it('follow the outcome on a rejection too (the reject voters are the majority)', () => {
    const cp = checkpoint(1, 'rejected', {[a]: 'reject', [b]: 'reject', [c]: 'accept'})
    expect([a, b, c].map((v) => councilFeeOf(cp, v))).toEqual([oGPU(1), oGPU(1), undefined])
  })

  it('follow the state the chain settled, so a tie that accepted pays the accept voters', () => {
    const cp = checkpoint(0, 'accepted', {[a]: 'accept', [b]: 'reject'})
    expect([a, b].map((v) => councilFeeOf(cp, v))).toEqual([oGPU(1), undefined])
  })

  it('are not paid while the round is open or after it was cancelled', () => {
    expect(councilFeeOf(checkpoint(0, 'voting', {[a]: 'accept'}), a)).toBeUndefined()
    expect(councilFeeOf(checkpoint(0, 'cancelled', {[a]: 'accept'}, {feePerVoter: oGPU(1)}), a)).toBeUndefined()
    expect(councilFeeOf(undefined, a)).toBeUndefined()
  })

  it('are 0n, not undefined, for a majority voter on a task without fees', () => {
    expect(councilFeeOf(checkpoint(0, 'accepted', {[a]: 'accept'}, {feePerVoter: 0n}), a)).toBe(0n)
  })

  it('are summed per council member, every seat listed', () => {
    const t = task(1, [checkpoint(0, 'accepted', {[a]: 'accept', [b]: 'accept', [c]: 'reject'}), checkpoint(1, 'accepted', {[a]: 'accept', [b]: 'silent-slashed', [c]: 'accept'})])
    expect(councilFeesByVoter(t)).toEqual(
      new Map([
        [a, oGPU(2)],
        [b, oGPU(1)],
        [c, oGPU(1)],
      ]),
    )
  })
})

describe('reject rewards', () => {
  it('go to the voters who revealed "reject" on the checkpoint that failed the task by rejection', () => {
    const t = task(1, [checkpoint(0, 'accepted', {[a]: 'reject', [b]: 'accept', [c]: 'accept'}), checkpoint(1, 'rejected', {[a]: 'reject', [b]: 'reject', [c]: 'accept'})], {
      status: 'failed',
      failure: {k: 1, reason: 'rejected', executorSlashed: oGPU(10), rewardPerRejecter: oGPU(3), slashToClient: oGPU(4)},
    })
    expect([a, b, c].map((v) => rejectRewardOf(t, v))).toEqual([oGPU(3), oGPU(3), undefined])
  })

  it('are never paid on a timeout', () => {
    const t = task(1, [checkpoint(0, 'accepted', {[a]: 'reject', [b]: 'accept'})], {
      status: 'failed',
      failure: {k: 0, reason: 'timeout', executorSlashed: oGPU(10), rewardPerRejecter: 0n, slashToClient: oGPU(10)},
    })
    expect(rejectRewardOf(t, a)).toBeUndefined()
  })
})

describe('checkpointSeats', () => {
  it("summarises a seat's verdicts and what each round paid or slashed it, with any address spelling", () => {
    const t = task(1, [
      checkpoint(0, 'accepted', {[a]: 'accept', [b]: 'accept'}),
      checkpoint(1, 'rejected', {[a]: 'reject', [b]: 'accept'}),
      checkpoint(2, 'voting', {[a]: 'committed'}),
    ])
    t.status = 'failed'
    t.failure = {k: 1, reason: 'rejected', executorSlashed: oGPU(10), rewardPerRejecter: oGPU(3), slashToClient: oGPU(4)}
    expect(checkpointSeats(t, a.toLowerCase())).toEqual([
      {k: 0, state: 'accepted', committed: true, revealed: true, accept: true, fee: oGPU(1), rejectReward: undefined, slashed: undefined},
      {k: 1, state: 'rejected', committed: true, revealed: true, accept: false, fee: oGPU(1), rejectReward: oGPU(3), slashed: undefined},
      {k: 2, state: 'voting', committed: true, revealed: false, accept: null, fee: undefined, rejectReward: undefined, slashed: undefined},
    ])
    expect(checkpointSeats(t, b)[1]).toMatchObject({accept: true, fee: undefined, rejectReward: undefined})
  })

  it('is empty off the council', () => {
    expect(checkpointSeats(task(1, [checkpoint(0, 'accepted', {[a]: 'accept'})]), executor)).toEqual([])
  })

  it('reads a verdict that was committed but never revealed, and the slash for it', () => {
    const cp = checkpoint(0, 'accepted', {[a]: 'accept', [c]: 'silent-slashed'})
    expect(verdictState(cp, c)).toEqual({committed: true, revealed: false, accept: null})
    expect(verdictState(cp, b)).toEqual({committed: false, revealed: false, accept: null})
    expect(checkpointSeats(task(1, [cp]), c)[0]).toMatchObject({fee: undefined, slashed: oGPU('0.5')})
  })
})

describe('earningsOf', () => {
  const finished = task(1, [checkpoint(0, 'accepted', {[a]: 'accept', [b]: 'reject', [c]: 'accept'}), checkpoint(1, 'accepted', {[a]: 'accept', [b]: 'accept', [c]: 'silent-slashed'})], {
    status: 'finalized',
  })
  const failed = task(2, [checkpoint(0, 'rejected', {[a]: 'accept', [b]: 'reject', [c]: 'reject'})], {
    status: 'failed',
    failure: {k: 0, reason: 'rejected', executorSlashed: oGPU(10), rewardPerRejecter: oGPU(3), slashToClient: oGPU(4)},
  })
  const unrelated = Object.assign(makeTask(3, {status: 'finalized', bids: [1, 2, 3]}), {executorPaid: oGPU(7)})

  it('sums executor pay and slashes, council fees, reject rewards and non-reveal slashes over any tasks', () => {
    const tasks = [finished, failed, unrelated]
    expect(earningsOf(executor, tasks)).toEqual({executorPaid: oGPU(10), councilFees: 0n, rejectRewards: 0n, slashed: oGPU(10)})
    expect(earningsOf(a, tasks)).toEqual({executorPaid: 0n, councilFees: oGPU(2), rejectRewards: 0n, slashed: 0n})
    expect(earningsOf(b, tasks)).toEqual({executorPaid: 0n, councilFees: oGPU(2), rejectRewards: oGPU(3), slashed: 0n})
    expect(earningsOf(c.toLowerCase(), tasks)).toEqual({executorPaid: 0n, councilFees: oGPU(2), rejectRewards: oGPU(3), slashed: oGPU('0.5')})
    expect(earningsOf(client, tasks)).toEqual({executorPaid: 0n, councilFees: 0n, rejectRewards: 0n, slashed: 0n})
  })

  it('takes any iterable', () => {
    expect(earningsOf(a, new Map([[1, finished]]).values()).councilFees).toBe(oGPU(2))
  })
})

describe('nextCheckpoint', () => {
  it('is the first checkpoint not accepted, or the count once all were', () => {
    expect(nextCheckpoint(task(1, []))).toBe(0)
    expect(nextCheckpoint(task(1, [checkpoint(0, 'accepted', {}), checkpoint(1, 'voting', {})]))).toBe(1)
    expect(nextCheckpoint(task(1, [0, 1, 2].map((k) => checkpoint(k, 'accepted', {}))))).toBe(3)
  })
})
