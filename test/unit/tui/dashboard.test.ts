/** The dashboard's core (src/dashboard): pure model, formatting, status client, poller, screen diffing. */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {createServer} from 'node:http'
import {join} from 'node:path'

import {keccak256, toUtf8Bytes} from 'ethers'
import {describe, expect, it} from 'vitest'

import {EventRing, describeEvent, toMarketEvent} from '../../../src/dashboard/events.js'
import {compactAmount, fit, shortDuration, sparkline} from '../../../src/dashboard/format.js'
import {failureText, renderPlain} from '../../../src/dashboard/plain.js'
import {Poller, backoffMs, type ConnectionState} from '../../../src/dashboard/poller.js'
import {fetchProviderStatus, parseProviderStatus} from '../../../src/dashboard/provider-status.js'
import {auctionModel, indexOfId, neighborId, parseTaskFilter, windowOffset} from '../../../src/dashboard/auction.js'
import {pulseView} from '../../../src/dashboard/pulse.js'
import {buildSnapshot} from '../../../src/dashboard/snapshot.js'
import {SpecBook, specInfoOf} from '../../../src/dashboard/specs.js'
import {NO_STREAM_MARKET, initialStreamsView, readStreams} from '../../../src/dashboard/streams.js'
import {marketActivity} from '../../../src/dashboard/wallet.js'
import {canonicalJson} from '../../../src/protocol/canonical.js'
import {diffFrames, frameOf, ScreenStream} from '../../../src/tui/screen.js'
import {MODEL_A, MODEL_B, NOW, addr, makeMarket, makeTask, oGPU} from './fixtures.js'
import {repoRoot, waitFor} from '../../helpers/cli.js'

const noSpecs = {get: () => undefined}

describe('formatting', () => {
  it('keeps amounts, durations and sparklines short', () => {
    expect(compactAmount(oGPU(30))).toBe('30')
    expect(compactAmount(oGPU('12.5'))).toBe('12.5')
    expect(compactAmount(oGPU(123_456))).toBe('123k')
    expect(compactAmount(oGPU('0.00123'))).toBe('0.0012')
    expect(compactAmount(0n)).toBe('0')
    expect(shortDuration(12)).toBe('12s')
    expect(shortDuration(245)).toBe('4m05s')
    expect(shortDuration(3720)).toBe('1h02m')
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8)).toBe('▁▂▃▄▅▆▇█')
    expect(sparkline([5, 5, 5], 10)).toBe('▄▄▄')
    expect(sparkline([1, 2, 3], 2)).toHaveLength(2)
    expect(fit('abcdef', 4)).toBe('abc…')
    expect(fit('ab', 4, 'right')).toBe('  ab')
  })
})

describe('auction book model', () => {
  const many = makeMarket(Array.from({length: 5000}, (_, i) => makeTask(i + 1, {status: i % 5 === 0 ? 'assigned' : i % 7 === 0 ? 'finalized' : 'open', bids: [20, 25, 22]})))

  it('builds only the visible rows of 5,000 tasks, newest first, and keeps the selection in view', () => {
    const model = auctionModel({market: many, now: NOW, specs: noSpecs, stakes: new Map()}, {filter: 'all', offset: 0, limit: 12, selectedId: null})
    expect(model.view.total).toBe(5000)
    expect(model.order).toHaveLength(5000)
    expect(model.view.rows).toHaveLength(12)
    expect(model.view.rows.map((r) => r.id).slice(0, 3)).toEqual([5000, 4999, 4998])
    expect(model.view.selectedId).toBe(5000)
    const deep = auctionModel({market: many, now: NOW, specs: noSpecs, stakes: new Map()}, {filter: 'all', offset: 0, limit: 12, selectedId: 17})
    expect(deep.view.rows.map((r) => r.id)).toContain(17)
    expect(deep.view.offset).toBe(5000 - 17 - 11)
    expect(deep.view.selected?.ladder.map((b) => b.price.value)).toEqual(['20', '22', '25'])
    expect(deep.view.selected?.ladder[0]?.role).toBe('best')
  })

  it('filters by status words and by model, and counts over the whole market', () => {
    expect(parseTaskFilter('').statuses).toEqual(new Set(['open', 'assigned']))
    expect(parseTaskFilter('all').statuses).toBeNull()
    expect(parseTaskFilter('ended').statuses?.has('expired')).toBe(true)
    expect(parseTaskFilter('open cdcd')).toMatchObject({statuses: new Set(['open']), model: 'cdcd'})
    const market = makeMarket([makeTask(1, {model: MODEL_A}), makeTask(2, {model: MODEL_B}), makeTask(3, {model: MODEL_B, status: 'assigned', bids: [5, 6]})])
    const model = (filter: string) => auctionModel({market, now: NOW, specs: noSpecs, stakes: new Map()}, {filter, offset: 0, limit: 10, selectedId: null})
    expect(model('').view.total).toBe(3)
    expect(model('open').view.rows.map((r) => r.id)).toEqual([2, 1])
    expect(model('cdcd').view.rows.map((r) => r.id)).toEqual([3, 2])
    expect(model('assigned 0xcdcd').view.rows.map((r) => r.id)).toEqual([3])
    expect(model('finalized').view.counts.open).toBe(2)
  })

  it('moves through the order from any task, listed or not', () => {
    const order = [50, 40, 30, 20, 10]
    expect(indexOfId(order, 30)).toBe(2)
    expect(indexOfId(order, 35)).toBe(-1)
    expect(neighborId(order, 30, 1)).toBe(20)
    expect(neighborId(order, 30, -1)).toBe(40)
    expect(neighborId(order, 35, 1)).toBe(30)
    expect(neighborId(order, 35, -1)).toBe(40)
    expect(neighborId(order, 10, 5)).toBe(10)
    expect(neighborId(order, null, 1)).toBe(50)
    expect(windowOffset(0, 30, 10, 100)).toBe(21)
    expect(windowOffset(25, 22, 10, 100)).toBe(22)
  })
})

