import type {Filter, Log, Provider} from 'ethers'

import {ExternalError} from '../errors/index.js'

export interface PageOptions {
  /** Contract addresses whose logs to read. */
  address: string | string[]
  /** First block to read (inclusive). */
  fromBlock: number
  /** Last block to read (inclusive). */
  toBlock: number
  /** Blocks per eth_getLogs call; halved when the node refuses a range as too large. Defaults to 5000. */
  step?: number
  /** Smallest step before giving up. Defaults to 1. */
  minStep?: number
  signal?: AbortSignal
}

/** Errors nodes return when a range holds too many logs or blocks (geth, erigon, alchemy, infura, anvil...). */
const TOO_LARGE = /(too many|limit exceeded|more than \d+ results|query returned more than|block range|range is too large|response size|exceed)/i

/**
 * Reads logs over a block range in pages, on any JSON-RPC node (only eth_getLogs is used). Shrinks the page when the
 * node says a range is too large and grows it back after successes. Yields each page in block order.
 */
export async function* pageLogs(provider: Provider, options: PageOptions): AsyncGenerator<{logs: Log[]; fromBlock: number; toBlock: number}> {
  let step = options.step ?? 5000
  const minStep = options.minStep ?? 1
  let from = options.fromBlock
  while (from <= options.toBlock) {
    options.signal?.throwIfAborted()
    const to = Math.min(options.toBlock, from + step - 1)
    let logs: Log[]
    try {
      logs = await provider.getLogs({address: options.address, fromBlock: from, toBlock: to} as Filter)
    } catch (error) {
      const message = `${(error as Error).message} ${JSON.stringify((error as {info?: unknown}).info ?? '')}`
      if (TOO_LARGE.test(message) && step > minStep) {
        step = Math.max(minStep, Math.floor(step / 2))
        continue
      }
      throw new ExternalError(`Reading logs for blocks ${from}–${to} failed: ${(error as Error).message.slice(0, 200)}`, {code: 'RPC_ERROR', cause: error})
    }
    yield {logs, fromBlock: from, toBlock: to}
    from = to + 1
    step = Math.min(options.step ?? 5000, step * 2)
  }
}
