import {type Filter, JsonRpcProvider, type Provider, toQuantity} from 'ethers'

import {ExternalError} from '../errors/index.js'

export interface PageOptions {
  /** Contract addresses whose logs to read. */
  address: string | string[]
  /** First block to read (inclusive). */
  fromBlock: number
  /** Last block to read (inclusive). */
  toBlock: number
  /**
   * Largest number of blocks per eth_getLogs call. Defaults to 5000. Pages start at 100 blocks and double while they
   * stay light; a range the node refuses as too large is halved.
   */
  step?: number
  /** Smallest step before giving up. Defaults to 1. */
  minStep?: number
  /**
   * Logs a page should hold at most: after a denser page the range shrinks in proportion, so that memory stays
   * bounded on a busy chain (a page's logs are all in memory at once). Defaults to 5000.
   */
  maxLogs?: number
  signal?: AbortSignal
}

/** What a page holds of each log: all the indexers read. */
export interface PagedLog {
  blockNumber: number
  transactionHash: string
  /** The log's index in its block. */
  index: number
  address: string
  topics: readonly string[]
  data: string
}

/** Errors nodes return when a range holds too many logs or blocks (geth, erigon, alchemy, infura, anvil...). */
const TOO_LARGE = /(too many|limit exceeded|more than \d+ results|query returned more than|block range|range is too large|response size|exceed)/i
const FIRST_STEP = 100

/**
 * eth_getLogs over JSON-RPC with the platform's fetch and JSON parser. ethers decodes a response body byte by byte in
 * JavaScript before parsing it and wraps every log in a class instance: on pages of thousands of logs that costs
 * seconds and hundreds of MB. Same endpoint, headers and timeout as the provider's own requests.
 */
async function rawGetLogs(provider: JsonRpcProvider, filter: {address: string | string[]; fromBlock: number; toBlock: number}, signal?: AbortSignal): Promise<PagedLog[]> {
  const connection = provider._getConnection()
  const headers = {...connection.headers, 'content-type': 'application/json'}
  delete (headers as Record<string, string>)['accept-encoding']
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'eth_getLogs',
    params: [{address: filter.address, fromBlock: toQuantity(filter.fromBlock), toBlock: toQuantity(filter.toBlock)}],
  })
  const signals = [AbortSignal.timeout(connection.timeout), ...(signal ? [signal] : [])]
  const response = await fetch(connection.url, {method: 'POST', headers, body, signal: AbortSignal.any(signals)})
  const text = await response.text()
  let reply: {result?: Array<Record<string, string | string[]>>; error?: {code?: number; message?: string}}
  try {
    reply = JSON.parse(text) as typeof reply
  } catch {
    throw Object.assign(new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`), {info: {status: response.status}})
  }
  if (reply.error || !Array.isArray(reply.result)) throw Object.assign(new Error(reply.error?.message ?? `HTTP ${response.status}, no result`), {info: reply.error ?? null})
  return reply.result.map((log) => ({
    blockNumber: Number(log.blockNumber),
    transactionHash: log.transactionHash as string,
    index: Number(log.logIndex),
    address: log.address as string,
    topics: log.topics as string[],
    data: log.data as string,
  }))
}

async function getLogs(provider: Provider, filter: {address: string | string[]; fromBlock: number; toBlock: number}, signal?: AbortSignal): Promise<PagedLog[]> {
  if (provider instanceof JsonRpcProvider) return rawGetLogs(provider, filter, signal)
  return provider.getLogs(filter as Filter)
}

/**
 * Reads logs over a block range in pages, on any JSON-RPC node (only eth_getLogs is used). Shrinks the page when the
 * node says a range is too large or when a page is dense, and grows it back after light pages. Yields each page in
 * block order.
 */
export async function* pageLogs(provider: Provider, options: PageOptions): AsyncGenerator<{logs: PagedLog[]; fromBlock: number; toBlock: number}> {
  const maxStep = options.step ?? 5000
  const minStep = options.minStep ?? 1
  const maxLogs = options.maxLogs ?? 5000
  let step = Math.max(minStep, Math.min(maxStep, FIRST_STEP))
  let from = options.fromBlock
  while (from <= options.toBlock) {
    options.signal?.throwIfAborted()
    const to = Math.min(options.toBlock, from + step - 1)
    let logs: PagedLog[]
    try {
      logs = await getLogs(provider, {address: options.address, fromBlock: from, toBlock: to}, options.signal)
    } catch (error) {
      options.signal?.throwIfAborted()
      const message = `${(error as Error).message} ${JSON.stringify((error as {info?: unknown}).info ?? '')}`
      if (TOO_LARGE.test(message) && step > minStep) {
        step = Math.max(minStep, Math.floor(step / 2))
        continue
      }
      throw new ExternalError(`Reading logs for blocks ${from}–${to} failed: ${(error as Error).message.slice(0, 200)}`, {code: 'RPC_ERROR', cause: error})
    }
    yield {logs, fromBlock: from, toBlock: to}
    from = to + 1
    if (logs.length > maxLogs) step = Math.max(minStep, Math.floor((step * maxLogs) / logs.length))
    else if (logs.length <= maxLogs / 2) step = Math.min(maxStep, step * 2)
  }
}