describe('market pulse', () => {
  const spec = (maxTokens: number) => {
    const document = {model: {name: 'tiny'}, instructions: {maxTokens}}
    return {text: JSON.stringify(document), hash: keccak256(toUtf8Bytes(canonicalJson(document)))}
  }

  it('normalises winning prices per 1k tokens from the spec, in assignment order', () => {
    const s = spec(8)
    const tasks = [10, 20, 30].map((price, i) => ({...makeTask(i + 1, {status: 'assigned', bids: [price, price + 5], items: 6, assignedBlock: 100 - i}), specHash: s.hash}))
    const info = specInfoOf(s.text, s.hash)
    const pulse = pulseView({market: makeMarket(tasks), specs: {get: () => info}})
    expect(pulse.models).toHaveLength(1)
    expect(pulse.models[0]).toMatchObject({modelName: 'tiny', unit: 'per-1k-tokens', samples: 3})
    // 30 oGPU for 6 × 8 tokens = 625 per 1k; oldest assignment (highest id here) first.
    expect(pulse.models[0]!.points.map((p) => Math.round(p))).toEqual([625, 417, 208])
  })

  it('falls back to price per item, labelled, when no spec can be read', () => {
    const tasks = [makeTask(1, {status: 'assigned', bids: [12], items: 6}), makeTask(2, {status: 'open', model: MODEL_B})]
    const pulse = pulseView({market: makeMarket(tasks), specs: {get: () => ({state: 'unreadable', error: 'HTTP 404'})}})
    const a = pulse.models.find((m) => m.modelHash === MODEL_A)!
    expect(a).toMatchObject({unit: 'per-item', last: '2', samples: 1})
    expect(pulse.models.find((m) => m.modelHash === MODEL_B)).toMatchObject({samples: 0, open: 1, last: null})
  })

  it('reads specs once per hash and refuses one whose hash does not match', async () => {
    const s = spec(16)
    let fetches = 0
    const book = new SpecBook({
      fetchText: async (uri) => {
        fetches++
        return uri === 'good' ? s.text : '{"model":{"name":"forged"}}'
      },
    })
    book.request([{specHash: s.hash, specUri: 'good'}, {specHash: s.hash, specUri: 'good'}, {specHash: `0x${'99'.repeat(32)}`, specUri: 'bad'}])
    await book.settled()
    expect(fetches).toBe(2)
    expect(book.get(s.hash)).toMatchObject({state: 'ok', modelName: 'tiny', maxTokens: 16})
    expect(book.get(`0x${'99'.repeat(32)}`)).toMatchObject({state: 'unreadable', error: 'hash mismatch'})
  })
})

