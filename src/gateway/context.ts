/**
 * What the gateway's roles share: the stream they serve, the client's signer, the events and logs they report, and
 * one generator's share of a response ({@link Part}).
 */
import type {Signer, TypedDataDomain} from 'ethers'

import type {OgpuResponseEnd} from '../protocol/stream.js'
import type {StreamInfo} from '../stream/chain.js'

/** What the gateway reports as it works (tests and logs follow it). */
export type GatewayEvent =
  | {type: 'generator'; id: string; provider: string; part: number; resumeTokens: number}
  | {type: 'failover'; id: string; provider: string; kind: 'before_first_token' | 'mid_stream' | 'bad_receipt'; reason: string}
  | {type: 'generated'; id: string; provider: string; part: number; tokens: number}
  | {type: 'verdict'; id: string; verifier: string; outcome: 'approved' | 'rejected' | 'abstained'; reason?: string}
  | {type: 'release'; id: string; approvals: number; required: number}
  | {type: 'rejected'; id: string; provider: string; released: boolean}
  | {type: 'done'; id: string; tokens: number[]; generators: string[]}
  | {type: 'voucher'; provider: string; cumulative: string; delivered: boolean; reason?: string}
  | {type: 'dispute'; provider: string; digest: string; disputeId?: string; error?: string}
  | {type: 'charge_mismatch'; provider: string; stated: string; computed: string}
  | {type: 'allowance'; provider: string; amount: string; allowance: string}

/** The stream a role works for, and where it reports. */
export interface StreamContext {
  streamId: bigint
  /** The stream client's signer (requests, verify calls, vouchers, evidence). */
  signer: Signer
  /** The StreamMarket's EIP-712 domain. */
  domain: TypedDataDomain
  /** The stream's current terms (prices, council size, response method). */
  stream(): StreamInfo
  emit(event: GatewayEvent): void
  log(line: string): void
}

/** One generator's share of a response. */
export interface Part {
  provider: string
  endpoint: string
  body: string
  requestId: string
  tokens: number[]
  text: string
  /** The receipt (null when the generator died mid-stream). */
  end: OgpuResponseEnd | null
}
