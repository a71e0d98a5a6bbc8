/**
 * The Streams pane: its source (StreamMarket streams joined with the subscribers' status endpoints, rates between
 * reads, health against the council size), the providers' `streams` status section, and the pane in the Ink app
 * (ink-testing-library, 80×24) with rows, tones and full screen.
 */
import chalk from 'chalk'
import {cleanup, render} from 'ink-testing-library'
import {createElement} from 'react'
import {afterEach, describe, expect, it} from 'vitest'

import {streamLine} from '../../../src/dashboard/plain.js'
import {parseProviderStatus, type ProviderStatusResult} from '../../../src/dashboard/provider-status.js'
import {createStreamSource, initialStreamsView, type MarketStream, readStreams, streamHealth, type StreamSourcePorts} from '../../../src/dashboard/streams.js'
import {App} from '../../../src/tui/app.js'
import {streamPaneLines} from '../../../src/tui/lines.js'
import {waitFor} from '../../helpers/cli.js'
import {addr, fakePorts, makeMarket, makeTask, oGPU} from './fixtures.js'
import {FakeMarket} from './fixtures.js'

const chalkLevel = chalk.level
afterEach(() => {
  cleanup()
  chalk.level = chalkLevel
})

const MARKET = addr(93)

function stream(id: number, options: Partial<MarketStream> = {}): MarketStream {
  return {
    id: BigInt(id),
    client: addr(1),
    status: 'active',
    modelHash: `0x${'d7'.repeat(32)}`,
    specHash: `0x${id.toString(16).padStart(64, '0')}`,
    specUri: `data:,stream-${id}`,
    pricePerKTokenGenerated: oGPU('0.02'),
    pricePerKTokenVerified: oGPU('0.005'),
    councilSize: 2,
    responseMethod: 'weighted',
    deposit: oGPU(50),
    subscriberCount: 3,
    openDisputes: 0,
    ...options,
  }
}

const live = (streams: Record<string, {requests: number; completionTokens: number; charged: bigint}>): ProviderStatusResult =>
  parseProviderStatus({streams: {api: {}, streams: Object.fromEntries(Object.entries(streams).map(([id, s]) => [id, {...s, verifications: 0, charged: s.charged.toString(), voucher: null}]))}})

/** A market of streams and daemons in memory; `clock` and the daemons' counters move between reads. */
function fakeStreamPorts(streams: MarketStream[], subscribers: Record<string, string[]>) {
  const statuses = new Map<string, ProviderStatusResult>()
  const calls = {endpoint: 0, status: 0}
  const clock = {ms: 1_000_000}
  const ports: StreamSourcePorts = {
    address: MARKET,
    listStreams: async (limit) => streams.slice(0, limit),
    subscribersOf: async (id) => subscribers[id.toString()] ?? [],
    endpointOf: async (address) => {
      calls.endpoint++
      return `http://${address}.example`
    },
    fetchStatus: async (endpoint) => {
      calls.status++
      return statuses.get(endpoint.slice(7, -8)) ?? {reachable: false, error: 'ECONNREFUSED'}
    },
    now: () => clock.ms,
  }
  return {ports, statuses, calls, clock}
}

describe('the streams source', () => {
  it('joins the market with the subscribers: live count, health, requests, spend; rates from the second read on', async () => {
    const [p1, p2, p3] = [addr(20), addr(21), addr(22)]
    const {ports, statuses, calls, clock} = fakeStreamPorts([stream(2, {subscriberCount: 1, councilSize: 2}), stream(1)], {'1': [p1, p2, p3], '2': [p3]})
    statuses.set(p1, live({'1': {requests: 4, completionTokens: 100, charged: oGPU('0.002')}}))
    statuses.set(p2, live({'1': {requests: 1, completionTokens: 50, charged: oGPU('0.001')}}))
    const source = createStreamSource(ports)

    const [s2, s1] = await source.list()
    expect(s1).toMatchObject({id: 1, model: 'd7d7d7d7', method: 'weighted', subscribers: 3, councilSize: 2, live: 2, health: 'ok', requests: 5, spend: oGPU('0.003').toString()})
    expect(s1!.requestsPerSecond).toBeNull() // one read: no rate yet
    expect(s2).toMatchObject({id: 2, live: 0, health: 'down', requests: null, spend: null})
    expect(calls.status).toBe(3) // one status read per daemon, not per stream

    clock.ms += 2000
    statuses.set(p1, live({'1': {requests: 8, completionTokens: 180, charged: oGPU('0.004')}}))
    const [, again] = await source.list()
    expect(again).toMatchObject({requests: 9, requestsPerSecond: 2, tokensPerSecond: 40})
    expect(calls.endpoint).toBe(3) // endpoints are remembered

    // A read less than a second later repeats the last rates (none computed over a few milliseconds), and the next
    // rate is measured from the older base.
    clock.ms += 10
    statuses.set(p1, live({'1': {requests: 10, completionTokens: 200, charged: oGPU('0.005')}}))
    const [, soon] = await source.list()
    expect(soon).toMatchObject({requests: 11, requestsPerSecond: 2, tokensPerSecond: 40})
    clock.ms += 990
    const [, later] = await source.list()
    expect(later).toMatchObject({requestsPerSecond: (11 - 9) / 1, tokensPerSecond: (250 - 230) / 1})
  })

  it('names the model from the published terms when they can be read', async () => {
    const {ports} = fakeStreamPorts([stream(1)], {'1': []})
    const requested: string[] = []
    ports.specs = {
      request: (refs) => requested.push(...[...refs].map((r) => r.specUri)),
      get: () => ({state: 'ok', modelName: 'ogpu-tiny-synthetic', maxTokens: null}),
    }
    const [row] = await createStreamSource(ports).list()
    expect(requested).toEqual(['data:,stream-1'])
    expect(row).toMatchObject({model: 'ogpu-tiny-synthetic', live: null, health: 'down'})
  })

  it('health: ok with c live, degraded with fewer, down with none; closed streams are not judged', () => {
    expect(streamHealth('active', 3, 2, 2)).toBe('ok')
    expect(streamHealth('active', 3, 1, 2)).toBe('degraded')
    expect(streamHealth('closing', 3, 0, 2)).toBe('down')
    expect(streamHealth('active', 0, 0, 2)).toBe('down')
    expect(streamHealth('closed', 0, 0, 2)).toBe('unknown')
  })

  it('keeps the last rows with the error when a read fails', async () => {
    const {ports} = fakeStreamPorts([stream(1)], {'1': []})
    const source = createStreamSource(ports)
    const first = await readStreams(source)
    ports.listStreams = async () => {
      throw new Error('RPC down')
    }
    const second = await readStreams(source, first)
    expect(second).toMatchObject({kind: 'live', error: 'RPC down', streams: [{id: 1}]})
    expect(streamPaneLines(second)[0]).toEqual({text: 'stale (RPC down)', tone: 'warn'})
  })
})

