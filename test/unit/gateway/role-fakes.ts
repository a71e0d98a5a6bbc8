/**
 * Fakes for the gateway's roles: providers as wallets behind fake endpoints that generate a fixed greedy answer (and
 * resume it), verify, take vouchers and evidence, each scripted to misbehave; a real SubscriberPool over them with a
 * fake health probe; the events and logs the roles report.
 */
import {Wallet} from 'ethers'

import {ogpuDomain} from '../../../src/protocol/eip712.js'
import {type Attestation, bodyHashOf, generationCharge, type OgpuResponseEnd, type Receipt, responseHashOf, signAttestation, signReceipt, verificationCharge, type VerifyCallResult} from '../../../src/protocol/stream.js'
import type {StreamInfo} from '../../../src/stream/chain.js'
import type {GatewayEvent, StreamContext} from '../../../src/gateway/context.js'
import {GatewayMetrics} from '../../../src/gateway/metrics.js'
import {SubscriberPool} from '../../../src/gateway/pool.js'
import {ProviderCallError, type ProviderCalls} from '../../../src/gateway/provider-client.js'

export const domain = ogpuDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
export const client = new Wallet('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a')
export const providers = [
  new Wallet('0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'),
  new Wallet('0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a'),
  new Wallet('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'),
]
/** The model's greedy answer to every prompt (0 ends it). */
export const ANSWER = [10, 11, 12, 0]
export const PROMPT_TOKENS = 5

export function streamOf(overrides: Partial<StreamInfo> = {}): StreamInfo {
  return {
    id: 1n,
    client: client.address,
    status: 'active',
    modelHash: `0x${'ab'.repeat(32)}`,
    specHash: `0x${'00'.repeat(32)}`,
    specUri: '',
    pricePerKTokenGenerated: 10n ** 18n,
    pricePerKTokenVerified: 10n ** 17n,
    councilSize: 3,
    responseMethod: 'unanimous',
    weightBps: 0,
    collateral: 0n,
    maxDowntime: 60,
    unsubscribeNotice: 5,
    closeNotice: 5,
    commitWindow: 8,
    revealWindow: 8,
    disputeBond: 0n,
    ...overrides,
  } as StreamInfo
}

export type GenerateScript = 'ok' | 'down' | 'die_after_1' | 'bad_receipt' | 'caller_fault'
export type VerifyScript = 'approve' | 'reject' | 'forge' | 'down'

export const endpointOf = (w: Wallet) => `http://${w.address.toLowerCase()}.test`
const walletAt = (endpoint: string) => providers.find((w) => endpointOf(w) === endpoint)!

/** Receipt end of a response of `tokens` to `body` by `wallet`. */
export async function endOf(wallet: Wallet, body: string, requestId: string, tokens: number[], resumed: number): Promise<OgpuResponseEnd> {
  const receipt: Receipt = {streamId: 1n, requestId, responseHash: responseHashOf(bodyHashOf(body), tokens), promptTokens: PROMPT_TOKENS + resumed, completionTokens: tokens.length}
  return {
    provider: wallet.address,
    receipt: {streamId: '1', requestId, responseHash: receipt.responseHash, promptTokens: receipt.promptTokens, completionTokens: tokens.length},
    signature: await signReceipt(wallet, domain, receipt),
    charge: generationCharge(tokens.length, 10n ** 18n).toString(),
    finishReason: tokens.at(-1) === 0 ? 'stop' : 'length',
  }
}

export interface FakeNetwork {
  calls: ProviderCalls
  generateScripts: Map<string, GenerateScript>
  verifyScripts: Map<string, VerifyScript>
  /** Bodies each provider was asked to generate. */
  bodies: Array<{provider: string; body: string}>
  vouchers: Array<{endpoint: string; cumulativeAmount: string}>
  evidence: Array<{endpoint: string; digest?: string}>
  /** Endpoints that refuse vouchers. */
  refuseVouchers: Set<string>
}

