/**
 * Fakes for the roles of the provider's stream API: a backend with a tiny tokenizer (one token per ASCII character,
 * token 0 ends a generation), an in-memory stream book, a stream lookup, and the API served on a real port.
 */
import {createServer, type Server} from 'node:http'

import {Wallet} from 'ethers'

import type {InferenceEngine} from '../../../src/gpu/engine.js'
import {listen} from '../../../src/http/index.js'
import {ogpuDomain} from '../../../src/protocol/eip712.js'
import {signedRequestHeaders} from '../../../src/protocol/stream.js'
import type {ApiBook, StreamLookup} from '../../../src/provider/stream/api/admission.js'
import {Refusal} from '../../../src/provider/stream/auth.js'
import type {StreamBackend, StreamTokenizer} from '../../../src/provider/stream/backend.js'
import {applyBookRecord, type StreamBookData, type StreamBookRecord} from '../../../src/provider/stream/book.js'
import type {StreamInfo} from '../../../src/provider/stream/market.js'
import {StreamApi, type StreamApiOptions} from '../../../src/provider/stream/openai-api.js'

export const END = 0
const codes = (text: string) => [...text].map((c) => c.charCodeAt(0) & 0x7f)

export const tinyTokenizer: StreamTokenizer = {
  vocabSize: 128,
  renderChat: (messages) => codes(messages.map((m) => `${m.role}:${m.content}`).join('\n')),
  preparePrompt: (prompt) => (typeof prompt === 'string' ? codes(prompt) : [...prompt]),
  assertTokenIds(tokens, what) {
    const bad = tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= 128)
    if (bad !== undefined) throw new Error(`${what}: ${bad} is not a token id of this model.`)
  },
  isEndOfGeneration: (token) => token === END,
  detokenize: (tokens) => String.fromCharCode(...tokens.filter((t) => t !== END)),
}

/** A backend that always answers `reply` (then ends), cut at maxTokens. `engine` makes it verify (local). */
export function fakeBackend(options: {reply?: string; sha256?: string; local?: boolean; contextSize?: number; rawPrompts?: boolean} = {}): StreamBackend & {calls: number} {
  const reply = codes(options.reply ?? 'ok!')
  const backend = {
    kind: options.local === false ? ('endpoint' as const) : ('local' as const),
    name: 'tiny',
    sha256: options.sha256 ?? 'ab'.repeat(32),
    tokenizer: tinyTokenizer,
    ...(options.local === false ? {} : {engine: {} as InferenceEngine}),
    contextSize: options.contextSize ?? 512,
    rawPrompts: options.rawPrompts ?? true,
    calls: 0,
    async generate(input: Parameters<StreamBackend['generate']>[0]) {
      backend.calls++
      const tokens = [...reply, END].slice(0, input.maxTokens)
      for (const token of tokens) input.onToken({token, text: tinyTokenizer.detokenize([token]), isEnd: token === END})
      return {tokens, finishReason: tokens.at(-1) === END ? ('eos' as const) : ('length' as const)}
    },
    dispose: async () => {},
  }
  return backend
}

/** The book in memory: every append applied at once, and kept in `records`. */
export function memoryBook(): ApiBook & {records: StreamBookRecord[]; durable: StreamBookRecord[]} {
  const state: StreamBookData = {streams: {}, seen: {}, disputes: {}}
  const records: StreamBookRecord[] = []
  const durable: StreamBookRecord[] = []
  return {
    state,
    records,
    durable,
    append(record) {
      durable.push(record)
      records.push(record)
      applyBookRecord(state, record)
    },
    appendSoon(record) {
      records.push(record)
      applyBookRecord(state, record)
    },
  }
}

export function streamOf(client: string, overrides: Partial<StreamInfo> = {}): StreamInfo {
  return {
    id: 1n,
    client,
    status: 'active',
    modelHash: 'ab'.repeat(32),
    pricePerKTokenGenerated: 10n ** 18n,
    pricePerKTokenVerified: 10n ** 17n,
    councilSize: 1,
    collateral: 0n,
    closeAt: 0,
    commitWindow: 60,
    revealWindow: 60,
    subscriberCount: 1,
    deposit: 10n ** 20n,
    subscription: 'active',
    redeemed: 0n,
    // The whole deposit reserved for this provider: its vouchers count in full unless a test says otherwise.
    surelyRedeemable: 10n ** 20n,
    ...overrides,
  }
}

export function lookupOf(streams: StreamInfo[]): StreamLookup {
  const byId = new Map(streams.map((s) => [s.id, s]))
  return {
    get: async (id) => byId.get(id) ?? streamOf('0x0000000000000000000000000000000000000000', {id, status: 'none', subscription: 'none'}),
    peek: (id) => byId.get(id),
  }
}

export const domain = ogpuDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
export const provider = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
export const client = new Wallet('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a')

export interface ServedApi {
  api: StreamApi
  url: string
  book: ReturnType<typeof memoryBook>
  /** POSTs `body` to `path`, signed by `signer` (the client by default) for stream 1 and for this provider (or `for`). */
  post(path: string, body: unknown, options?: {signer?: Wallet; stream?: bigint; headers?: Record<string, string>; requestId?: string; for?: string}): Promise<Response>
  close(): Promise<void>
}

/** The API on a real port with fakes for every port; `options` override them. */
export async function serveApi(options: Partial<StreamApiOptions> & {backend?: StreamBackend; stream?: StreamInfo} = {}): Promise<ServedApi> {
  const book = (options.book as ReturnType<typeof memoryBook> | undefined) ?? memoryBook()
  const backend = options.backend ?? fakeBackend()
  const api = new StreamApi({
    domain,
    wallet: provider,
    streams: lookupOf([options.stream ?? streamOf(client.address)]),
    book,
    backends: () => [backend],
    evidenceDir: '/nonexistent',
    evidence: {put: () => {}, get: () => undefined},
    ...options,
  })
  const server: Server = createServer((req, res) => {
    api.handle(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404).end()
      },
      (error: unknown) => res.writeHead(500).end(String(error)),
    )
  })
  const port = await listen(server, 0, '127.0.0.1')
  const url = `http://127.0.0.1:${port}`
  return {
    api,
    url,
    book,
    async post(path, body, o = {}) {
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      const signed = await signedRequestHeaders(o.signer ?? client, domain, o.stream ?? 1n, o.for ?? provider.address, text, {requestId: o.requestId})
      return fetch(`${url}${path}`, {method: 'POST', headers: {'content-type': 'application/json', ...signed.headers, ...o.headers}, body: text})
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The `data:` payloads of an SSE body (without [DONE]). */
export function sseEvents(text: string): Array<Record<string, any>> {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: ') && frame !== 'data: [DONE]')
    .map((frame) => JSON.parse(frame.slice(6)))
}

/** The Refusal `fn` throws (any other error is rethrown; no throw is an error). */
export function refusal(fn: () => unknown): Refusal {
  try {
    fn()
  } catch (error) {
    if (error instanceof Refusal) return error
    throw error
  }
  throw new Error('no refusal')
}
