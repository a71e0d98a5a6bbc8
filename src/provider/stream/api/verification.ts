/**
 * Verification: POST /v1/ogpu/verify. A council member sends the original body and the claimed tokens; the provider
 * checks them by prefill on its own engine (501 on endpoint backends), answers a signed Attestation and books the
 * verification's charge.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'

import type {Signer, TypedDataDomain} from 'ethers'

import {GREEDY_EPSILON, verifyCompletion, type VerifyResult} from '../../../gpu/verifier.js'
import {OGPU_ERROR_TYPE, sendError, sendJson} from '../../../http/index.js'
import {type Attestation, bodyHashOf, responseHashOf, signAttestation, verificationCharge, type VerifyCallBody, type VerifyCallResult} from '../../../protocol/stream.js'
import type {StreamLimits} from '../auth.js'
import type {StreamBackend} from '../backend.js'
import type {Admission, ApiBook} from './admission.js'
import {checkPromptSize, invalid, parseJson, parseOpenAiRequest, promptTokensOf, readRequestBody, type Route} from './request.js'

/** What a prefill check is asked: the prompt, the claimed completion, its token budget, and whether a prefix passes. */
export interface PrefillInput {
  prompt: number[]
  completion: number[]
  maxTokens: number
  allowPrefix: boolean
}

/** Checks a completion by prefill on a local backend's engine. */
export type PrefillJudge = (backend: StreamBackend, input: PrefillInput) => Promise<Pick<VerifyResult, 'ok' | 'checked' | 'firstFailure'>>

/**
 * verifyCompletion on the backend's engine. Stream output is greedy and prefill-consistent (the generator fixed its
 * near-ties to the prefill's argmax), so the tight greedy ε applies whatever the model's quantization.
 */
export const prefillJudge: PrefillJudge = (backend, input) => verifyCompletion(backend.engine!, {...input, epsilon: GREEDY_EPSILON})

export interface VerificationPorts {
  domain: TypedDataDomain
  /** Signs attestations. */
  signer: Signer
  /** The provider's address (the attestation's verifier). */
  address: string
  admission: Admission
  book: ApiBook
  limits: StreamLimits
  /** Counts verifications run. */
  onVerification: () => void
  /** Defaults to {@link prefillJudge}. */
  judge?: PrefillJudge
}

export class Verification {
  constructor(private readonly ports: VerificationPorts) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const {admission, limits} = this.ports
    admission.checkHeaders(req.headers) // before a byte of the body is read
    const raw = await readRequestBody(req, limits.maxBodyBytes)
    const auth = admission.authOf(req.headers, raw)
    const {stream, backend, accept} = await admission.admit(req.headers, raw, {billable: true})
    if (!backend.engine) {
      sendError(res, 501, 'not_implemented', `This provider generates through an endpoint backend and cannot verify by prefill.`, {type: OGPU_ERROR_TYPE})
      return
    }
    admission.checkBusy()
    const call = parseJson(raw) as Partial<VerifyCallBody>
    if (typeof call.body !== 'string') throw invalid('body must be the original request body, as a string.', 'body')
    if (!Array.isArray(call.tokens) || !call.tokens.every((t) => Number.isInteger(t))) throw invalid('tokens must be an array of token ids.', 'tokens')
    if (typeof call.requestId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(call.requestId)) throw invalid('requestId must be the original request id (32 bytes of hex).', 'requestId')
    if (call.allowPrefix !== undefined && typeof call.allowPrefix !== 'boolean') throw invalid('allowPrefix must be a boolean.', 'allowPrefix')
    // What is judged: the original body's prompt and max_tokens (resumed tokens count as prompt).
    const original = parseJson(Buffer.from(call.body, 'utf8'))
    const route: Route = Array.isArray(original.messages) ? 'chat' : 'completions'
    const request = parseOpenAiRequest(route, original, limits)
    const prompt = promptTokensOf(backend, request)
    const completionLimit = request.maxTokens - request.resumeTokens.length
    if (call.tokens.length > 0) {
      try {
        backend.tokenizer.assertTokenIds(call.tokens, 'tokens')
      } catch (error) {
        throw invalid((error as Error).message, 'tokens')
      }
    }
    checkPromptSize(limits, backend, prompt.length, Math.max(completionLimit, call.tokens.length))
    const release = this.ports.admission.reserve(stream, verificationCharge(prompt.length, call.tokens.length, stream.pricePerKTokenVerified))
    const journal = accept()
    this.ports.onVerification()
    let verdict: Awaited<ReturnType<PrefillJudge>> | undefined
    try {
      verdict = call.tokens.length === 0 ? undefined : await (this.ports.judge ?? prefillJudge)(backend, {prompt, completion: call.tokens, maxTokens: completionLimit, allowPrefix: call.allowPrefix ?? false})
    } catch (error) {
      journal()
      release()
      throw error
    }
    const valid = verdict?.ok ?? false
    const responseHash = responseHashOf(bodyHashOf(call.body), call.tokens)
    const attestation: Attestation = {streamId: stream.id, requestId: call.requestId.toLowerCase(), responseHash, valid}
    const signature = await signAttestation(this.ports.signer, this.ports.domain, attestation)
    const charge = verificationCharge(prompt.length, call.tokens.length, stream.pricePerKTokenVerified)
    journal() // with the charge: one group commit
    this.ports.book.appendSoon({t: 'charge', streamId: stream.id.toString(), requestId: auth.requestId, kind: 'verification', promptTokens: prompt.length, completionTokens: call.tokens.length, amount: charge.toString(), at: Date.now()})
    release() // booked: the charge is in the unpaid amount now
    const f = verdict?.firstFailure
    const result: VerifyCallResult = {
      valid,
      checked: verdict?.checked ?? 0,
      firstFailure: verdict
        ? f
          ? {position: f.position, reason: f.reason, claimed: f.claimed, expected: f.expected, margin: f.margin, rank: f.rank}
          : null
        : {position: 0, reason: 'empty', claimed: null, expected: null, margin: null, rank: null},
      responseHash,
      promptTokens: prompt.length,
      attestation: {streamId: stream.id.toString(), requestId: attestation.requestId, responseHash, valid},
      signature,
      verifier: this.ports.address,
      charge: charge.toString(),
    }
    sendJson(res, 200, result)
  }
}
