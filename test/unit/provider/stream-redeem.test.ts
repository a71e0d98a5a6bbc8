import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AbiCoder, type Interface, type TransactionReceipt, Wallet} from 'ethers'
import {afterEach, describe, expect, it} from 'vitest'

import type {ChainContext} from '../../../src/chain/context.js'
import {ContractRevertError} from '../../../src/chain/errors.js'
import {createLogger} from '../../../src/provider/log.js'
import {redeemedRecord} from '../../../src/provider/stream/book.js'
import {StreamService} from '../../../src/provider/stream/service.js'

// The redeemer against fakes: a receipt built from the StreamMarket's ABI, and a chain whose `redeemed` read lags
// (it still answers what it answered before the redemption), as a node behind the one that mined the transaction does.
const MARKET = '0x00000000000000000000000000000000000000b0'
const OTHER_CONTRACT = '0x00000000000000000000000000000000000000c0'
const provider = new Wallet(`0x${'11'.repeat(32)}`)
const otherProvider = new Wallet(`0x${'22'.repeat(32)}`)

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, {recursive: true, force: true})))

function service(options: {chainRedeemed: () => bigint | Promise<bigint>; receipt: (market: Interface) => TransactionReceipt}) {
  const dir = mkdtempSync(join(tmpdir(), 'ogpu-redeem-'))
  dirs.push(dir)
  let reads = 0
  // The chain port: the only read the redeemer makes is `redeemed(streamId, provider)`.
  const fakeChain = {
    call: async () => {
      reads++
      return AbiCoder.defaultAbiCoder().encode(['uint256'], [await options.chainRedeemed()])
    },
  }
  const sent: string[] = []
  const lines: string[] = []
  const stream = new StreamService({
    chain: {network: {chainId: 31_337, deployBlock: 0, contracts: {streamMarket: MARKET}}, provider: fakeChain} as unknown as ChainContext,
    wallet: provider.connect(fakeChain as never),
    dir,
    log: createLogger({format: 'json', write: (line) => lines.push(line)}),
    backends: () => [],
    mode: 'none',
    priceFloor: () => 0n,
    redeemThreshold: 1n,
    sendTx: async (what) => {
      sent.push(what)
      return options.receipt(stream.market.interface)
    },
    now: () => 1_000,
    stopping: () => false,
  })
  return {stream, sent, lines, reads: () => reads}
}

const voucherRedeemed = (market: Interface, streamId: bigint, who: string, redeemed: bigint) => ({
  address: MARKET,
  ...market.encodeEventLog('VoucherRedeemed', [streamId, who, redeemed, redeemed, redeemed, 0n, 0n]),
})

const receiptOf = (logs: Array<{address: string; topics: readonly string[]; data: string}>) => ({hash: `0x${'ab'.repeat(32)}`, status: 1, logs}) as unknown as TransactionReceipt