describe("the providers' streams section", () => {
  it('reads requests, tokens, charges and vouchers per stream, and ignores what it does not understand', () => {
    const status = parseProviderStatus({
      streams: {api: {generations: 3}, streams: {'7': {requests: 2, verifications: 1, completionTokens: 40, charged: '1200', voucher: '1000'}, bad: {requests: 1}, '8': 'nonsense'}},
    })
    expect(status.streams).toEqual({'7': {requests: 2, verifications: 1, completionTokens: 40, charged: '1200', voucher: '1000'}})
    expect(parseProviderStatus({}).streams).toBeNull()
  })
})

describe('the streams pane (ink, 80×24)', () => {
  const plain = (text: string): string => text.replace(/\u001B\[[0-9;]*m/g, '')

  it('shows one line per stream with terms, subscribers vs council, health, rates and spend, coloured by health', async () => {
    const [p1, p2] = [addr(20), addr(21)]
    const {ports: streamPorts, statuses, clock} = fakeStreamPorts([stream(2, {councilSize: 3, subscriberCount: 2}), stream(1, {subscriberCount: 2})], {'1': [p1, p2], '2': [p1, p2]})
    statuses.set(p1, live({'1': {requests: 3, completionTokens: 60, charged: oGPU('0.0012')}}))
    statuses.set(p2, live({}))
    const source = createStreamSource(streamPorts)
    chalk.level = 1 // colours, as on a terminal (restored after the test)
    const ports = {...fakePorts(new FakeMarket(makeMarket([makeTask(1)]))), streams: {initial: initialStreamsView(source), source}, refreshMs: 50}
    const app = render(createElement(App, {ports, size: {columns: 80, rows: 24}, colors: true}))
    const text = await waitFor(() => {
      const frame = plain(app.lastFrame() ?? '')
      return /#1 d7d7d7d7 ok/.test(frame) && /#2 d7d7d7d7 degraded/.test(frame) ? frame : undefined
    }, 'both streams in the pane', 8000, 10).catch((error: Error) => {
      throw new Error(`${error.message}; the frame:\n${plain(app.lastFrame() ?? '')}`)
    })
    const line1 = text.split('\n').find((l) => l.includes('#1 d7d7'))!
    expect(line1).toContain('2/2 subs (c 2)')
    expect(line1).toContain('spent 0.0012')
    expect(text.split('\n').every((l) => [...l].length <= 80)).toBe(true)
    // degraded (2 live of a council of 3) is yellow.
    const raw = app.lastFrame() ?? ''
    expect(raw.split('\n').find((l) => l.includes('#2 d7d7'))).toMatch(/\u001B\[33m/)

    // The counters move: the next reads show rates (requests and tokens per second).
    clock.ms += 1000
    statuses.set(p1, live({'1': {requests: 5, completionTokens: 100, charged: oGPU('0.002')}}))
    await waitFor(() => /#1 .* 2 req\/s 40 tok\/s/.test(plain(app.lastFrame() ?? '')), 'rates in the pane', 8000, 10)
  })

  it('says plainly when the network has no stream market', () => {
    const lines = streamPaneLines(initialStreamsView(undefined))
    expect(lines).toEqual([{text: 'no stream market on this network yet', tone: 'muted'}])
    expect(streamLine({id: 4, client: addr(1), model: 'm', modelHash: '0x', pricePerKiloGenerated: '0', pricePerKiloVerified: '0', method: 'optimistic', subscribers: 0, councilSize: 1, status: 'closing', deposit: '0', live: null, health: 'down', requests: null, requestsPerSecond: null, tokensPerSecond: null, spend: null, openDisputes: 1})).toBe(
      '#4 m down 0 subs (c 1) - req/s - tok/s spent - · 0+0/1k optimistic · deposit 0 closing 1 dispute(s)',
    )
  })
})
