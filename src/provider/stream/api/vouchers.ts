/**
 * Vouchers: POST /v1/ogpu/vouchers. The client's cumulative voucher for this provider, checked against the stream's
 * client and stored durably (fsync) before the 200: a voucher acknowledged is a voucher that survives kill -9.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'

import type {TypedDataDomain} from 'ethers'

import {sendJson} from '../../../http/index.js'
import {recoverVoucher} from '../../../protocol/stream.js'
import {Refusal} from '../auth.js'
import {creditOf, unpaidOf} from '../book.js'
import type {ApiBook, StreamLookup} from './admission.js'
import {invalid, parseJson, readRequestBody} from './request.js'

/** Largest voucher body, bytes. */
export const MAX_VOUCHER_BYTES = 64 * 1024

export interface VoucherPorts {
  domain: TypedDataDomain
  /** The provider's address (vouchers name it). */
  address: string
  streams: StreamLookup
  book: ApiBook
}

export class VoucherIntake {
  constructor(private readonly ports: VoucherPorts) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const {address, book} = this.ports
    const body = parseJson(await readRequestBody(req, MAX_VOUCHER_BYTES)) as {streamId?: unknown; cumulativeAmount?: unknown; signature?: unknown}
    if (typeof body.streamId !== 'string' || !/^\d{1,77}$/.test(body.streamId)) throw invalid('streamId must be a decimal string.', 'streamId')
    if (typeof body.cumulativeAmount !== 'string' || !/^\d{1,78}$/.test(body.cumulativeAmount)) throw invalid('cumulativeAmount must be a decimal string (wei).', 'cumulativeAmount')
    if (typeof body.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(body.signature)) throw invalid('signature must be hex.', 'signature')
    const streamId = BigInt(body.streamId)
    const amount = BigInt(body.cumulativeAmount)
    const stream = await this.ports.streams.get(streamId)
    if (stream.status === 'none') throw new Refusal('unknown_stream', `There is no stream ${streamId}.`)
    let signer: string
    try {
      signer = recoverVoucher(this.ports.domain, {streamId, provider: address, cumulativeAmount: amount}, body.signature)
    } catch {
      throw new Refusal('bad_signature', 'The voucher signature is malformed.')
    }
    if (signer !== stream.client) throw new Refusal('bad_signature', `The voucher is signed by ${signer}, not by the client of stream ${streamId} (or not for provider ${address}).`)
    const key = streamId.toString()
    const entry = book.state.streams[key]
    const previous = BigInt(entry?.voucher?.amount ?? '0')
    // A retry of the stored voucher (same amount, same signature) is answered again; anything else must grow.
    const retry = amount === previous && entry?.voucher?.signature === body.signature
    if (amount <= previous && !retry) throw new Refusal('replayed', `The voucher's cumulative amount ${amount} does not grow: the newest stored is ${previous}.`)
    if (amount > previous) book.append({t: 'voucher', streamId: key, amount: amount.toString(), signature: body.signature, at: Date.now()})
    const now = book.state.streams[key]
    // `counted`: the part of the voucher this provider can surely redeem (redeemed + surelyRedeemable on chain);
    // `atRisk`: the charges beyond it. A voucher larger than the client's allowance for this provider is stored, but
    // counts only up to the allowance.
    const credit = creditOf(now, stream)
    sendJson(res, 200, {
      streamId: key,
      cumulativeAmount: now?.voucher?.amount ?? amount.toString(),
      stored: amount > previous,
      charged: now?.charged ?? '0',
      unpaid: unpaidOf(now).toString(),
      redeemed: now?.redeemed ?? '0',
      counted: credit.counted.toString(),
      surelyRedeemable: stream.surelyRedeemable.toString(),
      atRisk: credit.atRisk.toString(),
    })
  }
}
