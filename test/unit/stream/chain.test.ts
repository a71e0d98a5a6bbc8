/**
 * src/stream/chain.ts without a chain: redeemResult out of a receipt whose VoucherRedeemed logs are encoded from the
 * ABI, listStreams paging over a StreamMarket faked at eth_call (an in-memory JSON-RPC node), and the id and enum
 * errors of the readers. The transactions themselves run against real contracts in test/e2e/stream-cli.test.ts.
 */
import {getAddress, type JsonRpcProvider, keccak256, toUtf8Bytes, TransactionReceipt, ZeroAddress} from 'ethers'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {ChainContext} from '../../../src/chain/context.js'
import {registryAt} from '../../../src/chain/contracts/registry.js'
import {type StreamMarket, streamMarketAt} from '../../../src/chain/contracts/stream-market.js'
import {taskMarketAt} from '../../../src/chain/contracts/task-market.js'
import {tokenAt} from '../../../src/chain/contracts/token.js'
import type {NetworkFile} from '../../../src/chain/networks.js'
import {BugError, UserError} from '../../../src/errors/index.js'
import {allowanceTopUps, findStream, getStream, listStreams, redeemResult, streamMarketAddress, streamMarketOf, toId} from '../../../src/stream/chain.js'
import {type EmittedLog, emitted, FakeNode, word} from '../../helpers/fake-node.js'

const MARKET = getAddress(`0x${'5a'.repeat(20)}`)
const OTHER = getAddress(`0x${'0e'.repeat(20)}`)
const address = (byte: string) => getAddress(`0x${byte.repeat(20)}`)
const alice = address('a1')
const bob = address('b2')
const provider1 = address('c3')
const provider2 = address('d4')

let node: FakeNode
let provider: JsonRpcProvider
let market: StreamMarket

beforeEach(async () => {
  node = await FakeNode.start()
  provider = node.provider()
  market = streamMarketAt(MARKET, provider)
})
afterEach(() => node.close())

function chainOf(options: {streamMarket?: string; devnet?: boolean} = {streamMarket: MARKET}): ChainContext {
  const contracts = {token: address('01'), registry: address('02'), taskMarket: address('03'), ...(options.streamMarket ? {streamMarket: options.streamMarket} : {})}
  const network: NetworkFile = {name: 'fake', chainId: node.chainId, rpcUrl: node.url, contracts, deployBlock: 0, devnet: options.devnet, createdAt: '2026-01-01T00:00:00.000Z'}
  return {
    network,
    rpcUrl: node.url,
    provider,
    token: tokenAt(contracts.token, provider),
    registry: registryAt(contracts.registry, provider),
    market: taskMarketAt(contracts.taskMarket, provider),
    tx: {},
    dispose: () => {},
  }
}

/** What `fn` throws (undefined when it returns). */
function errorOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

/** A receipt of transaction `hash` holding `logs` (as a node returns it). */
function receiptOf(hash: string, block: number, logs: EmittedLog[]): TransactionReceipt {
  return new TransactionReceipt(
    {
      to: MARKET,
      from: provider1,
      contractAddress: null,
      hash,
      index: 0,
      blockHash: word(block),
      blockNumber: block,
      logsBloom: `0x${'00'.repeat(256)}`,
      logs: logs.map((log, i) => ({...log, transactionHash: hash, blockHash: word(block), blockNumber: block, removed: false, index: i, transactionIndex: 0})),
      gasUsed: 21_000n,
      cumulativeGasUsed: 21_000n,
      effectiveGasPrice: 1n,
      type: 2,
      status: 1,
      root: null,
    },
    provider,
  )
}

