/**
 * Verify and release: c − 1 other live subscribers verify every part of a response by prefill; their signed
 * attestations feed the stream's release gate (./release.ts). A verifier whose attestation does not name this
 * response, or that cannot be reached, abstains.
 */
import {getAddress} from 'ethers'

import {bodyHashOf, recoverAttestation, responseHashOf, verificationCharge} from '../protocol/stream.js'
import type {Part, StreamContext} from './context.js'
import type {GatewayMetrics} from './metrics.js'
import type {SubscriberPool} from './pool.js'
import {ProviderCallError, type ProviderCalls} from './provider-client.js'
import type {ReleaseGate} from './release.js'

/** One verifier's answer on a response. */
export interface VerifierReport {
  verifier: string
  outcome: 'approved' | 'rejected' | 'abstained'
  reason?: string
  /** Charges of the attestations it signed, wei. */
  charge: bigint
  /** Parts it rejected (indexes). */
  rejectedParts: number[]
}

export interface VerifyOptions {
  context: StreamContext
  pool: Pick<SubscriberPool, 'chooseVerifiers' | 'begin' | 'succeeded' | 'failed'>
  metrics: Pick<GatewayMetrics, 'verifications'>
  calls: Pick<ProviderCalls, 'verify'>
  /** Compares a charge a provider stated with the gateway's own. */
  auditCharge: (provider: string, stated: string, computed: bigint) => void
  /** Longest wait for one verification, ms. Defaults to 120,000. */
  verifyTimeoutMs?: number
}

export interface Verification {
  /** Settles when the release gate decides (or every verifier answered without a decision: fail). */
  decided: Promise<'release' | 'fail'>
  /** Settles when every verifier answered. */
  settled: Promise<VerifierReport[]>
}

export class ResponseVerifier {
  constructor(private readonly options: VerifyOptions) {}

  /** Asks the gate's number of verifiers (other than the response's generators) to verify every part. */
  verify(id: string, parts: Part[], gate: ReleaseGate): Verification {
    const {context, metrics} = this.options
    const generators = new Set(parts.map((p) => p.provider))
    const verifiers = this.options.pool.chooseVerifiers(gate.verifiers, generators)
    let decide!: (d: 'release' | 'fail') => void
    const decided = new Promise<'release' | 'fail'>((resolve) => (decide = resolve))
    const after = (d: ReturnType<ReleaseGate['decision']>) => {
      if (d !== 'wait') decide(d)
      else if (gate.settled) decide('fail')
    }
    for (let i = verifiers.length; i < gate.verifiers; i++) {
      metrics.verifications.inc({outcome: 'abstained'})
      context.emit({type: 'verdict', id, verifier: '', outcome: 'abstained', reason: 'not enough live subscribers to verify'})
      gate.abstain()
    }
    after(gate.decision())
    const settled = Promise.all(
      verifiers.map(async (v) => {
        const report = await this.verifyWith(v.address, v.endpoint!, parts)
        metrics.verifications.inc({outcome: report.outcome})
        context.emit({type: 'verdict', id, verifier: v.address, outcome: report.outcome, ...(report.reason ? {reason: report.reason} : {})})
        after(report.outcome === 'approved' ? gate.approve() : report.outcome === 'rejected' ? gate.reject() : gate.abstain())
        return report
      }),
    )
    return {decided, settled}
  }

  private async verifyWith(verifier: string, endpoint: string, parts: Part[]): Promise<VerifierReport> {
    const {context, pool} = this.options
    const report: VerifierReport = {verifier, outcome: 'approved', charge: 0n, rejectedParts: []}
    const done = pool.begin(verifier)
    try {
      for (const [index, part] of parts.entries()) {
        const requestId = part.requestId
        const result = await this.options.calls.verify({
          endpoint,
          provider: verifier,
          signer: context.signer,
          domain: context.domain,
          streamId: context.streamId,
          request: {body: part.body, tokens: part.tokens, requestId, ...(part.end ? {} : {allowPrefix: true})},
          timeoutMs: this.options.verifyTimeoutMs ?? 120_000,
        })
        const expected = responseHashOf(bodyHashOf(part.body), part.tokens)
        const attestation = {streamId: BigInt(result.attestation.streamId), requestId: result.attestation.requestId, responseHash: result.attestation.responseHash, valid: result.attestation.valid}
        let signer: string | undefined
        try {
          signer = recoverAttestation(context.domain, attestation, result.signature)
        } catch {
          signer = undefined
        }
        if (signer !== getAddress(verifier) || attestation.streamId !== context.streamId || attestation.responseHash !== expected || attestation.requestId.toLowerCase() !== requestId.toLowerCase() || attestation.valid !== result.valid)
          return {...report, outcome: 'abstained', reason: 'its attestation is not signed by it or does not name this response'}
        const computed = verificationCharge(result.promptTokens, part.tokens.length, context.stream().pricePerKTokenVerified)
        this.options.auditCharge(verifier, result.charge, computed)
        report.charge += computed
        if (!result.valid) {
          report.outcome = 'rejected'
          report.rejectedParts.push(index)
          const f = result.firstFailure
          report.reason = f ? `part ${index}: token ${f.position} ${f.reason}` : `part ${index} is invalid`
        }
      }
      pool.succeeded(verifier)
      return report
    } catch (error) {
      pool.failed(verifier, (error as Error).message, {down: error instanceof ProviderCallError && error.details.unreachable === true})
      return {...report, outcome: 'abstained', reason: (error as Error).message}
    } finally {
      done()
    }
  }
}
