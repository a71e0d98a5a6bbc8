import {describe, expect, it} from 'vitest'

import {StreamCache, type StreamReads} from '../../../src/provider/stream/market.js'

const CLIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const ME = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'

/** A StreamMarket with streams 1..created-1 (none subscribed unless listed), counting its reads. */
function fakeMarket(created: bigint, subscribed: bigint[] = []) {
  const calls = {getStream: 0, subscription: 0, nextStreamId: 0}
  const market = {
    getStream: async (id: bigint) => {
      calls.getStream++
      const exists = id >= 1n && id < created
      return {client: exists ? CLIENT : '0x0000000000000000000000000000000000000000', status: exists ? 1n : 0n, modelHash: `0x${'ab'.repeat(32)}`, pricePerKTokenGenerated: 1n, pricePerKTokenVerified: 1n, councilSize: 1n, collateral: 1n, closeAt: 0n, commitWindow: 1n, revealWindow: 1n, subscriberCount: 1n, deposit: 1n}
    },
    subscription: async (id: bigint) => {
      calls.subscription++
      return {status: subscribed.includes(id) ? 1n : 0n}
    },
    nextStreamId: async () => {
      calls.nextStreamId++
      return created
    },
    redeemed: async () => 0n,
    surelyRedeemable: async () => 0n,
  }
  return {market: market as unknown as StreamReads, calls}
}

describe('the stream cache', () => {
  it('answers ids the market has not created without reading them, and keeps none of them', async () => {
    const {market, calls} = fakeMarket(3n)
    const cache = new StreamCache(market, ME, {nextIdTtlMs: 60_000})
    const unknown = await Promise.all(Array.from({length: 500}, (_, i) => cache.get(BigInt(1000 + i))))
    expect(unknown.every((s) => s.status === 'none')).toBe(true)
    expect(await cache.get(0n)).toMatchObject({status: 'none'})
    // One shared read of nextStreamId for all of them; no stream read; nothing kept.
    expect(calls).toEqual({getStream: 0, subscription: 0, nextStreamId: 1})
    expect(cache.known()).toEqual([])
    // A created stream is read (once) and kept.
    expect(await cache.get(2n)).toMatchObject({id: 2n, status: 'active', client: CLIENT})
    await cache.get(2n)
    expect(calls.getStream).toBe(1)
    expect(cache.known().map((s) => s.id)).toEqual([2n])
  })

  it('reads nextStreamId again once stale, so a stream created since is found', async () => {
    let now = 1_000_000
    const realNow = Date.now
    Date.now = () => now
    try {
      const first = fakeMarket(2n)
      const cache = new StreamCache(first.market, ME, {nextIdTtlMs: 1000})
      expect((await cache.get(5n)).status).toBe('none')
      expect((await cache.get(5n)).status).toBe('none')
      expect(first.calls.nextStreamId).toBe(1)
      now += 1001
      expect((await cache.get(5n)).status).toBe('none')
      expect(first.calls.nextStreamId).toBe(2)
    } finally {
      Date.now = realNow
    }
  })

  it('stays within maxEntries, dropping the least recently used streams it does not serve first', async () => {
    const {market} = fakeMarket(100n, [1n])
    const cache = new StreamCache(market, ME, {maxEntries: 3})
    await cache.get(1n) // subscribed: never dropped
    for (const id of [2n, 3n, 4n]) await cache.get(id)
    await cache.get(2n) // used again: 3 is now the least recently used
    await cache.get(5n)
    expect(cache.known().map((s) => s.id).sort()).toEqual([1n, 2n, 5n])
  })
})