describe('redeemResult', () => {
  const redeemed = (streamId: bigint, paid: bigint, total: bigint, deposit: bigint) =>
    emitted(market, market.getEvent('VoucherRedeemed'), [streamId, provider1, total, paid, total, 0n, deposit])

  it('sums what the VoucherRedeemed logs of the market paid, per stream, in log order', () => {
    const hash = keccak256(toUtf8Bytes('redeem many'))
    const token = tokenAt(address('01'), provider)
    const receipt = receiptOf(hash, 42, [
      redeemed(3n, 5n, 12n, 88n),
      // a Transfer of the token, and the same event from another contract: not the market's redemptions
      emitted(token, token.getEvent('Transfer'), [MARKET, provider1, 5n]),
      {...redeemed(9n, 1_000n, 1_000n, 0n), address: OTHER},
      redeemed(7n, 2n, 2n, 40n),
    ])
    expect(redeemResult(receipt, market)).toEqual({
      paid: 7n,
      streams: [
        {streamId: 3n, paid: 5n, redeemed: 12n, deposit: 88n},
        {streamId: 7n, paid: 2n, redeemed: 2n, deposit: 40n},
      ],
      txHash: hash,
      block: 42,
    })
  })

  it('is zero when nothing was redeemed (every voucher already was)', () => {
    const hash = keccak256(toUtf8Bytes('nothing'))
    expect(redeemResult(receiptOf(hash, 7, []), market)).toEqual({paid: 0n, streams: [], txHash: hash, block: 7})
  })
})

/** A stream as IStreamMarket.getStream returns it (status 0 = no such stream). */
function streamStruct(client: string, status: number) {
  return {
    client,
    status,
    modelHash: word(0x30de1),
    specHash: word(0x5bec),
    specUri: 'ipfs://terms',
    pricePerKTokenGenerated: 10n,
    pricePerKTokenVerified: 5n,
    councilSize: 3,
    responseMethod: 1,
    weightBps: 5000,
    collateral: 100n,
    maxDowntime: 60,
    unsubscribeNotice: 5,
    closeNotice: 6,
    commitWindow: 7,
    revealWindow: 8,
    disputeBond: 1n,
    nonRevealSlash: 2n,
    voterRewardBps: 1000,
    deposit: 500n,
    createdAt: 1_700_000_000,
    closeAt: 0,
    subscriberCount: 2,
    openDisputes: 0,
  }
}

describe('listStreams over a faked StreamMarket', () => {
  /** Streams 1..n: even ids are bob's, every third is closing, id 5 does not exist (status 0). */
  function serveStreams(n: number): {getStreamCalls: bigint[]} {
    const getStreamCalls: bigint[] = []
    const statusOf = (id: number) => (id === 5 ? 0 : id % 3 === 0 ? 2 : 1)
    node.serve(market, (call) => {
      if (call.name === 'nextStreamId') return [BigInt(n + 1)]
      if (call.name !== 'getStream') return undefined
      const id = BigInt(call.args[0])
      getStreamCalls.push(id)
      return id >= 1n && id <= BigInt(n) ? [streamStruct(id % 2n === 0n ? bob : alice, statusOf(Number(id)))] : [streamStruct(ZeroAddress, 0)]
    })
    return {getStreamCalls}
  }
  const ids = (page: {streams: Array<{id: bigint}>}) => page.streams.map((s) => s.id)

  it('reads newest first, in pages of `limit`, until no older stream is left', async () => {
    serveStreams(12)
    const chain = chainOf()
    const first = await listStreams(chain, {limit: 4})
    expect(ids(first)).toEqual([12n, 11n, 10n, 9n])
    expect(first).toMatchObject({nextBefore: 9n, total: 12})
    const second = await listStreams(chain, {limit: 4, before: first.nextBefore!})
    expect(ids(second)).toEqual([8n, 7n, 6n, 4n]) // 5 does not exist
    const last = await listStreams(chain, {limit: 4, before: second.nextBefore!})
    expect(ids(last)).toEqual([3n, 2n, 1n])
    expect(last.nextBefore).toBeNull()
    // a `before` past the newest stream starts at the newest
    expect(ids(await listStreams(chain, {limit: 2, before: 99n}))).toEqual([12n, 11n])
  })

  it('filters by client and status; the page is the same whatever the concurrency', async () => {
    serveStreams(12)
    const chain = chainOf()
    const bobs = await listStreams(chain, {client: bob.toLowerCase()})
    expect(ids(bobs)).toEqual([12n, 10n, 8n, 6n, 4n, 2n])
    expect(bobs.streams.every((s) => s.client === bob)).toBe(true)
    const closing = await listStreams(chain, {status: ['closing']})
    expect(ids(closing)).toEqual([12n, 9n, 6n, 3n])
    expect(closing.streams[0]).toMatchObject({status: 'closing', responseMethod: 'weighted', councilSize: 3, deposit: 500n, createdAt: 1_700_000_000})
    for (const concurrency of [1, 3, 50]) expect(await listStreams(chain, {status: ['active'], limit: 3, concurrency})).toEqual(await listStreams(chain, {status: ['active'], limit: 3}))
  })

  it('reads no further than it needs: one getStream per id, in bounded batches', async () => {
    const {getStreamCalls} = serveStreams(40)
    await listStreams(chainOf(), {limit: 2, concurrency: 4})
    expect(getStreamCalls).toEqual([40n, 39n, 38n, 37n])
  })

  it('refuses a limit that is not a positive integer', async () => {
    serveStreams(1)
    for (const limit of [0, -1, 1.5])
      await expect(listStreams(chainOf(), {limit})).rejects.toSatisfy((e) => e instanceof UserError && e.code === 'INVALID_LIMIT')
  })
})