export function fakeNetwork(): FakeNetwork {
  const net: FakeNetwork = {
    generateScripts: new Map(),
    verifyScripts: new Map(),
    bodies: [],
    vouchers: [],
    evidence: [],
    refuseVouchers: new Set(),
    calls: {
      async generate(call, handlers) {
        const wallet = walletAt(call.endpoint)
        net.bodies.push({provider: wallet.address, body: call.body})
        const script = net.generateScripts.get(wallet.address) ?? 'ok'
        if (script === 'down') throw new ProviderCallError(`${call.endpoint} failed: ECONNREFUSED`, {unreachable: true})
        if (script === 'caller_fault')
          throw new ProviderCallError(`${call.endpoint}/v1/chat/completions answered 400 invalid_request: temperature must be 0 or absent.`, {status: 400, code: 'invalid_request', providerMessage: 'temperature must be 0 or absent.', callerFault: true})
        const resumed = ((JSON.parse(call.body) as {ogpu?: {resumeTokens?: number[]}}).ogpu?.resumeTokens ?? []).length
        const tokens = ANSWER.slice(resumed)
        for (const [i, token] of tokens.entries()) {
          if (script === 'die_after_1' && i === 1) throw new ProviderCallError(`${call.endpoint} failed: ECONNRESET`, {unreachable: true})
          handlers.onChunk(token === 0 ? '' : String.fromCharCode(token + 87), [token])
        }
        const end = await endOf(wallet, call.body, call.requestId, tokens, resumed)
        if (script === 'bad_receipt') end.receipt.completionTokens += 1
        return {requestId: call.requestId, tokens, text: tokens.filter((t) => t !== 0).map((t) => String.fromCharCode(t + 87)).join(''), end}
      },
      async verify(call): Promise<VerifyCallResult> {
        const wallet = walletAt(call.endpoint)
        const script = net.verifyScripts.get(wallet.address) ?? 'approve'
        if (script === 'down') throw new ProviderCallError(`${call.endpoint} failed: ETIMEDOUT`, {unreachable: true})
        const valid = script !== 'reject'
        const responseHash = responseHashOf(bodyHashOf(call.request.body), call.request.tokens)
        const attestation: Attestation = {streamId: 1n, requestId: call.request.requestId, responseHash, valid}
        const signer = script === 'forge' ? Wallet.createRandom() : wallet
        return {
          valid,
          checked: call.request.tokens.length,
          firstFailure: valid ? null : {position: 1, reason: 'token', claimed: 11, expected: 12, margin: 0.1, rank: 2},
          responseHash,
          promptTokens: PROMPT_TOKENS,
          attestation: {streamId: '1', requestId: call.request.requestId, responseHash, valid},
          signature: await signAttestation(signer, domain, attestation),
          verifier: wallet.address,
          charge: verificationCharge(PROMPT_TOKENS, call.request.tokens.length, 10n ** 17n).toString(),
        }
      },
      async voucher(endpoint, voucher) {
        if (net.refuseVouchers.has(endpoint)) throw new ProviderCallError(`${endpoint}/v1/ogpu/vouchers failed: ECONNREFUSED`, {unreachable: true})
        net.vouchers.push({endpoint, cumulativeAmount: voucher.cumulativeAmount})
        return {}
      },
      async evidence(call) {
        net.evidence.push({endpoint: call.endpoint})
        return {stored: true}
      },
    },
  }
  return net
}

/** A real pool over the fake providers (all live unless `down` lists them). */
export async function poolOf(wallets: Wallet[] = providers, down: Wallet[] = []): Promise<SubscriberPool> {
  const pool = new SubscriberPool({
    list: async () => wallets.map((w) => ({address: w.address, endpoint: endpointOf(w)})),
    probe: async (endpoint) => (down.some((w) => endpointOf(w) === endpoint) ? {ok: false, latencyMs: 1, reason: 'down'} : {ok: true, latencyMs: 1}),
  })
  await pool.refresh()
  return pool
}

export const metricsOf = () => new GatewayMetrics({liveSubscribers: () => 0, subscribers: () => 0, councilSize: () => 0, owed: () => 0n, inflight: () => 0})

export function contextOf(stream: StreamInfo = streamOf()): StreamContext & {events: GatewayEvent[]; logs: string[]} {
  const events: GatewayEvent[] = []
  const logs: string[] = []
  return {streamId: 1n, signer: client, domain, stream: () => stream, emit: (e) => events.push(e), log: (l) => logs.push(l), events, logs}
}
