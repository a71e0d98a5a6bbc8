/**
 * The demo's stream half: a few chat requests through the client gateway (plain OpenAI HTTP, one of them streamed),
 * and the report of what the stream did, from the chain (subscribers) and the providers' status endpoints (requests,
 * tokens, charges, vouchers).
 */
import {type AmountJson, amountJson} from '../chain/units.js'
import {ExternalError} from '../errors/index.js'
import type {DemoParty} from './report.js'

export const DEMO_PROMPTS = ['Say hello to the network.', 'What does a council check?', 'Name three uses of a GPU.'] as const

export interface DemoResponse {
  prompt: string
  streamed: boolean
  text: string
  promptTokens: number
  completionTokens: number
  /** The generator's address, when the response names it. */
  provider: string | null
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** POSTs one chat request; 503 (not enough live subscribers yet) is retried until `deadline`. */
async function chat(gatewayUrl: string, streamId: string, prompt: string, stream: boolean, deadline: number, signal?: AbortSignal): Promise<DemoResponse> {
  for (;;) {
    signal?.throwIfAborted()
    const res = await fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({model: `ogpu-stream-${streamId}`, messages: [{role: 'user', content: prompt}], max_tokens: 24, stream, ...(stream ? {stream_options: {include_usage: true}} : {})}),
      signal,
    })
    const text = await res.text()
    if (res.status === 503 && Date.now() < deadline) {
      await sleep(500)
      continue
    }
    if (!res.ok) throw new ExternalError(`The gateway answered ${res.status} to "${prompt}": ${text.slice(0, 300)}`, {code: 'DEMO_GATEWAY_FAILED'})
    return stream ? parseStreamed(prompt, text) : parseCompletion(prompt, JSON.parse(text) as Record<string, any>)
  }
}

function parseCompletion(prompt: string, body: Record<string, any>): DemoResponse {
  return {
    prompt,
    streamed: false,
    text: String(body.choices?.[0]?.message?.content ?? ''),
    promptTokens: Number(body.usage?.prompt_tokens ?? 0),
    completionTokens: Number(body.usage?.completion_tokens ?? 0),
    provider: typeof body.ogpu?.provider === 'string' ? body.ogpu.provider : null,
  }
}

function parseStreamed(prompt: string, sse: string): DemoResponse {
  let text = ''
  let usage: Record<string, any> | undefined
  let provider: string | null = null
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data:')) continue
    const data = line.slice(5).trim()
    if (!data || data === '[DONE]') continue
    const chunk = JSON.parse(data) as Record<string, any>
    text += String(chunk.choices?.[0]?.delta?.content ?? '')
    if (chunk.usage) usage = chunk.usage
    if (typeof chunk.ogpu?.provider === 'string') provider = chunk.ogpu.provider
  }
  return {prompt, streamed: true, text, promptTokens: Number(usage?.prompt_tokens ?? 0), completionTokens: Number(usage?.completion_tokens ?? 0), provider}
}

/** Sends the demo's requests one after the other (the last one streamed). */
export async function sendDemoRequests(gatewayUrl: string, streamId: string, options: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<DemoResponse[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  const responses: DemoResponse[] = []
  for (const [i, prompt] of DEMO_PROMPTS.entries()) responses.push(await chat(gatewayUrl, streamId, prompt, i === DEMO_PROMPTS.length - 1, deadline, options.signal))
  return responses
}

/** One provider's figures for the stream, from its GET /v1/ogpu/status `streams` section. */
export interface ProviderStreamFigures extends DemoParty {
  url: string
  requests: number
  verifications: number
  completionTokens: number
  charged: AmountJson
  /** The newest voucher the client signed it, or null. */
  voucher: AmountJson | null
  redeemed: AmountJson
  subscription: string | null
}

export interface StreamReport {
  streamId: string
  councilSize: number
  responseMethod: string
  subscribers: DemoParty[]
  responses: DemoResponse[]
  /** Completion tokens of the responses. */
  tokens: number
  providers: ProviderStreamFigures[]
  /** Sum of the vouchers the client signed. */
  vouchers: AmountJson
}

const big = (value: unknown): bigint => {
  try {
    return BigInt(String(value ?? '0'))
  } catch {
    return 0n
  }
}

/** Reads one provider's stream figures (null when it has none for this stream). */
export async function providerStreamFigures(party: DemoParty & {url: string}, streamId: string, signal?: AbortSignal): Promise<ProviderStreamFigures | null> {
  const res = await fetch(`${party.url}/v1/ogpu/status`, {signal: signal ?? AbortSignal.timeout(5000)})
  if (!res.ok) throw new ExternalError(`${party.url}/v1/ogpu/status answered ${res.status}.`, {code: 'DEMO_STATUS_FAILED'})
  const status = (await res.json()) as {streams?: {streams?: Record<string, Record<string, unknown>>}}
  const s = status.streams?.streams?.[streamId]
  if (!s) return null
  return {
    ...party,
    requests: Number(s.requests ?? 0),
    verifications: Number(s.verifications ?? 0),
    completionTokens: Number(s.completionTokens ?? 0),
    charged: amountJson(big(s.charged)),
    voucher: s.voucher === null || s.voucher === undefined ? null : amountJson(big(s.voucher)),
    redeemed: amountJson(big(s.redeemed)),
    subscription: typeof s.subscription === 'string' ? s.subscription : null,
  }
}

/** The stream half of the report, as lines of text. */
export function streamReportLines(report: StreamReport): string[] {
  const name = (p: DemoParty | null | string) => (typeof p === 'string' ? p : (p?.wallet ?? p?.address ?? '-'))
  return [
    `Stream ${report.streamId}: ${report.subscribers.length} subscribers (${report.subscribers.map(name).join(', ')}), council ${report.councilSize}, ${report.responseMethod}`,
    ...report.responses.map((r) => `  "${r.prompt}" → ${JSON.stringify(r.text.slice(0, 60))} (${r.completionTokens} tokens${r.streamed ? ', streamed' : ''})`),
    `  ${report.responses.length} responses, ${report.tokens} tokens; vouchers signed ${report.vouchers.value} oGPU`,
    ...report.providers.map(
      (p) => `  ${name(p)}: ${p.requests} generated, ${p.verifications} verified, charged ${p.charged.value} oGPU, voucher ${p.voucher ? `${p.voucher.value} oGPU` : '-'}`,
    ),
  ]
}