describe('stream readers: ids, enums and the market address', () => {
  it('toId takes numbers and bigints and refuses negative ids', () => {
    expect(toId(3)).toBe(3n)
    expect(toId(0n)).toBe(0n)
    expect(() => toId(-1)).toThrow(UserError)
    expect(errorOf(() => toId(-1n))).toMatchObject({code: 'INVALID_ID'})
  })

  it('findStream is undefined for an unknown id, getStream a user error; an unknown enum from the contract is a bug', async () => {
    node.serve(market, (call) => {
      if (call.name !== 'getStream') return undefined
      const id = Number(call.args[0])
      return [streamStruct(alice, id === 1 ? 1 : id === 2 ? 0 : 9)]
    })
    const chain = chainOf()
    expect(await findStream(chain, 1)).toMatchObject({id: 1n, client: alice, status: 'active'})
    expect(await findStream(chain, 2)).toBeUndefined()
    await expect(getStream(chain, 2)).rejects.toSatisfy((e) => e instanceof UserError && e.code === 'UNKNOWN_STREAM')
    await expect(findStream(chain, 3)).rejects.toSatisfy((e) => e instanceof BugError && e.code === 'UNKNOWN_ENUM')
    await expect(findStream(chain, -4)).rejects.toSatisfy((e) => e instanceof UserError && e.code === 'INVALID_ID')
  })

  it('a network file without a StreamMarket is a user error with the way to get one', () => {
    expect(streamMarketAddress(chainOf())).toBe(MARKET)
    const devnet = errorOf(() => streamMarketOf(chainOf({devnet: true})))
    expect(devnet).toBeInstanceOf(UserError)
    expect(devnet).toMatchObject({code: 'NO_STREAM_MARKET', hint: expect.stringContaining('ogpu devnet stop')})
    expect(errorOf(() => streamMarketAddress(chainOf({})))).toMatchObject({code: 'NO_STREAM_MARKET', hint: expect.stringContaining('ogpu deploy')})
  })
})

describe('allowanceTopUps (the gateway\'s default split)', () => {
  it('gives every subscriber an equal share of the stream\'s funds, from the unreserved deposit', () => {
    expect(allowanceTopUps(90n, [{provider: provider1, left: 0n}, {provider: provider2, left: 0n}, {provider: alice, left: 0n}])).toEqual([
      {provider: provider1, amount: 30n},
      {provider: provider2, amount: 30n},
      {provider: alice, amount: 30n},
    ])
  })

  it('refills only an allowance under half of its share, and never beyond the unreserved deposit', () => {
    // funds 100: share 50; provider1 at 30 (over half) stays, provider2 at 10 gets 40
    expect(allowanceTopUps(60n, [{provider: provider1, left: 30n}, {provider: provider2, left: 10n}])).toEqual([{provider: provider2, amount: 40n}])
    // a new subscriber while the deposit is all reserved: nothing to give until a top-up
    expect(allowanceTopUps(0n, [{provider: provider1, left: 50n}, {provider: provider2, left: 0n}])).toEqual([])
    // a short deposit goes to the first in line
    expect(allowanceTopUps(10n, [{provider: provider1, left: 45n}, {provider: provider2, left: 0n}, {provider: alice, left: 0n}])).toEqual([{provider: provider2, amount: 10n}])
    expect(allowanceTopUps(10n, [])).toEqual([])
  })
})
