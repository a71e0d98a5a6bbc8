/**
 * Generate and failover: one whole response from the stream's subscribers. The best live generator streams it; one
 * that fails before its first token is replaced, one that dies mid-stream is resumed by another (ogpu.resumeTokens:
 * greedy decoding makes the continuation exact), and a receipt that does not sign exactly what was streamed leaves
 * its part unpaid and is resumed after. A caller's fault (the provider's 400/413 about the body) goes back to the caller.
 */
import {getAddress} from 'ethers'

import {isOgpuError} from '../errors/index.js'
import {bodyHashOf, newRequestId, type OgpuResponseEnd, recoverReceipt, responseHashOf, toReceipt} from '../protocol/stream.js'
import {gatewayError, maxTokensOf} from './caller.js'
import type {Part, StreamContext} from './context.js'
import type {GatewayMetrics} from './metrics.js'
import type {SubscriberPool} from './pool.js'
import {ProviderCallError, type ProviderCalls, type Route} from './provider-client.js'

export interface GenerateOptions {
  context: StreamContext
  pool: Pick<SubscriberPool, 'chooseGenerator' | 'begin' | 'succeeded' | 'failed'>
  metrics: Pick<GatewayMetrics, 'failovers'>
  calls: Pick<ProviderCalls, 'generate'>
  /** Longest wait for a generator's first byte, ms. Defaults to 30,000. */
  firstByteTimeoutMs?: number
  /** Longest gap between two tokens, ms. Defaults to 30,000. */
  idleTimeoutMs?: number
}

export interface GenerateRequest {
  /** The response id (events and logs). */
  id: string
  route: Route
  /** The caller's body with `stream: true`. */
  base: Record<string, unknown>
  /** Providers not to generate with (rejected in an earlier round). */
  exclude: ReadonlySet<string>
  /** Each streamed piece, as it arrives. */
  onText: (text: string, tokens: number[]) => void
  signal?: AbortSignal
}

export class ResponseGenerator {
  constructor(private readonly options: GenerateOptions) {}

  /** Generates one whole response: its parts in order, the last one with a good receipt. */
  async generate(request: GenerateRequest): Promise<Part[]> {
    const {context, pool, metrics} = this.options
    const {id, route, base, signal} = request
    const parts: Part[] = []
    const tried = new Set(request.exclude)
    let lastError = 'no live subscriber left to generate'
    for (;;) {
      if (signal?.aborted) throw gatewayError(499, 'cancelled', 'The caller cancelled the request.')
      const generator = pool.chooseGenerator(tried)
      if (!generator) {
        const fault = parts.length > 0 ? `the response broke off after ${parts.flatMap((p) => p.tokens).length} tokens and no subscriber could resume it` : 'no subscriber could generate it'
        throw gatewayError(503, 'no_generator', `Stream ${context.streamId}: ${fault} (last error: ${lastError}).`)
      }
      tried.add(generator.address)
      const resumeTokens = parts.flatMap((p) => p.tokens)
      const body = JSON.stringify(resumeTokens.length > 0 ? {...base, ogpu: {resumeTokens}} : base)
      context.emit({type: 'generator', id, provider: generator.address, part: parts.length, resumeTokens: resumeTokens.length})
      const end = pool.begin(generator.address)
      const requestId = newRequestId()
      const partTokens: number[] = []
      let partText = ''
      const started = performance.now()
      let firstAt: number | undefined
      try {
        const result = await this.options.calls.generate(
          {
            endpoint: generator.endpoint!,
            provider: generator.address,
            signer: context.signer,
            domain: context.domain,
            streamId: context.streamId,
            route,
            body,
            requestId,
            signal,
            firstByteTimeoutMs: this.options.firstByteTimeoutMs ?? 30_000,
            idleTimeoutMs: this.options.idleTimeoutMs ?? 30_000,
          },
          {
            onChunk: (text, tokens) => {
              firstAt ??= performance.now()
              partTokens.push(...tokens)
              partText += text
              request.onText(text, tokens)
            },
          },
        )
        const problem = this.checkReceipt(result.end, generator.address, body, result.requestId, result.tokens)
        if (problem) {
          // A receipt that does not sign what was streamed: the part is unpaid and unverifiable; resume after it.
          pool.failed(generator.address, problem)
          metrics.failovers.inc({kind: 'bad_receipt'})
          context.emit({type: 'failover', id, provider: generator.address, kind: 'bad_receipt', reason: problem})
          lastError = problem
          if (result.end.finishReason === 'stop' || resumeTokens.length + partTokens.length >= maxTokensOf(base)) {
            throw gatewayError(502, 'bad_receipt', `${generator.address} ended the response with a bad receipt: ${problem}.`)
          }
          parts.push({provider: generator.address, endpoint: generator.endpoint!, body, requestId: result.requestId, tokens: partTokens, text: partText, end: null})
          continue
        }
        pool.succeeded(generator.address, (firstAt ?? performance.now()) - started)
        parts.push({provider: generator.address, endpoint: generator.endpoint!, body, requestId: result.requestId, tokens: result.tokens, text: result.text, end: result.end})
        context.emit({type: 'generated', id, provider: generator.address, part: parts.length - 1, tokens: result.tokens.length})
        return parts
      } catch (error) {
        if (signal?.aborted) throw gatewayError(499, 'cancelled', 'The caller cancelled the request.')
        if (isOgpuError(error) && !(error instanceof ProviderCallError)) throw error
        const e = error instanceof ProviderCallError ? error : new ProviderCallError((error as Error).message)
        if (e.details.callerFault) throw gatewayError(e.details.status ?? 400, e.details.code ?? 'invalid_request', e.details.providerMessage ?? e.message)
        lastError = e.message
        pool.failed(generator.address, e.message, {down: e.details.unreachable === true})
        const kind = partTokens.length === 0 ? 'before_first_token' : 'mid_stream'
        metrics.failovers.inc({kind})
        context.emit({type: 'failover', id, provider: generator.address, kind, reason: e.message})
        context.log(`${id}: ${generator.address} failed ${kind === 'mid_stream' ? `after ${partTokens.length} tokens` : 'before its first token'}: ${e.message}`)
        if (partTokens.length > 0) parts.push({provider: generator.address, endpoint: generator.endpoint!, body, requestId, tokens: partTokens, text: partText, end: null})
      } finally {
        end()
      }
    }
  }

  /** What is wrong with a generator's receipt, or undefined when it signs exactly what was streamed. */
  private checkReceipt(end: OgpuResponseEnd, provider: string, body: string, requestId: string, tokens: number[]): string | undefined {
    try {
      const receipt = toReceipt(end.receipt)
      if (receipt.streamId !== this.options.context.streamId) return `the receipt names stream ${receipt.streamId}`
      if (receipt.requestId.toLowerCase() !== requestId.toLowerCase()) return 'the receipt names another request id'
      if (receipt.completionTokens !== tokens.length) return `the receipt counts ${receipt.completionTokens} tokens, ${tokens.length} were streamed`
      if (receipt.responseHash !== responseHashOf(bodyHashOf(body), tokens)) return 'the receipt\'s response hash is not that of the streamed tokens'
      const signer = recoverReceipt(this.options.context.domain, receipt, end.signature)
      if (signer !== getAddress(provider)) return `the receipt is signed by ${signer}`
      return undefined
    } catch (error) {
      return `the receipt cannot be read (${(error as Error).message})`
    }
  }
}
