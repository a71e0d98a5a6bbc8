/**
 * The stream-task wire protocol: what the client gateway and the provider agree on, off chain.
 *
 * Every message is EIP-712 typed data in the ogpu domain of the StreamMarket contract ({@link ogpuDomain} with the
 * StreamMarket address). Voucher and Receipt are the on-chain types of IStreamMarket; StreamRequest and Attestation
 * exist only off chain. docs/protocol.md ("Stream tasks on the wire") is the prose version of this file.
 */
import {AbiCoder, getAddress, hexlify, keccak256, randomBytes, type Signer, type TypedDataDomain, TypedDataEncoder, verifyTypedData} from 'ethers'

// ------------------------------------------------------------------------------------------------ typed data

/**
 * The client's signature over one request to one provider (generation or verification). It names the provider, so a
 * request replayed to another subscriber does not verify there (401): each provider charges only what was sent to it.
 */
export const STREAM_REQUEST_TYPES = {
  StreamRequest: [
    {name: 'streamId', type: 'uint256'},
    {name: 'provider', type: 'address'},
    {name: 'requestId', type: 'bytes32'},
    {name: 'bodyHash', type: 'bytes32'},
    {name: 'expiry', type: 'uint64'},
  ],
}

/** IStreamMarket's Voucher: everything the client owes `provider` on the stream so far (cumulative, in wei). */
export const VOUCHER_TYPES = {
  Voucher: [
    {name: 'streamId', type: 'uint256'},
    {name: 'provider', type: 'address'},
    {name: 'cumulativeAmount', type: 'uint256'},
  ],
}

/** IStreamMarket's Receipt: the provider's signature at the end of each response (what a dispute names). */
export const RECEIPT_TYPES = {
  Receipt: [
    {name: 'streamId', type: 'uint256'},
    {name: 'requestId', type: 'bytes32'},
    {name: 'responseHash', type: 'bytes32'},
    {name: 'promptTokens', type: 'uint32'},
    {name: 'completionTokens', type: 'uint32'},
  ],
}

/** A verifier's signed verdict on a claimed response (returned by POST /v1/ogpu/verify). */
export const ATTESTATION_TYPES = {
  Attestation: [
    {name: 'streamId', type: 'uint256'},
    {name: 'requestId', type: 'bytes32'},
    {name: 'responseHash', type: 'bytes32'},
    {name: 'valid', type: 'bool'},
  ],
}

export interface StreamRequestAuth {
  streamId: bigint
  /** The provider the request is for (checksummed). Not a header: the provider verifies with its own address. */
  provider: string
  /** 32 random bytes, hex; a provider refuses a request id it has seen before (until its expiry). */
  requestId: string
  /** keccak256 of the raw request body bytes, exactly as sent. */
  bodyHash: string
  /** Unix seconds after which the provider refuses the request. */
  expiry: number
}

export interface Voucher {
  streamId: bigint
  provider: string
  /** Total owed to `provider` on the stream, wei. Only ever grows. */
  cumulativeAmount: bigint
}

export interface Receipt {
  streamId: bigint
  requestId: string
  responseHash: string
  promptTokens: number
  completionTokens: number
}

export interface Attestation {
  streamId: bigint
  requestId: string
  responseHash: string
  valid: boolean
}

const recover = (domain: TypedDataDomain, types: Record<string, {name: string; type: string}[]>, value: object, signature: string): string =>
  getAddress(verifyTypedData(domain, types, value as Record<string, unknown>, signature))

export const signStreamRequest = (signer: Signer, domain: TypedDataDomain, auth: StreamRequestAuth): Promise<string> =>
  signer.signTypedData(domain, STREAM_REQUEST_TYPES, auth)
/** The address that signed the request; throws (ethers) on a malformed signature. */
export const recoverStreamRequest = (domain: TypedDataDomain, auth: StreamRequestAuth, signature: string): string =>
  recover(domain, STREAM_REQUEST_TYPES, auth, signature)

export const signVoucher = (signer: Signer, domain: TypedDataDomain, voucher: Voucher): Promise<string> => signer.signTypedData(domain, VOUCHER_TYPES, voucher)
export const recoverVoucher = (domain: TypedDataDomain, voucher: Voucher, signature: string): string => recover(domain, VOUCHER_TYPES, voucher, signature)

