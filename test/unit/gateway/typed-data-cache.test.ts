import {TypedDataEncoder, verifyTypedData, Wallet} from 'ethers'
import {describe, expect, it} from 'vitest'

import {ATTESTATION_TYPES, RECEIPT_TYPES, STREAM_REQUEST_TYPES, VOUCHER_TYPES} from '../../../src/protocol/stream.js'
import {CachedTypedDataWallet, recoverTypedData, typedDataDigest} from '../../../src/protocol/typed-data-cache.js'

const domain = (chainId: number, verifyingContract: string) => ({name: 'ogpu', version: '1', chainId, verifyingContract})
const hash = (n: number) => `0x${n.toString(16).padStart(2, '0').repeat(32)}`

describe('typed data with cached encoders', () => {
  const wallet = Wallet.createRandom()
  const other = Wallet.createRandom().address
  const cases: Array<[string, Record<string, Array<{name: string; type: string}>>, Record<string, unknown>]> = [
    ['request', STREAM_REQUEST_TYPES, {streamId: 7n, provider: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', requestId: hash(1), bodyHash: hash(2), expiry: 1_900_000_000}],
    ['voucher', VOUCHER_TYPES, {streamId: 7n, provider: other, cumulativeAmount: 123456789012345678901234567890n}],
    ['receipt', RECEIPT_TYPES, {streamId: 1n, requestId: hash(3), responseHash: hash(4), promptTokens: 12, completionTokens: 64}],
    ['attestation', ATTESTATION_TYPES, {streamId: 1n, requestId: hash(5), responseHash: hash(6), valid: false}],
  ]

  it('gives the digests, signatures and signers ethers gives, for every stream type and across domains', async () => {
    const cached = CachedTypedDataWallet.of(wallet)
    expect(cached.address).toBe(wallet.address)
    expect(CachedTypedDataWallet.of(cached)).toBe(cached)
    for (const d of [domain(31337, other), domain(1, wallet.address)]) {
      for (const [name, types, value] of cases) {
        expect(typedDataDigest(d, types, value), name).toBe(TypedDataEncoder.hash(d, types, value))
        const signature = await cached.signTypedData(d, types, value)
        expect(signature, name).toBe(await wallet.signTypedData(d, types, value))
        expect(recoverTypedData(d, types, value, signature), name).toBe(verifyTypedData(d, types, value, signature))
        expect(recoverTypedData(d, types, value, signature)).toBe(wallet.address)
      }
    }
  })

  it('tells a changed value or another domain by another signer, and throws on a malformed signature', async () => {
    const [, types, value] = cases[0]!
    const signature = await CachedTypedDataWallet.of(wallet).signTypedData(domain(31337, other), types, value)
    expect(recoverTypedData(domain(31337, other), types, {...value, expiry: 1_900_000_001}, signature)).not.toBe(wallet.address)
    expect(recoverTypedData(domain(31338, other), types, value, signature)).not.toBe(wallet.address)
    expect(() => recoverTypedData(domain(31337, other), types, value, '0x1234')).toThrow()
  })
})
