/** pageLogs: contiguous pages, bounded by log count on dense ranges, shrinking on ranges the node refuses. */
import type {Provider} from 'ethers'
import {describe, expect, it} from 'vitest'

import {pageLogs} from '../../../src/indexer/log-pager.js'

/** A node with `perBlock(b)` logs in block b, refusing ranges wider than `limit` blocks. */
function node(perBlock: (block: number) => number, limit = Infinity) {
  const calls: Array<[number, number]> = []
  const provider = {
    async getLogs(filter: {fromBlock: number; toBlock: number}) {
      calls.push([filter.fromBlock, filter.toBlock])
      if (filter.toBlock - filter.fromBlock + 1 > limit) throw new Error('query returned more than 10000 results')
      const logs = []
      for (let b = filter.fromBlock; b <= filter.toBlock; b++)
        for (let i = 0; i < perBlock(b); i++) logs.push({blockNumber: b, transactionHash: `0x${b}`, index: i, address: '0x', topics: [], data: '0x'})
      return logs
    },
  } as unknown as Provider
  return {provider, calls}
}

async function collect(provider: Provider, options: {fromBlock: number; toBlock: number; step?: number; maxLogs?: number}) {
  const pages = []
  for await (const page of pageLogs(provider, {address: '0x0', ...options})) pages.push(page)
  return pages
}

describe('pageLogs', () => {
  it('covers the range exactly once, in order, growing pages over a sparse chain', async () => {
    const {provider} = node((b) => (b % 1000 === 0 ? 1 : 0))
    const pages = await collect(provider, {fromBlock: 1, toBlock: 100_000})
    expect(pages[0]!.fromBlock).toBe(1)
    for (let i = 1; i < pages.length; i++) expect(pages[i]!.fromBlock).toBe(pages[i - 1]!.toBlock + 1)
    expect(pages.at(-1)!.toBlock).toBe(100_000)
    expect(pages.reduce((s, p) => s + p.logs.length, 0)).toBe(100)
    expect(Math.max(...pages.map((p) => p.toBlock - p.fromBlock + 1))).toBe(5000)
    expect(pages.length).toBeLessThan(30)
  })

  it('keeps pages near maxLogs on a dense chain (bounded memory)', async () => {
    const {provider} = node(() => 50)
    const pages = await collect(provider, {fromBlock: 1, toBlock: 10_000, maxLogs: 1000})
    expect(pages.reduce((s, p) => s + p.logs.length, 0)).toBe(500_000)
    expect(Math.max(...pages.map((p) => p.logs.length))).toBeLessThanOrEqual(5000) // the first page probes 100 blocks
    expect(Math.max(...pages.slice(1).map((p) => p.logs.length))).toBeLessThanOrEqual(1000)
  })

  it('halves a range the node refuses', async () => {
    const {provider, calls} = node(() => 1, 300)
    const pages = await collect(provider, {fromBlock: 1, toBlock: 2000, maxLogs: 100_000})
    expect(pages.reduce((s, p) => s + p.logs.length, 0)).toBe(2000)
    expect(calls.some(([from, to]) => to - from + 1 > 300)).toBe(true)
    expect(pages.every((p) => p.toBlock - p.fromBlock + 1 <= 300)).toBe(true)
  })
})
