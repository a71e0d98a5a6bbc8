/**
 * Disputes: a final part that failed verification is disputed on chain. The gateway writes the evidence (served at
 * `/v1/ogpu/evidence/{digest}`), opens the dispute, seats its council (drawn from the staked pool of the model a
 * block later), and pushes the evidence to the seated members; one at a time. A member that has no evidence yet
 * waits for it through the first half of the commit window (src/provider/stream/disputes.ts).
 */
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {getAddress} from 'ethers'

import {type EvidenceCallBody, type Receipt, receiptDigest, toReceipt} from '../protocol/stream.js'
import {writeFileDurable} from '../storage/index.js'
import type {Part, StreamContext} from './context.js'
import type {GatewayMetrics} from './metrics.js'
import type {SubscriberPool} from './pool.js'
import type {ProviderCalls} from './provider-client.js'

/** What the disputes need of the chain. */
export interface DisputeChain {
  /** Opens a dispute on a receipt (IStreamMarket.openDispute) and seats its council (seatDispute): the seated members (empty if not seated yet). */
  openDispute(input: {provider: string; receipt: Receipt; signature: string; evidenceUri: string}): Promise<{disputeId: bigint; council: string[]}>
  /** A provider's registered endpoint (a council member need not be a subscriber of the stream). */
  endpointOf(provider: string): Promise<string | undefined>
}

export interface DisputeOptions {
  context: StreamContext
  chain: DisputeChain
  pool: Pick<SubscriberPool, 'get'>
  metrics: Pick<GatewayMetrics, 'disputes'>
  calls: Pick<ProviderCalls, 'evidence'>
  /** Where the evidence is kept, one file per receipt digest. */
  evidenceDir: string
  /** The URL council members fetch evidence from. Undefined: an `ogpu-evidence:` URI. */
  publicUrl: () => string | undefined
  /** Open disputes. Defaults to true. */
  enabled?: boolean
}

export class Disputes {
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly options: DisputeOptions) {}

  /** Disputes `part` after the disputes before it; resolves when it is done or failed (never rejects). */
  submit(part: Part): Promise<void> {
    if (this.options.enabled !== false) this.queue = this.queue.then(() => this.dispute(part)).catch(() => {})
    return this.queue
  }

  /** Evidence of a disputed receipt, by its digest (served to council members). */
  evidence(digest: string): EvidenceCallBody | undefined {
    if (!/^0x[0-9a-fA-F]{64}$/.test(digest)) return undefined
    const file = join(this.options.evidenceDir, `${digest.toLowerCase()}.json`)
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EvidenceCallBody) : undefined
  }

  private async dispute(part: Part): Promise<void> {
    const {context, metrics} = this.options
    const end = part.end!
    const receipt = toReceipt(end.receipt)
    const digest = receiptDigest(context.domain, receipt)
    const evidence: EvidenceCallBody = {receipt: end.receipt, signature: end.signature, provider: getAddress(part.provider), body: part.body, tokens: part.tokens}
    try {
      mkdirSync(this.options.evidenceDir, {recursive: true})
      writeFileDurable(this.options.evidenceDir, `${digest.toLowerCase()}.json`, `${JSON.stringify(evidence)}\n`)
      const publicUrl = this.options.publicUrl()
      const evidenceUri = publicUrl ? `${publicUrl.replace(/\/+$/, '')}/v1/ogpu/evidence/${digest}` : `ogpu-evidence:${digest}`
      const result = await this.options.chain.openDispute({provider: part.provider, receipt, signature: end.signature, evidenceUri})
      // The council, drawn from the pool: any staked provider of the model, subscriber of this stream or not.
      await Promise.all(
        result.council.map(async (address) => {
          const member = getAddress(address)
          const endpoint = this.options.pool.get(member)?.endpoint ?? (await this.options.chain.endpointOf(member).catch(() => undefined))
          if (!endpoint) return
          await this.options.calls
            .evidence({endpoint, provider: member, signer: context.signer, domain: context.domain, streamId: context.streamId, evidence, timeoutMs: 30_000})
            .catch((error) => context.log(`evidence not delivered to council member ${member}: ${(error as Error).message}`))
        }),
      )
      metrics.disputes.inc({outcome: 'opened'})
      context.emit({type: 'dispute', provider: getAddress(part.provider), digest, disputeId: result.disputeId.toString()})
      context.log(`dispute ${result.disputeId} opened on ${part.provider}'s receipt ${digest}`)
    } catch (error) {
      metrics.disputes.inc({outcome: 'failed'})
      context.emit({type: 'dispute', provider: getAddress(part.provider), digest, error: (error as Error).message})
      context.log(`dispute on ${part.provider}'s receipt ${digest} failed: ${(error as Error).message}`)
    }
  }
}
