import type {BatchItem, LlamaContext, LlamaContextSequence} from 'node-llama-cpp'
import {describe, expect, it} from 'vitest'

import {CancelledError} from '../../../src/errors/index.js'
import {DecodeLockstep, shareBatch} from '../../../src/gpu/batching.js'
import {SequencePool} from '../../../src/gpu/sequence-pool.js'

const item = (tokens: number): BatchItem => ({tokens: Array.from({length: tokens}, (_, i) => i), evaluationPriorities: undefined}) as unknown as BatchItem

/** A context of `n` sequences whose histories clear at once. */
function fakeContext(n: number): LlamaContext {
  return {totalSequences: n, getSequence: () => ({disposed: false, clearHistory: async () => {}}) as unknown as LlamaContextSequence} as unknown as LlamaContext
}

describe('shareBatch', () => {
  it('gives each item an equal share, then the leftover in order', () => {
    const [a, b, c] = [item(100), item(2), item(100)]
    expect(shareBatch([a!, b!, c!], 12).map((x) => x.processAmount)).toEqual([6, 2, 4])
    expect(shareBatch([], 12)).toEqual([])
    expect(shareBatch([item(1), item(1)], 1).map((x) => x.processAmount)).toEqual([1])
  })
})

describe('DecodeLockstep', () => {
  it('holds a ready step while another decode step runs, then releases the ready ones together in sequence-id order', async () => {
    const lockstep = new DecodeLockstep()
    const order: number[] = []
    await lockstep.nextStep(1, false, 'decode') // sequence 1 decodes
    const zero = lockstep.nextStep(0, false, 'decode').then(() => order.push(0))
    await new Promise((resolve) => setImmediate(resolve))
    expect(order).toEqual([]) // waits for sequence 1's step
    const one = lockstep.nextStep(1, true, 'decode').then(() => order.push(1))
    await Promise.all([zero, one])
    expect(order).toEqual([0, 1])
    lockstep.leaveStep(true)
    lockstep.leaveStep(true)
  })
})

describe('SequencePool', () => {
  it('leases the lowest free id, queues beyond its size in FIFO order, and cancels a queued lease', async () => {
    const pool = new SequencePool(fakeContext(2))
    const signal = new AbortController().signal
    const a = await pool.acquire(signal)
    const b = await pool.acquire(signal)
    expect([pool.idOf(a), pool.idOf(b), pool.busy]).toEqual([0, 1, 2])
    const cancel = new AbortController()
    const cancelled = pool.acquire(cancel.signal)
    const queued = pool.acquire(signal)
    expect(pool.queued).toBe(2)
    cancel.abort()
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError)
    await pool.release(b)
    expect(pool.idOf(await queued)).toBe(1)
    await pool.release(a)
    await pool.release(b)
    expect([pool.busy, pool.queued]).toEqual([0, 0])
    expect(pool.idOf(await pool.acquire(signal))).toBe(0)
  })

  it('close rejects the queue and takes no sequence back', async () => {
    const pool = new SequencePool(fakeContext(1))
    const signal = new AbortController().signal
    const a = await pool.acquire(signal)
    const queued = pool.acquire(signal)
    pool.close(new CancelledError('closed'))
    await expect(queued).rejects.toThrow('closed')
    await pool.release(a)
    expect(pool.busy).toBe(1)
  })
})