describe('the stream redeemer updates the book from the redeem receipt', () => {
  it('the status shows the redemption the moment the receipt is in, though the chain read after it still lags', async () => {
    const {stream, sent, reads} = service({
      chainRedeemed: () => 0n, // the lagging read
      receipt: (market) =>
        receiptOf([
          voucherRedeemed(market, 1n, provider.address, 1000n),
          voucherRedeemed(market, 2n, provider.address, 700n),
          voucherRedeemed(market, 3n, otherProvider.address, 999n), // another provider's redemption in the same block
          {...voucherRedeemed(market, 1n, provider.address, 5000n), address: OTHER_CONTRACT}, // not the StreamMarket
        ]),
    })
    stream.book.append({t: 'voucher', streamId: '1', amount: '1000', signature: '0x01', at: 1})
    stream.book.append({t: 'voucher', streamId: '2', amount: '700', signature: '0x02', at: 1})
    await stream.redeemDue(true)
    expect(sent).toEqual(['Redeem 2 vouchers'])
    // the reconciliation reads ran (one per stream), and did not take the book back; then each stream was re-read
    // for the cache (getStream, subscription, redeemed, surelyRedeemable: redeemed and surelyRedeemable go together)
    expect(reads()).toBe(2 + 2 * 4)
    expect(stream.book.state.streams['1']).toMatchObject({redeemed: '1000', redeemTx: `0x${'ab'.repeat(32)}`})
    expect(stream.book.state.streams['2']).toMatchObject({redeemed: '700'})
    expect(stream.book.state.streams['3']).toBeUndefined()
    expect(stream.status().streams['1']).toMatchObject({voucher: '1000', redeemed: '1000'})
    stream.close()
  })

  it('a failed chain read after the receipt leaves the receipt\'s amounts and logs the redemption as done', async () => {
    const {stream, lines} = service({
      chainRedeemed: () => {
        throw new Error('connection reset')
      },
      receipt: (market) => receiptOf([voucherRedeemed(market, 1n, provider.address, 1000n)]),
    })
    stream.book.append({t: 'voucher', streamId: '1', amount: '1000', signature: '0x01', at: 1})
    await stream.redeemDue(true)
    expect(stream.book.state.streams['1']).toMatchObject({redeemed: '1000'})
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({level: 'info', event: 'redeem'}))
    stream.close()
  })

  it('the chain read still reconciles upwards (a redemption the receipt did not show)', async () => {
    const {stream} = service({chainRedeemed: () => 1500n, receipt: (market) => receiptOf([voucherRedeemed(market, 1n, provider.address, 1000n)])})
    stream.book.append({t: 'voucher', streamId: '1', amount: '1000', signature: '0x01', at: 1})
    await stream.redeemDue(true)
    expect(stream.book.state.streams['1']).toMatchObject({redeemed: '1500'})
    stream.close()
  })
})

describe('a voucher the chain cannot pay', () => {
  it('an empty allowance and deposit on one stream (DepositEmpty names it) holds back only that stream, not the whole batch', async () => {
    let calls = 0
    const {stream, sent} = service({
      chainRedeemed: () => 0n,
      receipt: (market) => {
        calls++
        // the first batch has both streams: stream 2 has nothing left to pay, so the whole redeemMany reverts
        if (calls === 1) throw new ContractRevertError('empty', 'StreamMarketDepositEmpty', [2n, 700n])
        return receiptOf([voucherRedeemed(market, 1n, provider.address, 1000n)])
      },
    })
    stream.book.append({t: 'voucher', streamId: '1', amount: '1000', signature: '0x01', at: 1})
    stream.book.append({t: 'voucher', streamId: '2', amount: '700', signature: '0x02', at: 1})
    await stream.redeemDue(true)
    expect(sent).toEqual(['Redeem 2 vouchers'])
    // the next due pass redeems stream 1 alone; stream 2 waits (30 s) for a top-up or an allowance
    const deadline = Date.now() + 5_000
    while (sent.length < 2 && Date.now() < deadline) {
      const pass = stream.redeemDue(false) // undefined until the redeem job is due again (1 s)
      if (pass) await pass
      else await new Promise((resolve) => setTimeout(resolve, 50)) // poll the condition
    }
    expect(sent).toEqual(['Redeem 2 vouchers', 'Redeem the voucher of stream 1'])
    expect(stream.book.state.streams['1']).toMatchObject({redeemed: '1000'})
    expect(stream.book.state.streams['2']).toMatchObject({redeemed: '0'})
    stream.close()
  })
})

describe('redeemedRecord (a VoucherRedeemed event as a book record)', () => {
  it('is the redeemed total for this provider (any address case), nothing for another', () => {
    expect(redeemedRecord({streamId: 4n, provider: provider.address.toLowerCase(), redeemed: 12n}, provider.address, '0xtx')).toEqual({t: 'redeemed', streamId: '4', amount: '12', tx: '0xtx'})
    expect(redeemedRecord({streamId: 4n, provider: otherProvider.address, redeemed: 12n}, provider.address, '0xtx')).toBeUndefined()
  })
})
