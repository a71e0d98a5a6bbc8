import {createHash} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {parseUnits} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ensureModel} from '../fixtures/gguf-writer.js'
import {createHome, type OgpuHome, startDevnet, stopDevnet, waitFor} from '../helpers/cli.js'
import {Daemon} from '../helpers/daemon.js'
import {chainOf} from '../helpers/market.js'

// Real anvil, real daemons (the binary `ogpu provider start`, or test/fixtures/provider-daemon.ts for test-only
// hooks), the tiny synthetic GGUF, and the CLI as the client.
const oGPU = (v: string) => parseUnits(v, 18)
const STATUS = ['none', 'open', 'assigned', 'finalized', 'failed', 'expired', 'cancelled']

describe('ogpu provider start: daemons bid, execute, validate and get paid (real chain, real models)', () => {
  let home: OgpuHome
  let devnet: any
  let chain: ReturnType<typeof chainOf>
  let sha: string
  const daemons: Daemon[] = []
  const address: Record<string, string> = {}
  let a: Daemon
  let b: Daemon
  let c: Daemon
  let d: Daemon

  /** The binary (`ogpu provider start --json`) or the fixture (test-only hooks); resolves once it is ready. */
  const start = async (wallet: string, kind: 'cli' | 'fixture', options: {minPrice?: string; strategy?: string; sequences?: number; testHooks?: Record<string, unknown>} = {}) => {
    const daemon =
      kind === 'cli'
        ? Daemon.cli(home, wallet, ['--port', '0', '--threads', '1', '--log-format', 'json', '--min-price-per-1k', options.minPrice ?? '100', ...(options.strategy ? ['--strategy', options.strategy] : [])])
        : Daemon.fixture(home, wallet, {threads: 1, minPricePer1k: options.minPrice ?? '100', strategy: options.strategy, sequences: options.sequences, testHooks: options.testHooks})
    daemons.push(daemon)
    return daemon.ready({readyTimeoutMs: 90_000})
  }

  function writeSpec(name: string, options: {items?: number; commitWindow?: string; maxBids?: number} = {}) {
    const count = options.items ?? 20
    const items = Array.from({length: count}, (_, i) =>
      JSON.stringify(i % 5 === 4 ? {id: `${name}-${i}`, messages: [{role: 'user', content: `Tell me about item ${i}.`}]} : {id: `${name}-${i}`, prompt: `Question ${i} of ${name}?`}),
    )
    writeFileSync(join(home.dir, `${name}.jsonl`), `${items.join('\n')}\n`)
    const path = join(home.dir, `${name}.yaml`)
    writeFileSync(
      path,
      `version: 1
kind: batch
name: ${name}
model: {name: tiny, sha256: ${sha}}
data: {uri: ./${name}.jsonl}
instructions: {maxTokens: 8, checkpoints: 2, checkpointWindow: 60s}
payment: {maxPrice: "30", councilFeePerVote: "1", collateral: "10"}
verification: {council: 2, sampleSize: 3, commitWindow: ${options.commitWindow ?? '30s'}, revealWindow: 30s}
halting: {maxBids: ${options.maxBids ?? 3}, biddingWindow: 30s}
`,
    )
    return path
  }

  async function submit(name: string, options?: {commitWindow?: string; maxBids?: number}): Promise<number> {
    const result = await home.json(['task', 'submit', writeSpec(name, options), '--wallet', 'dev1'])
    expect(result.code, result.stderr + result.stdout).toBe(0)
    return result.data.taskId
  }

  const task = (id: number) => chain.market.getTask(id)
  const balance = (who: string) => chain.token.balanceOf(who)
  const staked = async (who: string) => (await chain.registry.stakeOf(who)).staked
  const verdict = (id: number, k: number, who: string) => chain.market.verdictOf(id, k, who)
  const ended = (id: number, timeoutMs = 90_000) => waitFor(async () => ((await task(id)).status >= 3n ? task(id) : undefined), `task ${id} to end`, timeoutMs, 100)

  beforeAll(async () => {
    home = createHome('ogpu-daemon-e2e-')
    devnet = await startDevnet(home)
    chain = chainOf(devnet)
    const tiny = ensureModel('tiny')
    sha = createHash('sha256').update(readFileSync(tiny)).digest('hex')
    expect((await home.run(['model', 'add', tiny, '--name', 'tiny'])).code).toBe(0)
    await Promise.all(
      ['dev2', 'dev3', 'dev4', 'dev5'].map(async (w) => {
        const registered = await home.json(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', w])
        expect(registered.code, registered.stderr).toBe(0)
        address[w] = registered.data.address
        expect((await home.run(['stake', 'deposit', '1000', '--wallet', w])).code).toBe(0)
      }),
    )
    address.dev1 = (await home.json(['wallet', 'show', 'dev1'])).data.address
    // The honest providers, through the real binary; each benchmarks the model once (none is stored yet).
    ;[a, b, c] = await Promise.all([start('dev2', 'cli'), start('dev3', 'cli'), start('dev4', 'cli')])
  })

  afterAll(async () => {
    await Promise.all(daemons.map((daemon) => daemon.dispose()))
    // OGPU_E2E_LOGS=DIR keeps every daemon's output for a look afterwards.
    if (process.env.OGPU_E2E_LOGS) daemons.forEach((daemon, i) => writeFileSync(join(process.env.OGPU_E2E_LOGS!, `${i}-${daemon.wallet}-${daemon.kind}.log`), daemon.output))
    chain?.provider.destroy()
    if (home) {
      await stopDevnet(home)
      home.dispose()
    }
  })

  it('refuses to start without a registration or without stake, naming the command that fixes it', async () => {
    const unregistered = await home.run(['provider', 'start', '--wallet', 'dev6', '--port', '0'])
    expect(unregistered.code).toBe(2)
    expect(unregistered.stderr).toMatch(/is not registered as a provider/)
    expect(unregistered.stderr).toMatch(/Hint: Register it first: ogpu provider register --endpoint http:\/\/127\.0\.0\.1:PORT --wallet dev6/)
    expect((await home.run(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', 'dev6'])).code).toBe(0)
    const unstaked = await home.run(['provider', 'start', '--wallet', 'dev6', '--port', '0'])
    expect(unstaked.code).toBe(2)
    expect(unstaked.stderr).toMatch(/Hint: Stake some first: ogpu stake deposit AMOUNT --wallet dev6/)
  })

  it('runs a 20-item task end to end: bids, assignment, two checkpoints validated by a council of 2, paid exactly', async () => {
    // The model was benchmarked (none was stored) and each daemon registered the endpoint it listens at.
    expect([a, b, c].some((daemon) => daemon.logs().some((l) => l.event === 'benchmark'))).toBe(true)
    expect(existsSync(join(home.dir, 'data', 'benchmarks', `${sha}-cpu.json`))).toBe(true)
    for (const daemon of [a, b, c]) expect((await chain.registry.providerOf(address[daemon.wallet]!)).endpoint).toBe(daemon.localUrl)
    const before = Object.fromEntries(await Promise.all(['dev1', 'dev2', 'dev3', 'dev4'].map(async (w) => [w, await balance(address[w]!)] as const)))
    const stakes = Object.fromEntries(await Promise.all(['dev2', 'dev3', 'dev4'].map(async (w) => [w, await staked(address[w]!)] as const)))
    const id = await submit('happy')
    const done = await ended(id)
    expect(STATUS[Number(done.status)]).toBe('finalized')
    const executor = done.executor
    const council = await chain.market.councilOf(id)
    expect(council).toHaveLength(2)
    expect(new Set([executor, ...council])).toEqual(new Set([address.dev2, address.dev3, address.dev4]))
    // cost-plus: the cost of the tiny model is negligible, so each bid is the minimum: 100 oGPU/1k × 160 tokens.
    expect(done.price).toBe(oGPU('16'))
    for (const k of [0, 1]) {
      const cp = await chain.market.checkpointOf(id, k)
      expect(cp.state).toBe(2n) // accepted
      expect([cp.approvals, cp.rejections]).toEqual([2n, 0n])
    }
    // Balances move exactly as the contract says: the executor gets its price, each council member its fee per
    // checkpoint, and the client pays price + fees (the rest of the escrow comes back). Stakes are untouched.
    const wallet = Object.fromEntries(Object.entries(address).map(([w, addr]) => [addr, w]))
    expect((await balance(executor)) - before[wallet[executor]!]!).toBe(oGPU('16'))
    for (const member of council) expect((await balance(member)) - before[wallet[member]!]!).toBe(oGPU('2'))
    expect(before.dev1! - (await balance(address.dev1!))).toBe(oGPU('16') + oGPU('4'))
    for (const w of ['dev2', 'dev3', 'dev4']) expect(await staked(address[w]!)).toBe(stakes[w])

    // The client downloads all 20 results, each verified against the chain.
    const out = join(home.dir, 'happy-results.jsonl')
    const result = await home.json(['task', 'result', String(id), '--out', out, '--wallet', 'dev1'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.data.count).toBe(20)
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.id)).toEqual(Array.from({length: 20}, (_, i) => `happy-${i}`))
    expect(lines.every((l) => l.tokenIds.length >= 1 && l.tokenIds.length <= 8)).toBe(true)

    // Its HTTP API: health for anyone; items only for signed requests of the client and the council.
    expect(await (await fetch(`${a.localUrl}/health`)).json()).toMatchObject({ok: true, address: address.dev2, bidding: true})
    const unsigned = await fetch(`${a.localUrl}/tasks/${id}/items/0`)
    expect(unsigned.status).toBe(401)

    // The executor's live state, through `ogpu provider status`.
    const execWallet = wallet[executor]!
    const status = await home.json(['provider', 'status', '--wallet', execWallet])
    expect(status.data.daemon).toMatchObject({running: true, answering: true})
    expect(status.data.daemon.status.tasks.find((t: any) => t.id === id)).toMatchObject({role: 'executor', status: 'finalized', items: {done: 20, total: 20}})
    expect(status.data.daemon.status.earnings.executorPaid).toBe('16')
    // Measured, not held to a bound (tests never assert timings; bench/provider-daemon.bench.ts measures bid latency).
    expect(status.data.daemon.status.bids.latencyMs.p95).toBeGreaterThan(0)

    // A council member's seats and verdicts, through `ogpu council status`.
    const seats = await home.json(['council', 'status', '--wallet', wallet[council[0]!]!])
    const seat = seats.data.seats.find((s: any) => s.taskId === id)
    expect(seat.checkpoints.map((c: any) => [c.k, c.state, c.accept, c.localVerdict, c.fee?.value])).toEqual([
      [0, 'accepted', true, true, '1'],
      [1, 'accepted', true, true, '1'],
    ])

    // The same check by hand: every item of checkpoint 1 passes prefill verification.
    const verified = await home.json(['council', 'verify', String(id), '--checkpoint', '1', '--all', '--threads', '1', '--wallet', 'dev1'])
    expect(verified.code, verified.stderr).toBe(0)
    expect(verified.data.accept).toBe(true)
    expect(verified.data.checkpoints[0].items).toHaveLength(10)
    expect(verified.data.checkpoints[0].items.every((i: any) => i.ok)).toBe(true)
  })

  // Councils come from the model's staked pool, not from the bids: with a cap of 1 bid, the first bid executes and
  // the two other daemons, whose equal bids the cap refused, are seated from the pool and check, commit and reveal.
  it('seats the council from the pool: daemons do council duty on a task they never bid for', async () => {
    const id = await submit('pool', {maxBids: 1})
    const done = await ended(id)
    expect(STATUS[Number(done.status)]).toBe('finalized')
    expect(done.bidCount).toBe(1n)
    const bidder = (await chain.market.getBid(id, 0)).provider
    const council = await chain.market.councilOf(id)
    expect(council).toHaveLength(2)
    expect(council).not.toContain(bidder)
    for (const member of council) {
      expect(await chain.registry.councilPositionOf(`0x${sha}`, member).then((r) => r.member)).toBe(true)
      for (const k of [0, 1]) expect((await verdict(id, k, member)).revealed).toBe(true)
    }
    const seated = [a, b, c].find((daemon) => address[daemon.wallet] === council[0])!
    expect(seated.logs().some((l) => l.event === 'council' && /Joined the council pool/.test(String(l.msg)))).toBe(true)
  })

  it('catches an executor that tampers with its outputs on the first checkpoint, slashes it and refunds the client', async () => {
    // A clean stop: the daemon bids no more, finishes, exits 0 and removes its daemon.json.
    expect(await c.stop()).toBe(0)
    expect(c.logs().at(-1)).toMatchObject({event: 'stop', msg: 'Stopped'})
    expect(existsSync(join(home.dir, 'data', 'provider', address.dev4!.toLowerCase(), 'daemon.json'))).toBe(false)
    // ... and leaves the council pool, so that no seat is drawn for it while nobody is there to vote.
    expect((await chain.registry.councilPositionOf(`0x${sha}`, address.dev4!)).member).toBe(false)
    expect(c.logs().some((l) => l.event === 'council' && /Left the council pool/.test(String(l.msg)))).toBe(true)
    // The cheat wins the auction with a lower minimum price (8 oGPU against 16).
    d = await start('dev5', 'fixture', {minPrice: '50', testHooks: {tamperOutputs: true}})
    const clientBefore = await balance(address.dev1!)
    const councilBefore = await Promise.all([address.dev2!, address.dev3!].map(balance))
    const stakeBefore = await staked(address.dev5!)
    const id = await submit('tamper')
    const failed = await ended(id)
    expect(STATUS[Number(failed.status)]).toBe('failed')
    expect(failed.executor).toBe(address.dev5)
    expect(failed.price).toBe(oGPU('8'))
    const cp0 = await chain.market.checkpointOf(id, 0)
    expect(cp0.state).toBe(3n) // rejected
    expect([cp0.approvals, cp0.rejections]).toEqual([0n, 2n])
    // Slashed its whole collateral; half of it to the two reject voters, the rest to the client.
    expect(stakeBefore - (await staked(address.dev5!))).toBe(oGPU('10'))
    // Client: escrow 34 out; back: 34 − 2 fees for checkpoint 0, plus 5 of the slash.
    expect((await balance(address.dev1!)) - clientBefore).toBe(oGPU('3'))
    // Each council member: its fee (1) and its share of the slash (2.5).
    const councilAfter = await Promise.all([address.dev2!, address.dev3!].map(balance))
    expect(councilAfter.map((x, i) => x - councilBefore[i]!)).toEqual([oGPU('3.5'), oGPU('3.5')])
    // The council says why: the claimed tokens are not the model's.
    const log = [...a.logs(), ...b.logs()].find((l) => l.event === 'council' && l.taskId === id && l.problems)
    expect(log?.problems?.[0]).toMatch(/is not the model's output/)
  })

  it('survives kill -9 of the executor mid-task and of a council member between commit and reveal', async () => {
    expect(await d.stop()).toBe(0)
    expect(await b.stop()).toBe(0)
    // The executor works slowly (one sequence, a pause per item); the council member B holds its reveals.
    d = await start('dev5', 'fixture', {minPrice: '50', sequences: 1, testHooks: {itemDelayMs: 300}})
    b = await start('dev3', 'fixture', {testHooks: {holdReveals: true}})
    const id = await submit('crash')
    await waitFor(async () => {
      const status = await d.status().catch(() => undefined)
      const mine = status?.tasks?.find((t: any) => t.id === id)
      return mine && mine.items.done >= 3
    }, 'the executor to keep a few results', 60_000, 50)
    await d.kill9()
    const kept = await task(id)
    expect(STATUS[Number(kept.status)]).toBe('assigned')
    expect((await chain.market.checkpointOf(id, 0)).state).toBe(0n) // not committed yet
    d = await start('dev5', 'fixture', {minPrice: '50'})
    await waitFor(() => new RegExp(`Task ${id}: resuming with \\d+ of 20 items done`).test(d.output), 'the executor to resume', 30_000)
    // The council member commits, is killed before it reveals, comes back (the binary, no hook) and reveals.
    await waitFor(async () => (await verdict(id, 0, address.dev3!)).committed, 'B to commit its verdict', 60_000, 50)
    expect((await verdict(id, 0, address.dev3!)).revealed).toBe(false)
    // Secret until revealed: B's public status shows that it committed, not what it decided or which items it drew.
    const seat = await waitFor(async () => {
      const s = ((await b.status()) as any).council.find((c: any) => c.taskId === id && c.k === 0)
      return s?.committed ? s : undefined
    }, "B's status to show its commitment", 30_000, 50)
    expect(seat).toEqual({taskId: id, k: 0, committed: true, revealed: false, verdict: null, sample: null, problems: null})
    await b.kill9()
    b = await start('dev3', 'cli') // the harness runs the binary with --json: one JSON line on stdout once serving, the log on stderr
    const info = await waitFor(() => {
      try {
        return JSON.parse(b.stdout)
      } catch {
        return undefined
      }
    }, 'the --json line')
    expect(info).toMatchObject({address: address.dev3, localUrl: b.localUrl, models: [{name: 'tiny', sha256: sha}]})
    // It is the ready line: one compact line, {"event": "ready", ...}, the one the harness waited on.
    expect(b.stdout.trimEnd().split('\n')).toHaveLength(1)
    expect(info).toMatchObject({event: 'ready', url: b.localUrl, port: Number(new URL(b.localUrl).port), pid: b.child.pid, strategy: 'cost-plus', network: {name: 'devnet'}})
    expect(b.info).toEqual(info)
    await waitFor(async () => (await verdict(id, 0, address.dev3!)).revealed, 'B to reveal after its restart', 60_000, 50)
    const done = await ended(id)
    expect(STATUS[Number(done.status)]).toBe('finalized')
    expect((await verdict(id, 0, address.dev3!)).accept).toBe(true)
    // Never a second bid: the restarted executor found its bid in its journal.
    expect(d.output).not.toMatch(new RegExp(`Bid [\\d.]+ oGPU on task ${id}\\b`))
    expect(d.output).not.toMatch(new RegExp(`Task ${id}: no bid`))
    const bids = await chain.market.bidCount(id)
    expect(bids).toBe(3n)
    const result = await home.json(['task', 'result', String(id), '--out', join(home.dir, 'crash.jsonl'), '--wallet', 'dev1'])
    expect(result.data.count).toBe(20)
  })

  it('rejects an executor that stops serving its items, and slashes it', async () => {
    expect(await d.stop()).toBe(0)
    d = await start('dev5', 'fixture', {minPrice: '50', testHooks: {refuseItems: true}})
    const stakeBefore = await staked(address.dev5!)
    const id = await submit('unreachable', {commitWindow: '8s'})
    const failed = await ended(id)
    expect(STATUS[Number(failed.status)]).toBe('failed')
    expect(failed.executor).toBe(address.dev5)
    expect(stakeBefore - (await staked(address.dev5!))).toBe(oGPU('10'))
    const log = [...a.logs(), ...b.logs()].find((l) => l.event === 'council' && l.taskId === id && l.problems)
    expect(log?.problems?.[0]).toMatch(/refused: HTTP 503/)
  })
})