export const signReceipt = (signer: Signer, domain: TypedDataDomain, receipt: Receipt): Promise<string> => signer.signTypedData(domain, RECEIPT_TYPES, receipt)
export const recoverReceipt = (domain: TypedDataDomain, receipt: Receipt, signature: string): string => recover(domain, RECEIPT_TYPES, receipt, signature)
/** The receipt's EIP-712 digest (what the provider signs): the key of IStreamMarket.disputeOfReceipt. */
export const receiptDigest = (domain: TypedDataDomain, receipt: Receipt): string => TypedDataEncoder.hash(domain, RECEIPT_TYPES, receipt)

export const signAttestation = (signer: Signer, domain: TypedDataDomain, attestation: Attestation): Promise<string> =>
  signer.signTypedData(domain, ATTESTATION_TYPES, attestation)
export const recoverAttestation = (domain: TypedDataDomain, attestation: Attestation, signature: string): string =>
  recover(domain, ATTESTATION_TYPES, attestation, signature)

// ------------------------------------------------------------------------------------------------ hashes

/** keccak256 of the raw body bytes (a string is taken as UTF-8, as it goes on the wire). */
export function bodyHashOf(body: string | Uint8Array): string {
  return keccak256(typeof body === 'string' ? new TextEncoder().encode(body) : body)
}

/**
 * The response hash a receipt signs: keccak256(abi.encode(bytes32 bodyHash, uint32[] completionTokenIds)). It binds
 * the exact request (its body hash, which the client signed) to the exact completion tokens (the end-of-generation
 * token included when the model ended the response), which is what verification by prefill checks.
 */
export function responseHashOf(bodyHash: string, completionTokens: readonly number[]): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint32[]'], [bodyHash, completionTokens]))
}

export const newRequestId = (): string => hexlify(randomBytes(32))

// ------------------------------------------------------------------------------------------------ prices

/**
 * What a generation costs, wei: ceil(completionTokens × pricePerKTokenGenerated / 1000). The prompt is not charged
 * on a generation (it is on a verification). Gateway and provider both compute charges with these two functions, so
 * their books agree to the wei.
 */
export function generationCharge(completionTokens: number, pricePerKTokenGenerated: bigint): bigint {
  return ceilDiv(BigInt(completionTokens) * pricePerKTokenGenerated, 1000n)
}

/** What a verification by prefill costs, wei: ceil((promptTokens + completionTokens) × pricePerKTokenVerified / 1000). */
export function verificationCharge(promptTokens: number, completionTokens: number, pricePerKTokenVerified: bigint): bigint {
  return ceilDiv(BigInt(promptTokens + completionTokens) * pricePerKTokenVerified, 1000n)
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n)

// ------------------------------------------------------------------------------------------------ HTTP

/** Request headers that carry the client's signature (lower case, as Node's http module gives them). */
export const STREAM_HEADERS = {
  streamId: 'ogpu-stream-id',
  requestId: 'ogpu-request-id',
  expiry: 'ogpu-expiry',
  signature: 'ogpu-signature',
} as const

/** Longest a request may be valid for, seconds: a provider refuses an expiry further ahead (and keeps request ids this long). */
export const MAX_REQUEST_TTL = 300

/** The headers of a signed request for `body` to `provider` (what the gateway sends with every POST to a provider). */
export async function signedRequestHeaders(
  signer: Signer,
  domain: TypedDataDomain,
  streamId: bigint,
  provider: string,
  body: string,
  options: {requestId?: string; ttlSeconds?: number; now?: number} = {},
): Promise<{headers: Record<string, string>; auth: StreamRequestAuth}> {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const auth: StreamRequestAuth = {
    streamId,
    provider: getAddress(provider),
    requestId: options.requestId ?? newRequestId(),
    bodyHash: bodyHashOf(body),
    expiry: now + (options.ttlSeconds ?? 60),
  }
  const signature = await signStreamRequest(signer, domain, auth)
  return {
    auth,
    headers: {
      [STREAM_HEADERS.streamId]: auth.streamId.toString(),
      [STREAM_HEADERS.requestId]: auth.requestId,
      [STREAM_HEADERS.expiry]: String(auth.expiry),
      [STREAM_HEADERS.signature]: signature,
    },
  }
}

/**
 * Why a provider refuses a request, with the HTTP status it answers. The body is OpenAI's error shape:
 * `{"error": {"message", "type": "ogpu_error", "code"}}`. Every refusal happens before any GPU time is spent.
 */
