/**
 * How concurrent requests share llama_decode batches: the lockstep that releases the ready decode steps together,
 * and the batch prioritization that orders a batch's items by sequence id so llama.cpp groups them.
 */
import type {BatchItem, CustomBatchingPrioritizationStrategy, LlamaContext, PrioritizedBatchItem} from 'node-llama-cpp'

/**
 * Requests that are decoding advance in lockstep: the ready ones are released together, in sequence-id order, once
 * no decode step of another request is still running, so all their next tokens go into ONE llama_decode batch.
 * (Each request's sampling finishes at a slightly different time; when each queued its next token on its own, the
 * stragglers ran as extra one-token batches and concurrency gained nothing.) A prompt being processed is never
 * waited for: a new request joins the batch when its prompt is done.
 */
export class DecodeLockstep {
  /** Requests waiting for the next decode step (see `nextStep`). */
  private readonly ready: Array<{sequenceId: number; kind: 'prompt' | 'decode'; resolve: () => void}> = []
  /** Requests released for a decode step that have not come back for the next one yet. */
  private decoding = 0
  private releaseTimer: NodeJS.Timeout | undefined

  /** Waits for the next decode step. `wasDecoding`: the caller's previous step was a decode step. */
  nextStep(sequenceId: number, wasDecoding: boolean, kind: 'prompt' | 'decode'): Promise<void> {
    if (wasDecoding) this.decoding--
    return new Promise((resolve) => {
      this.ready.push({sequenceId, kind, resolve})
      this.maybeRelease()
    })
  }

  /** A request that was decoding stopped (finished, failed or cancelled). */
  leaveStep(wasDecoding: boolean): void {
    if (wasDecoding) this.decoding--
    this.maybeRelease()
  }

  /** Releases the ready requests; `force`: without waiting for running decode steps (on dispose, or a stuck step). */
  maybeRelease(force = false): void {
    if (this.ready.length === 0) return
    if (this.decoding > 0 && !force) {
      // a guard: never wait on a stuck step for long
      this.releaseTimer ??= setTimeout(() => {
        this.releaseTimer = undefined
        this.maybeRelease(true)
      }, 250)
      return
    }
    if (this.releaseTimer) clearTimeout(this.releaseTimer)
    this.releaseTimer = undefined
    const ready = this.ready.splice(0).sort((a, b) => a.sequenceId - b.sequenceId)
    for (const r of ready) {
      if (r.kind === 'decode') this.decoding++
      r.resolve()
    }
  }
}

/**
 * Batch prioritization that makes continuous batching actually batch. node-llama-cpp creates contexts with a
 * non-unified KV cache (one stream per sequence); llama.cpp then splits a batch into micro-batches that only group
 * tokens of CONSECUTIVE, INCREASING sequence ids (`split_equal(..., sequential = true)`). Queued decodes arrive in
 * whatever order their sampling finished, so without this every decode step of N streams ran as N micro-batches of
 * one token: no gain over running them one by one. Here the queued items are ordered by sequence id (read from the
 * context's queue, which lists them in the same order as `items`), and the engine leases the lowest free ids, so
 * busy sequences are mostly consecutive. Then tokens are shared out as node-llama-cpp's "maximumParallelism" does.
 */
export function orderBatchBySequence(context: () => LlamaContext | undefined): CustomBatchingPrioritizationStrategy {
  return ({items, size}) => {
    const queued = (context() as unknown as {_queuedDecodes?: Array<{sequenceId?: number}>} | undefined)?._queuedDecodes
    let ordered: readonly BatchItem[] = items
    if (queued && queued.length === items.length && queued.every((q) => typeof q.sequenceId === 'number'))
      ordered = items.map((item, i) => ({item, id: queued[i]!.sequenceId!})).sort((a, b) => a.id - b.id).map((x) => x.item)
    return shareBatch(ordered, size)
  }
}

/** Gives every item an equal share of the batch, then the leftover to the items that still have tokens, in order. */
export function shareBatch(items: readonly BatchItem[], size: number): PrioritizedBatchItem[] {
  if (items.length === 0) return []
  let left = size
  const share = Math.max(1, Math.floor(size / items.length))
  const result: PrioritizedBatchItem[] = []
  for (const item of items) {
    if (left === 0) break
    const processAmount = Math.min(item.tokens.length, share, left)
    result.push({item, processAmount})
    left -= processAmount
  }
  for (const entry of result) {
    if (left === 0) break
    const more = Math.min(entry.item.tokens.length - entry.processAmount, left)
    entry.processAmount += more
    left -= more
  }
  return result
}
