/**
 * Settlement and vouchers: once every verifier answered, pay who worked (the verifiers' attestations, and the final
 * generator unless its response was rejected, which goes to a dispute instead) at the gateway's own computation of
 * the charges. Credits are written to the voucher book first (one durable write), then each provider's new
 * cumulative voucher is signed and sent, one at a time per provider; an undelivered one stays in the book and the
 * next voucher carries the whole amount.
 */
import {generationCharge, signVoucher} from '../protocol/stream.js'
import type {Part, StreamContext} from './context.js'
import type {GatewayMetrics} from './metrics.js'
import type {SubscriberPool} from './pool.js'
import type {ProviderCalls} from './provider-client.js'
import type {VerifierReport} from './verify.js'
import type {VoucherBook} from './voucher-book.js'

export interface SettlementOptions {
  context: StreamContext
  book: Pick<VoucherBook, 'creditMany' | 'get' | 'signed' | 'delivered'>
  pool: Pick<SubscriberPool, 'get'>
  metrics: Pick<GatewayMetrics, 'responses' | 'vouchers' | 'chargeMismatches'>
  calls: Pick<ProviderCalls, 'voucher'>
  /** Disputes a rejected final part; resolves when it is done (or failed). */
  dispute: (part: Part) => Promise<void>
}

export class Settlement {
  private readonly voucherQueues = new Map<string, Promise<void>>()

  constructor(private readonly options: SettlementOptions) {}

  /** Compares a charge a provider stated with the gateway's own (the gateway pays its own). */
  auditCharge(provider: string, stated: string, computed: bigint): void {
    if (stated === computed.toString()) return
    this.options.metrics.chargeMismatches.inc()
    this.options.context.emit({type: 'charge_mismatch', provider, stated, computed: computed.toString()})
    this.options.context.log(`${provider} stated a charge of ${stated} wei; the gateway computes ${computed} wei and pays that`)
  }

  /** After every verifier answered: pay who worked, dispute a rejected receipt. */
  async settle(id: string, parts: Part[], reports: VerifierReport[], state: {released: boolean}): Promise<void> {
    const {context, metrics} = this.options
    const owed = new Map<string, bigint>()
    const add = (provider: string, amount: bigint) => owed.set(provider, (owed.get(provider) ?? 0n) + amount)
    for (const r of reports) if (r.charge > 0n) add(r.verifier, r.charge)
    const finalIndex = parts.length - 1
    const final = parts[finalIndex]!
    const rejected = reports.some((r) => r.rejectedParts.includes(finalIndex))
    if (final.end) {
      if (rejected) {
        metrics.responses.inc({method: context.stream().responseMethod, outcome: state.released ? 'rejected_after_release' : 'rejected'})
        context.emit({type: 'rejected', id, provider: final.provider, released: state.released})
        context.log(`${id}: ${final.provider}'s response failed verification${state.released ? ' after it was released' : ''}; disputing it`)
        await this.options.dispute(final)
      } else {
        const computed = generationCharge(final.end.receipt.completionTokens, context.stream().pricePerKTokenGenerated)
        this.auditCharge(final.provider, final.end.charge, computed)
        add(final.provider, computed)
      }
    }
    await this.pay([...owed].filter(([, amount]) => amount > 0n))
  }

  /** Credits the providers durably (one write for all), then signs and sends each one's new cumulative voucher. */
  private pay(amounts: Array<[string, bigint]>): Promise<unknown> {
    if (amounts.length === 0) return Promise.resolve()
    this.options.book.creditMany(amounts)
    return Promise.all(
      amounts.map(([provider]) => {
        const previous = this.voucherQueues.get(provider) ?? Promise.resolve()
        const next = previous.then(() => this.deliver(provider))
        this.voucherQueues.set(provider, next)
        return next
      }),
    )
  }

  private async deliver(provider: string): Promise<void> {
    const {context, book, metrics} = this.options
    const entry = book.get(provider)
    if (entry.delivered >= entry.cumulative) return
    const signature = entry.signature ?? (await signVoucher(context.signer, context.domain, {streamId: context.streamId, provider: entry.provider, cumulativeAmount: entry.cumulative}))
    book.signed(provider, entry.cumulative, signature)
    const endpoint = this.options.pool.get(entry.provider)?.endpoint
    try {
      if (!endpoint) throw new Error('it has no endpoint')
      await this.options.calls.voucher(endpoint, {streamId: context.streamId.toString(), cumulativeAmount: entry.cumulative.toString(), signature}, 30_000)
      book.delivered(provider, entry.cumulative)
      metrics.vouchers.inc({outcome: 'delivered'})
      context.emit({type: 'voucher', provider: entry.provider, cumulative: entry.cumulative.toString(), delivered: true})
    } catch (error) {
      // Kept in the book: the next voucher to this provider carries the whole amount.
      metrics.vouchers.inc({outcome: 'failed'})
      context.emit({type: 'voucher', provider: entry.provider, cumulative: entry.cumulative.toString(), delivered: false, reason: (error as Error).message})
      context.log(`voucher of ${entry.cumulative} wei to ${entry.provider} not delivered: ${(error as Error).message}`)
    }
  }
}