describe('wallet earnings', () => {
  it('sums executor payments and the council fees of majority voters who revealed', () => {
    const me = addr(10)
    const executed = makeTask(1, {status: 'finalized', bids: [20, 25, 26]})
    executed.executorPaid = oGPU(20)
    const seated = makeTask(2, {status: 'assigned', bids: [10, 11, 12]})
    seated.executor = addr(99)
    seated.council = [me, addr(12)]
    seated.checkpointList = [
      {k: 0, state: 'accepted', resultRoot: '0x', seedBlock: 0, commitEnd: 0, revealEnd: 0, committedBlock: 0, verdicts: {[me]: {voter: me, accept: true}}, feePerVoter: oGPU(2)},
      {k: 1, state: 'accepted', resultRoot: '0x', seedBlock: 0, commitEnd: 0, revealEnd: 0, committedBlock: 0, verdicts: {[me]: {voter: me, accept: false}}, feePerVoter: oGPU(2)},
    ]
    const {earnings, active} = marketActivity([executed, seated, makeTask(3, {bids: [1]})], me)
    expect(earnings.executorPaid).toBe(oGPU(20))
    expect(earnings.councilFees).toBe(oGPU(2)) // the minority vote at k=1 earns nothing
    expect(active.map((t) => [t.id, t.role])).toEqual([
      [3, 'bidder'],
      [2, 'council'],
    ])
  })
})

describe('provider status client', () => {
  it('reads any shape of status body, keeping what it understands', () => {
    const parsed = parseProviderStatus({load: 0.5, queue: 2, gpu: {backend: 'cuda'}, tasks: [{id: 3, role: 'executor', items: {done: 1, total: 6}}, {nope: true}], extra: 1})
    expect(parsed).toMatchObject({reachable: true, load: 0.5, queue: 2, gpu: {backend: 'cuda', vramGiB: null}, earnings: null})
    expect(parsed.tasks).toEqual([{id: 3, role: 'executor', status: null, phase: null, items: {done: 1, total: 6}}])
    expect(parseProviderStatus('garbage')).toMatchObject({load: null, tasks: [], models: []})
  })

  it('reports a daemon that does not answer in time, or at all, as unreachable', async () => {
    const server = createServer(() => {}) // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as {port: number}).port
    const started = Date.now()
    const slow = await fetchProviderStatus(`http://127.0.0.1:${port}`, {timeoutMs: 200})
    expect(slow).toEqual({reachable: false, error: 'no answer within 200 ms'})
    expect(Date.now() - started).toBeLessThan(2000)
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const gone = await fetchProviderStatus(`http://127.0.0.1:${port}`, {timeoutMs: 500})
    expect(gone).toMatchObject({reachable: false, error: 'ECONNREFUSED'})
    expect(await fetchProviderStatus('not a url')).toMatchObject({reachable: false})
  })
})

describe('streams pane data', () => {
  it('says so when the network has no stream market, and never invents streams', async () => {
    expect(initialStreamsView(undefined)).toEqual({kind: 'absent', message: NO_STREAM_MARKET})
    const failing = {address: addr(4), list: async () => Promise.reject(new Error('boom'))}
    expect(initialStreamsView(failing)).toEqual({kind: 'live', address: addr(4), streams: [], error: null})
    expect(await readStreams(failing)).toEqual({kind: 'live', address: addr(4), streams: [], error: 'boom'})
  })
})

describe('poller', () => {
  it('backs off exponentially while failing and reports live again on recovery', async () => {
    expect([1, 2, 3, 10].map((a) => backoffMs(a))).toEqual([500, 1000, 2000, 15_000])
    const states: ConnectionState[] = []
    let calls = 0
    const poller = new Poller({
      intervalMs: 5,
      baseBackoffMs: 5,
      run: async () => {
        calls++
        if (calls <= 3) throw new Error('connect ECONNREFUSED')
      },
      onState: (s) => states.push(s),
    })
    poller.start()
    await waitFor(() => states.at(-1)?.status === 'live', 'the poller to recover', 5000, 5)
    poller.stop()
    expect(states.slice(0, 4).map((s) => `${s.status}:${s.attempt}`)).toEqual(['reconnecting:1', 'reconnecting:2', 'reconnecting:3', 'live:0'])
    expect(states[0]!.lastError).toBe('connect ECONNREFUSED')
  })

  it('never overlaps a job with one that timed out but still runs', async () => {
    let running = 0
    let overlapped = false
    let runs = 0
    const poller = new Poller({
      intervalMs: 1,
      timeoutMs: 10,
      baseBackoffMs: 1,
      run: async () => {
        runs++
        if (running > 0) overlapped = true
        running++
        await new Promise((r) => setTimeout(r, 40))
        running--
      },
    })
    poller.start()
    await waitFor(() => runs >= 4, 'four runs, each timing out', 5000, 5)
    poller.stop()
    expect(overlapped).toBe(false)
  })
})