export const REFUSALS = {
  unsigned: 401, // a signature header is missing
  bad_signature: 401, // malformed, not the stream's client, or signed for another provider
  expired: 401, // expiry in the past, or more than MAX_REQUEST_TTL ahead
  body_mismatch: 401, // the body's hash is not the signed bodyHash (covered by bad_signature in practice)
  over_credit: 402, // the client's unpaid charges with this provider exceed its credit limit
  not_subscribed: 403, // this provider does not serve the stream (or the stream is closed)
  unknown_stream: 404,
  replayed: 409, // the request id was seen before
  too_large: 413, // body bytes over the limit
  context_length_exceeded: 400, // prompt tokens or max_tokens over the provider's limits or the model's context (OpenAI's code)
  rate_limited: 429, // requests per second of the client over the limit
  invalid_request: 400, // a body that is not a valid OpenAI request
  unsupported_parameter: 400, // an OpenAI parameter ogpu does not honour yet (src/protocol/openai-params.ts)
  unsupported_value: 400, // a value of one that ogpu does not honour yet (e.g. response_format json_schema)
  busy: 503, // the provider is shutting down or cannot take more work
} as const
export type RefusalCode = keyof typeof REFUSALS

export interface OpenAiError {
  error: {message: string; type: string; code: string; param?: string | null}
}

export const refusalBody = (code: RefusalCode | string, message: string): OpenAiError => ({error: {message, type: 'ogpu_error', code}})

// ------------------------------------------------------------------------------------------------ body and response extensions

// ogpu's extensions of OpenAI bodies (other servers ignore them):
//   - request `ogpu.resumeTokens` (number[], optional): completion token ids some earlier generator already produced;
//     the provider appends them to the prompt and generates the rest (greedy decoding makes the continuation exact).
//     `max_tokens` stays the request's total, resumed tokens included.
//   - every streamed chunk `ogpu.tokens` (number[]): the token ids of this chunk's text (one chunk per token).

/**
 * The end of a response: on SSE, one last chunk before `data: [DONE]` with `choices: []`, `usage`, and this under
 * `ogpu`; on a non-streamed response, the same object under `ogpu` of the completion JSON (with `tokens`, the whole
 * completion's ids). `receipt.completionTokens` counts only the tokens this provider generated (not resumed ones).
 */
export interface OgpuResponseEnd {
  provider: string
  receipt: {streamId: string; requestId: string; responseHash: string; promptTokens: number; completionTokens: number}
  signature: string
  /** What this response costs the client, wei (decimal string): {@link generationCharge}. */
  charge: string
  finishReason: 'stop' | 'length'
  /** Non-streamed responses only: every completion token id. */
  tokens?: number[]
}

/** POST /v1/ogpu/verify: body. Signed like a generation request. */
export interface VerifyCallBody {
  /** The original request body, exactly as sent to the generator (its hash is the receipt's bodyHash). */
  body: string
  /** The claimed completion token ids (resumed ones included, end-of-generation token included when it ended). */
  tokens: number[]
  /** The original request's id (goes into the attestation). */
  requestId: string
  /** Accept a completion that has not ended yet (a prefix, e.g. a response cut mid-stream). Defaults to false. */
  allowPrefix?: boolean
}

/** POST /v1/ogpu/verify: answer. */
export interface VerifyCallResult {
  valid: boolean
  checked: number
  /** Earliest failing position and why, when not valid. */
  firstFailure: {position: number; reason: string; claimed: number | null; expected: number | null; margin: number | null; rank: number | null} | null
  responseHash: string
  promptTokens: number
  attestation: {streamId: string; requestId: string; responseHash: string; valid: boolean}
  signature: string
  verifier: string
  /** What this verification costs the client, wei (decimal string): {@link verificationCharge}. */
  charge: string
}

/** POST /v1/ogpu/vouchers: body (the signature authenticates it; no request headers needed). */
export interface VoucherCallBody {
  streamId: string
  cumulativeAmount: string
  signature: string
}

/** POST /v1/ogpu/evidence: body (signed like a request): what the council of a dispute checks. */
export interface EvidenceCallBody {
  receipt: OgpuResponseEnd['receipt']
  signature: string
  provider: string
  body: string
  tokens: number[]
}

export function toReceipt(r: OgpuResponseEnd['receipt']): Receipt {
  return {streamId: BigInt(r.streamId), requestId: r.requestId, responseHash: r.responseHash, promptTokens: r.promptTokens, completionTokens: r.completionTokens}
}

export function fromReceipt(r: Receipt): OgpuResponseEnd['receipt'] {
  return {streamId: r.streamId.toString(), requestId: r.requestId, responseHash: r.responseHash, promptTokens: r.promptTokens, completionTokens: r.completionTokens}
}
