import {AbiCoder, keccak256, toUtf8Bytes, TypedDataEncoder, Wallet} from 'ethers'
import {describe, expect, it} from 'vitest'

import {ogpuDomain} from './eip712.js'
import {
  bodyHashOf,
  fromReceipt,
  generationCharge,
  MAX_REQUEST_TTL,
  receiptDigest,
  RECEIPT_TYPES,
  recoverAttestation,
  recoverReceipt,
  recoverStreamRequest,
  recoverVoucher,
  responseHashOf,
  signAttestation,
  signedRequestHeaders,
  signReceipt,
  signVoucher,
  STREAM_HEADERS,
  toReceipt,
  verificationCharge,
} from './stream.js'

// Unit parts of the wire module. That these digests equal the contract's voucherDigest/receiptDigest, and that a
// signed voucher redeems on chain, is checked on a real anvil deployment in test/e2e/stream-cli.test.ts.
const domain = ogpuDomain(31_337, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
const client = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
const provider = new Wallet('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a')

describe('stream wire protocol', () => {
  it('charges per 1,000 tokens, rounded up to the wei, zero for nothing', () => {
    expect(generationCharge(0, 10n ** 18n)).toBe(0n)
    expect(generationCharge(1000, 2n * 10n ** 16n)).toBe(2n * 10n ** 16n)
    expect(generationCharge(1, 1000n)).toBe(1n)
    expect(generationCharge(1, 1001n)).toBe(2n) // 1.001 wei rounds up
    expect(generationCharge(3, 1n)).toBe(1n)
    // Verification charges the prompt too.
    expect(verificationCharge(10, 5, 1000n)).toBe(15n)
    expect(verificationCharge(999, 0, 1n)).toBe(1n)
    expect(verificationCharge(0, 0, 10n ** 18n)).toBe(0n)
  })

  it('hashes bodies as UTF-8 bytes and responses as abi.encode(bodyHash, uint32[] tokens)', () => {
    const body = '{"messages":[{"role":"user","content":"héllo"}]}'
    expect(bodyHashOf(body)).toBe(keccak256(toUtf8Bytes(body)))
    expect(bodyHashOf(new TextEncoder().encode(body))).toBe(bodyHashOf(body))
    const bodyHash = bodyHashOf(body)
    expect(responseHashOf(bodyHash, [1, 2, 3])).toBe(keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint32[]'], [bodyHash, [1, 2, 3]])))
    expect(responseHashOf(bodyHash, [1, 2, 3])).not.toBe(responseHashOf(bodyHash, [1, 2]))
    expect(responseHashOf(bodyHash, [])).not.toBe(responseHashOf(bodyHashOf(`${body} `), []))
  })

  it('signs and recovers vouchers, receipts and attestations; a changed field recovers someone else', async () => {
    const voucher = {streamId: 7n, provider: provider.address, cumulativeAmount: 123n}
    const vSig = await signVoucher(client, domain, voucher)
    expect(recoverVoucher(domain, voucher, vSig)).toBe(client.address)
    expect(recoverVoucher(domain, {...voucher, cumulativeAmount: 124n}, vSig)).not.toBe(client.address)
    expect(recoverVoucher(ogpuDomain(1, domain.verifyingContract as string), voucher, vSig)).not.toBe(client.address)

    const receipt = {streamId: 7n, requestId: `0x${'11'.repeat(32)}`, responseHash: `0x${'22'.repeat(32)}`, promptTokens: 3, completionTokens: 9}
    const rSig = await signReceipt(provider, domain, receipt)
    expect(recoverReceipt(domain, receipt, rSig)).toBe(provider.address)
    expect(receiptDigest(domain, receipt)).toBe(TypedDataEncoder.hash(domain, RECEIPT_TYPES, receipt))
    expect(toReceipt(fromReceipt(receipt))).toEqual(receipt)
    expect(fromReceipt(receipt).streamId).toBe('7')

    const attestation = {streamId: 7n, requestId: receipt.requestId, responseHash: receipt.responseHash, valid: true}
    const aSig = await signAttestation(provider, domain, attestation)
    expect(recoverAttestation(domain, attestation, aSig)).toBe(provider.address)
    expect(recoverAttestation(domain, {...attestation, valid: false}, aSig)).not.toBe(provider.address)
  })

  it('builds signed request headers that recover to the client and bind the body and the provider', async () => {
    const body = '{"model":"tiny","messages":[]}'
    const {headers, auth} = await signedRequestHeaders(client, domain, 7n, provider.address, body, {now: 1000, ttlSeconds: 30})
    expect(auth).toMatchObject({streamId: 7n, provider: provider.address, bodyHash: bodyHashOf(body), expiry: 1030})
    expect(auth.requestId).toMatch(/^0x[0-9a-f]{64}$/)
    expect(headers[STREAM_HEADERS.streamId]).toBe('7')
    expect(headers[STREAM_HEADERS.requestId]).toBe(auth.requestId)
    expect(headers[STREAM_HEADERS.expiry]).toBe('1030')
    expect(recoverStreamRequest(domain, auth, headers[STREAM_HEADERS.signature]!)).toBe(client.address)
    expect(recoverStreamRequest(domain, {...auth, bodyHash: bodyHashOf(`${body} `)}, headers[STREAM_HEADERS.signature]!)).not.toBe(client.address)
    // Verified by another provider (with its own address), the same signature recovers to someone else.
    expect(recoverStreamRequest(domain, {...auth, provider: client.address}, headers[STREAM_HEADERS.signature]!)).not.toBe(client.address)
    const other = await signedRequestHeaders(client, domain, 7n, provider.address, body)
    expect(other.auth.requestId).not.toBe(auth.requestId)
    expect(other.auth.expiry - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(MAX_REQUEST_TTL)
  })
})
