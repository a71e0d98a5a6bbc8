/**
 * Evidence: POST /v1/ogpu/evidence. A gateway that disputes a receipt pushes its evidence (the receipt, its
 * signature, the body and the tokens) to the council, whose members are drawn from the model's whole staked pool, so
 * the pusher must be the client of a stream of a model this provider holds, subscribed to it or not. The provider
 * checks the receipt's signer and keeps it, one
 * file per receipt digest, for its dispute duty (../disputes.ts).
 */
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {join} from 'node:path'

import type {TypedDataDomain} from 'ethers'

import {sendJson, toJson} from '../../../http/index.js'
import {type EvidenceCallBody, receiptDigest, recoverReceipt, toReceipt} from '../../../protocol/stream.js'
import {writeFileDurable} from '../../../storage/index.js'
import type {Admission} from './admission.js'
import {invalid, parseJson, readRequestBody} from './request.js'

/** Where evidence is kept, by receipt digest. */
export interface EvidenceStore {
  put(digest: string, evidence: EvidenceCallBody): void
  get(digest: string): EvidenceCallBody | undefined
}

/** Evidence pushed to this provider for a receipt digest, if any. */
export function storedEvidence(evidenceDir: string, digest: string): EvidenceCallBody | undefined {
  const file = join(evidenceDir, `${digest.toLowerCase()}.json`)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as EvidenceCallBody
}

/** Evidence files in `dir` (created, 0700), written durably. */
export function evidenceDirectory(dir: string): EvidenceStore {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  return {
    put: (digest, evidence) => writeFileDurable(dir, `${digest.toLowerCase()}.json`, toJson(evidence)),
    get: (digest) => storedEvidence(dir, digest),
  }
}

export interface EvidencePorts {
  domain: TypedDataDomain
  admission: Admission
  store: EvidenceStore
  /** Largest evidence body, bytes. */
  maxBodyBytes: number
}

export class EvidenceIntake {
  constructor(private readonly ports: EvidencePorts) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const {admission, domain} = this.ports
    admission.checkHeaders(req.headers) // before a byte of the body is read
    const raw = await readRequestBody(req, this.ports.maxBodyBytes)
    admission.authOf(req.headers, raw)
    const {stream, accept} = await admission.admit(req.headers, raw, {billable: false, subscribed: false})
    const call = parseJson(raw) as Partial<EvidenceCallBody>
    const r = call.receipt
    if (!r || typeof r !== 'object' || typeof r.streamId !== 'string' || typeof r.requestId !== 'string' || typeof r.responseHash !== 'string' || !Number.isInteger(r.promptTokens) || !Number.isInteger(r.completionTokens))
      throw invalid('receipt must be {streamId, requestId, responseHash, promptTokens, completionTokens}.', 'receipt')
    if (r.streamId !== stream.id.toString()) throw invalid(`receipt.streamId ${r.streamId} is not the signed stream ${stream.id}.`, 'receipt')
    if (typeof call.signature !== 'string' || typeof call.provider !== 'string' || typeof call.body !== 'string' || !Array.isArray(call.tokens))
      throw invalid('evidence needs signature, provider, body and tokens.', 'body')
    const receipt = toReceipt(r)
    let signer: string
    try {
      signer = recoverReceipt(domain, receipt, call.signature)
    } catch {
      throw invalid('The receipt signature is malformed.', 'signature')
    }
    if (signer.toLowerCase() !== call.provider.toLowerCase()) throw invalid(`The receipt is signed by ${signer}, not by ${call.provider}.`, 'signature')
    const digest = receiptDigest(domain, receipt)
    accept()()
    this.ports.store.put(digest, {receipt: r, signature: call.signature, provider: signer, body: call.body, tokens: call.tokens})
    sendJson(res, 200, {digest, stored: true})
  }
}
