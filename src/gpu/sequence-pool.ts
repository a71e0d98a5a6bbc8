/**
 * The sequences of one llama.cpp context, leased one per request: the lowest free id first (see
 * `orderBatchBySequence` in ./batching.ts), requests beyond the pool's size wait in a FIFO queue.
 */
import type {LlamaContext, LlamaContextSequence} from 'node-llama-cpp'

import {CancelledError} from '../errors/index.js'

interface Waiter {
  resolve(sequence: LlamaContextSequence): void
  reject(err: Error): void
}

export class SequencePool {
  /** All sequences, by sequence id (index). */
  private readonly sequences: LlamaContextSequence[]
  /** Free sequence ids, ascending: the lowest id is leased first. */
  private readonly free: number[]
  private readonly waiters: Waiter[] = []
  private closed = false

  constructor(context: LlamaContext) {
    this.sequences = Array.from({length: context.totalSequences}, () => context.getSequence())
    this.free = this.sequences.map((_, i) => i)
  }

  get size(): number {
    return this.sequences.length
  }

  /** Sequences leased right now. */
  get busy(): number {
    return this.sequences.length - this.free.length
  }

  /** Requests waiting for a sequence. */
  get queued(): number {
    return this.waiters.length
  }

  /** The sequence id (index in the context) of a leased sequence. */
  idOf(sequence: LlamaContextSequence): number {
    return this.sequences.indexOf(sequence)
  }

  /** Leases a free sequence, or waits in the queue for one; rejects with a CancelledError when `signal` fires first. */
  acquire(signal: AbortSignal): Promise<LlamaContextSequence> {
    if (signal.aborted) return Promise.reject(new CancelledError())
    const id = this.free.shift()
    if (id !== undefined) return Promise.resolve(this.sequences[id]!)
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new CancelledError('Request cancelled while queued.'))
      }
      const waiter: Waiter = {
        resolve: (s) => {
          signal.removeEventListener('abort', onAbort)
          resolve(s)
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      signal.addEventListener('abort', onAbort, {once: true})
      this.waiters.push(waiter)
    })
  }

  /** Clears a leased sequence's history and hands it to the next waiter, or back to the free ids. */
  async release(sequence: LlamaContextSequence): Promise<void> {
    if (this.closed || sequence.disposed) return
    try {
      await sequence.clearHistory()
    } catch {
      // a disposed context: nothing to give back
      return
    }
    const next = this.waiters.shift()
    if (next) next.resolve(sequence)
    else {
      const id = this.sequences.indexOf(sequence)
      this.free.splice(sortedIndex(this.free, id), 0, id)
    }
  }

  /** Rejects every queued request with `err`; sequences released afterwards are not given out again. */
  close(err: Error): void {
    this.closed = true
    for (const waiter of this.waiters.splice(0)) waiter.reject(err)
  }
}

const sortedIndex = (sorted: readonly number[], value: number): number => {
  let i = 0
  while (i < sorted.length && sorted[i]! < value) i++
  return i
}
