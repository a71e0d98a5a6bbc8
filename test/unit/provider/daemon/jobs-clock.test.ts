import {describe, expect, it} from 'vitest'

import {ChainClock} from '../../../../src/provider/chain-clock.js'
import {Jobs} from '../../../../src/provider/jobs.js'

describe('Jobs', () => {
  it('runs one job per key at a time, reports failures, and refuses new jobs once closed', async () => {
    const failures: string[] = []
    const jobs = new Jobs({onError: (key, error) => failures.push(`${key}: ${(error as Error).message}`)})
    let release!: () => void
    const first = jobs.spawn('a', () => new Promise<void>((resolve) => (release = resolve)))
    expect(first).toBeDefined()
    expect(jobs.spawn('a', async () => {})).toBeUndefined()
    expect(jobs.has('a')).toBe(true)
    await jobs.spawn('b', async () => {
      throw new Error('boom')
    })
    expect(failures).toEqual(['b: boom'])
    release()
    await jobs.settled()
    expect(jobs.idle()).toBe(true)
    jobs.close()
    expect(jobs.spawn('c', async () => {})).toBeUndefined()
  })

  it('says a key is due once per interval, and not while deferred', () => {
    let now = 1000
    const jobs = new Jobs({onError: () => {}, nowMs: () => now})
    expect(jobs.due('k', 500)).toBe(true)
    expect(jobs.due('k', 500)).toBe(false)
    now += 500
    expect(jobs.due('k', 500)).toBe(true)
    jobs.defer('k', 30_000)
    now += 10_000
    expect(jobs.deferred('k')).toBe(true)
    expect(jobs.due('k', 500)).toBe(false)
    now += 20_001
    expect(jobs.deferred('k')).toBe(false)
    // The deferral counts as the last try: due again one interval after it ends.
    expect(jobs.due('k', 500)).toBe(false)
    now += 500
    expect(jobs.due('k', 500)).toBe(true)
  })
})

describe('ChainClock', () => {
  it('estimates the chain time from the latest block and the local clock, never before the block', async () => {
    let nowMs = 50_000
    let block = {number: 7, timestamp: 1000}
    const clock = new ChainClock({latest: async () => block}, () => nowMs)
    expect(clock.block).toBe(-1)
    await clock.update()
    expect(clock.block).toBe(7)
    expect(clock.now()).toBeCloseTo(1000.5)
    nowMs += 2000
    expect(clock.now()).toBeCloseTo(1002.5)
    // A new block re-centres the estimate (here the local clock ran fast: the chain says 1001).
    block = {number: 8, timestamp: 1001}
    await clock.update()
    expect(clock.now()).toBeCloseTo(1001.5)
    // A block whose timestamp is ahead of the estimate: never earlier than the block.
    block = {number: 9, timestamp: 1010}
    await clock.update()
    nowMs -= 60_000
    expect(clock.now()).toBe(1010)
  })
})