describe('event log', () => {
  it('keeps the last N market events, newest first, and skips role grants', () => {
    const ring = new EventRing(3)
    const bid = (taskId: number, price: bigint) => ({name: 'BidPlaced', args: {taskId: BigInt(taskId), provider: addr(5), price}})
    ring.push({name: 'RoleGranted', args: {}} as never, {blockNumber: 1})
    for (let i = 1; i <= 5; i++) ring.push(bid(i, oGPU(i)) as never, {blockNumber: i})
    expect(ring.seen).toBe(5)
    expect(ring.recent().map((e) => e.taskId)).toEqual([5, 4, 3])
  })

  it('names every failure reason and says no slash when the executor was not slashed', () => {
    const failed = (reason: number, slashed: bigint) =>
      describeEvent(toMarketEvent(1, {name: 'TaskFailed', args: {taskId: 7n, k: 1n, reason: BigInt(reason), executorSlashed: slashed}} as never, {blockNumber: 1}))
    expect(failed(0, oGPU(10))).toMatch(/^#7 failed at cp1 \(rejected\), slashed 10/)
    expect(failed(1, oGPU(10))).toMatch(/^#7 failed at cp1 \(timeout\), slashed 10/)
    expect(failed(2, 0n)).toBe('#7 failed at cp1 (undecided), no slash')
    expect(failed(3, 0n)).toBe('#7 failed at cp1 (no-council), no slash')
  })
})

describe('plain snapshot', () => {
  it('a failed task says whether its executor was slashed', () => {
    const failure = (reason: string, wei: string) => ({k: 1, reason, executorSlashed: {value: '', wei}, rewardPerRejecter: {value: '0', wei: '0'}, slashToClient: {value: '', wei}})
    expect(failureText(failure('rejected', String(oGPU(10))))).toBe(`failed at cp 1 (rejected), executor slashed ${compactAmount(String(oGPU(10)))}`)
    expect(failureText(failure('undecided', '0'))).toBe('failed at cp 1 (undecided), no slash: the executor keeps its collateral')
  })

  it('fits every line in the width', () => {
    const market = makeMarket(Array.from({length: 50}, (_, i) => makeTask(i + 1, {bids: [20, 21, 19, 18]})))
    const snapshot = buildSnapshot(
      {
        network: {name: 'devnet', chainId: 31_337, rpcUrl: 'http://127.0.0.1:8545'},
        market,
        head: 1000,
        now: NOW,
        connection: {status: 'live', attempt: 0},
        specs: noSpecs,
        events: [],
        wallet: null,
        stakes: new Map(),
        streams: {kind: 'absent', message: NO_STREAM_MARKET},
      },
      {limit: 20},
    )
    const text = renderPlain(snapshot, {width: 80})
    for (const line of text.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80)
    expect(text).toMatch(/… and 30 more/)
    expect(text).toContain(NO_STREAM_MARKET)
    expect(JSON.parse(JSON.stringify(snapshot)).auction.rows).toHaveLength(20)
  })
})

describe('screen diffing', () => {
  it('takes frames out of ink writes and rewrites only the lines that changed', () => {
    expect(frameOf('\u001B[2K\u001B[1A\u001B[2K\u001B[Ga\nb\n')).toEqual(['a', 'b'])
    expect(frameOf('first\nframe\n')).toEqual(['first', 'frame'])
    expect(frameOf('\u001B[?25l')).toBeUndefined()
    expect(diffFrames(['a', 'b', 'c'], ['a', 'B', 'c'])).toBe('\u001B[?2026h\u001B[2;1H\u001B[2KB\u001B[?2026l')
    expect(diffFrames(['a'], ['a'])).toBe('')
    const written: string[] = []
    const target = {write: (s: string) => written.push(s) > 0, columns: 80, rows: 24, on: () => undefined, off: () => undefined}
    const screen = new ScreenStream(target)
    screen.write('one\ntwo\n')
    screen.write('\u001B[2K\u001B[1A\u001B[2K\u001B[1A\u001B[2K\u001B[Gone\n2\n')
    expect(written[1]).toBe('\u001B[?2026h\u001B[2;1H\u001B[2K2\u001B[?2026l')
  })
})

describe('architecture', () => {
  it('keeps ink and react out of everything but src/tui (the command imports it lazily)', () => {
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name)
        if (statSync(path).isDirectory()) {
          if (path !== join(repoRoot, 'src', 'tui')) walk(path)
        } else if (/\.tsx?$/.test(name) && /from '(ink|react)(\/[^']*)?'/.test(readFileSync(path, 'utf8'))) offenders.push(path)
      }
    }
    walk(join(repoRoot, 'src'))
    expect(offenders).toEqual([])
    const command = readFileSync(join(repoRoot, 'src/commands/tui.ts'), 'utf8')
    expect(command).toMatch(/await import\('..\/tui\/run.js'\)/)
    expect(command).not.toMatch(/^import .*(tui|ink|react)/m)
  })
})
