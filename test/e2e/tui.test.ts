/**
 * `ogpu tui` end to end: the real binary inside tmux (80×24) against a devnet, with live bids from scripted providers,
 * checked on the screen with `tmux capture-pane -p`; the RPC dropped and restored through a TCP proxy; and --once /
 * --json through the real binary. Every wait is on a screen condition.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket, connect} from 'node:net'
import {join} from 'node:path'

import {parseUnits} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {parseItems, type TaskItem} from '../../src/protocol/task-data.js'
import {binary, createHome, freePort, type OgpuHome, repoRoot, startDevnet, stopDevnet, waitFor} from '../helpers/cli.js'
import {ScriptedProvider, untilAssignable} from '../helpers/market.js'

const oGPU = (v: string) => parseUnits(v, 18)
const MODEL = 'ab'.repeat(32)
const hasTmux = spawnSync('tmux', ['-V']).status === 0
const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`

function writeSpec(home: OgpuHome, name: string, options: {maxBids?: number; checkpoints?: number} = {}): {path: string; items: TaskItem[]} {
  const items = Array.from({length: 4}, (_, i) => JSON.stringify({id: `q${i}`, prompt: `Question ${i}?`})).join('\n')
  writeFileSync(join(home.dir, `${name}.jsonl`), `${items}\n`)
  const path = join(home.dir, `${name}.yaml`)
  writeFileSync(
    path,
    `version: 1
kind: batch
name: ${name}
model: {name: tinyllama, sha256: ${MODEL}}
data: {uri: ./${name}.jsonl}
instructions: {maxTokens: 8, checkpoints: ${options.checkpoints ?? 1}, checkpointWindow: 600s}
payment: {maxPrice: "30", councilFeePerVote: "1", collateral: "10"}
verification: {council: 2, commitWindow: 300s, revealWindow: 300s}
halting: {maxBids: ${options.maxBids ?? 3}, biddingWindow: 600s}
`,
  )
  return {path, items: parseItems(items)}
}

/** A TCP proxy in front of the devnet's RPC: stop() drops every connection and refuses new ones; start() resumes. */
class RpcProxy {
  private server?: Server
  private sockets = new Set<Socket>()
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }
  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1')
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => s.destroy())
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve))
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.server = undefined
  }
}

/** The real binary in a detached tmux session of its own server. */
class TmuxScreen {
  readonly socket = `ogpu-tui-${process.pid}-${Date.now()}`
  constructor(
    private readonly columns: number,
    private readonly rows: number,
  ) {}
  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8'})
  }
  start(command: string): void {
    this.tmux(['new-session', '-d', '-s', 'tui', '-x', String(this.columns), '-y', String(this.rows), command])
  }
  capture(): string {
    try {
      return this.tmux(['capture-pane', '-p', '-t', 'tui'])
    } catch {
      return ''
    }
  }
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'tui', ...keys])
  }
  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', 'tui', '-x', String(columns), '-y', String(rows)])
  }
  async until(check: (screen: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    try {
      return await waitFor(() => {
        const screen = this.capture()
        return check(screen) ? screen : undefined
      }, what, timeoutMs, 100)
    } catch (error) {
      throw new Error(`${(error as Error).message}; the screen:\n${this.capture()}`)
    }
  }
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'])
  }
}

const rowOf = (screen: string, id: number): string | undefined => screen.split('\n').find((l) => new RegExp(`^[› ]\\s*${id} tinyllama`).test(l))

describe.skipIf(!hasTmux)('ogpu tui (the real binary in tmux, a devnet, scripted providers)', () => {
  let home: OgpuHome
  let devnet: any
  let proxy: RpcProxy
  let screen: TmuxScreen
  let alice: ScriptedProvider
  let bob: ScriptedProvider
  let carol: ScriptedProvider
  let dave: ScriptedProvider
  const client = ['--wallet', 'dev1']

  async function submit(spec: string): Promise<number> {
    const submitted = await home.json(['task', 'submit', spec, ...client])
    expect(submitted.code, submitted.stderr + submitted.stdout).toBe(0)
    return submitted.data.taskId as number
  }

  beforeAll(async () => {
    home = createHome()
    devnet = await startDevnet(home)
    alice = new ScriptedProvider(2, devnet)
    bob = new ScriptedProvider(3, devnet)
    carol = new ScriptedProvider(4, devnet)
    dave = new ScriptedProvider(5, devnet)
    for (const p of [alice, bob, carol, dave]) await p.setup(oGPU('1000'), MODEL)
    proxy = new RpcProxy(await freePort(), Number(new URL(devnet.rpcUrl).port))
    await proxy.start()
  })
  afterAll(async () => {
    screen?.kill()
    await proxy?.stop()
    for (const p of [alice, bob, carol, dave]) await p?.dispose()
    await stopDevnet(home)
    home.dispose()
  })

  it('prints one plain snapshot with --once, and without a terminal; the same snapshot as JSON with --json', async () => {
    const first = await submit(writeSpec(home, 'once').path)
    await alice.bid(first, oGPU('21'))
    const once = await home.run(['tui', '--once', '--wallet', 'dev3'])
    expect(once.code, once.stderr).toBe(0)
    expect(once.stdout).toMatch(/^ogpu tui · devnet \(chain 31337\) · block \d+ · live/)
    expect(once.stdout).toMatch(new RegExp(`AUCTION BOOK  active: 1 task\\(s\\)`))
    expect(once.stdout).toMatch(new RegExp(`\\n\\s+${first} tinyllama\\s+4\\s+30\\s+1/3\\s+21 `))
    expect(once.stdout).toMatch(new RegExp(`\\n\\s+1\\s+21\\s+${short(alice.address)}\\s+1000\\s+best`))
    expect(once.stdout).toMatch(/\nSTREAMS\n  no streams yet\n/) // the devnet has a StreamMarket, with no stream yet
    expect(once.stdout).toContain(`dev3 ${bob.address}`)
    expect(once.stdout).toMatch(/stake 1000: free 1000, locked 0/)
    expect(once.stdout).toMatch(/#\d+ bid 21 by /)
    for (const line of once.stdout.split('\n')) expect([...line].length).toBeLessThanOrEqual(80)

    const piped = await home.run(['tui'])
    expect(piped.code).toBe(0)
    expect(piped.stdout).toContain('AUCTION BOOK')

    const {code, data} = await home.json(['tui', '--wallet', 'dev2'])
    expect(code).toBe(0)
    expect(data.network).toMatchObject({name: 'devnet', chainId: 31_337})
    expect(data.connection.status).toBe('live')
    expect(data.auction.rows[0]).toMatchObject({id: first, status: 'open', modelName: 'tinyllama', items: 4, bids: 1, bestBid: {value: '21'}, stage: 'bidding'})
    expect(data.auction.selected.ladder[0]).toMatchObject({provider: alice.address, price: {value: '21'}, stake: {value: '1000'}, role: 'best'})
    expect(data.streams).toEqual({kind: 'live', address: devnet.contracts.streamMarket, streams: [], error: null})
    expect(data.wallet).toMatchObject({name: 'dev2', address: alice.address, stake: {locked: {value: '10'}}, provider: {registered: true}})
    expect(data.wallet.tasks).toEqual([{id: first, role: 'bidder', status: 'open', checkpoint: null}])
    expect(data.pulse.models[0]).toMatchObject({modelHash: `0x${MODEL}`, modelName: 'tinyllama', unit: 'per-1k-tokens', open: 1})
    expect(data.events[0]).toMatchObject({name: 'BidPlaced', taskId: first})
  })

  it('shows the auction live at 80×24: bids, the ladder, assignment, council verdicts; keys, filter, RPC drop, resize, q', async () => {
    screen = new TmuxScreen(80, 24)
    const env = `env -u CI OGPU_CONFIG_DIR=${home.env.OGPU_CONFIG_DIR} OGPU_DATA_DIR=${home.env.OGPU_DATA_DIR} TERM=xterm-256color`
    screen.start(`${env} ${process.execPath} ${binary} tui --wallet dev3 --rpc ${proxy.url} --refresh-ms 300; echo "EXITED $?"; sleep 120`)
    const start = await screen.until((s) => s.includes('● live') && s.includes('stake 1000'), 'the dashboard')
    const lines = start.split('\n')
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80)
    expect(start).toContain('Streams │ no streams yet')
    expect(start).toContain('My wallet · dev3')
    expect(start).toMatch(/↑↓ jk move · tab pane · ⏎ detail · \/ filter/)

    // A task arrives, providers bid on it: the row and the ladder follow.
    const {path, items} = writeSpec(home, 'live')
    const id = await submit(path)
    await screen.until((s) => rowOf(s, id)?.includes('0/3') ?? false, 'the new task row')
    screen.keys('g') // select the newest task
    await screen.until((s) => s.includes(`Task #${id} · bidding`), 'the new task selected')
    await carol.bid(id, oGPU('25'))
    await bob.bid(id, oGPU('20'))
    const best = new RegExp(`1\\s+20\\s+${short(bob.address)}\\s+1000\\s+best`) // rank, price, provider, stake, role
    const second = new RegExp(`2\\s+25\\s+${short(carol.address)}\\s+1000`)
    await screen.until((s) => /2\/3\s+20 /.test(rowOf(s, id) ?? '') && best.test(s) && second.test(s), 'two bids in the row and the ladder')
    await dave.bid(id, oGPU('23'))
    await untilAssignable(alice.chain.provider, alice.market, id)
    await (await alice.market.assign(id, {gasLimit: 2_000_000n})).wait()
    await alice.seat(id) // the council comes from the pool, a block later
    const assigned = await screen.until((s) => s.includes(`Task #${id} · cp 1/1 running`) && s.includes('executor'), 'the assignment')
    expect(assigned).toMatch(new RegExp(`${short(bob.address)}\\s+\\d+\\s+executor`))
    expect(assigned).toMatch(/council/)

    // The executor commits, the council votes: verdicts show as they happen.
    await bob.executeCheckpoint(id, 0, items, 1)
    const council = await alice.market.councilOf(id)
    const members = [alice, carol, dave].filter((p) => council.includes(p.address))
    for (const m of members) await m.commitVerdict(id, 0, true)
    await screen.until((s) => s.includes('cp 0 voting: 2 committed'), 'committed verdicts')
    for (const m of members) await m.reveal(id, 0)
    await members[0]!.finalize(id, 0)
    await screen.until((s) => s.includes('cp 0 accepted') && s.includes('finalized: executor paid 20'), 'the accepted checkpoint and the payment')
    await screen.until((s) => /tinyllama\s+▄\s+625\/1k/.test(s), 'the pulse: 20 oGPU for 4 items × 8 tokens = 625 per 1k tokens')

    // Keyboard: detail, back, filter.
    screen.keys('Enter')
    await screen.until((s) => s.includes('Bids (3/3), lowest first') && s.includes('checkpoint 0: accepted'), 'the task detail')
    screen.keys('Escape')
    await screen.until((s) => s.includes('▸Auction book'), 'back to the panes')
    screen.keys('/')
    await screen.until((s) => s.includes('/ filter:'), 'the filter prompt')
    screen.keys('finalized', 'Enter')
    const filtered = await screen.until((s) => s.includes('Auction book · finalized'), 'the filter applied')
    expect(rowOf(filtered, id)).toContain('done')
    screen.keys('/', 'all', 'Enter')
    await screen.until((s) => s.includes('Auction book · all'), 'all tasks')
    screen.keys('Tab')
    await screen.until((s) => s.includes('▸My wallet'), 'tab to the wallet')

    // The RPC drops: "reconnecting…", then it catches up from its cursor when the RPC is back.
    await proxy.stop()
    await screen.until((s) => s.includes('reconnecting…'), 'the reconnecting banner')
    const later = await submit(writeSpec(home, 'while-down').path) // straight to anvil, not through the proxy
    await alice.bid(later, oGPU('9'))
    await proxy.start()
    const back = await screen.until((s) => s.includes('● live') && !s.includes('reconnecting') && (rowOf(s, later)?.includes('1/3') ?? false), 'catching up', 60_000)
    expect(rowOf(back, later)).toMatch(/1\/3\s+9 /)

    // A resize redraws at the new size.
    screen.resize(100, 30)
    const wide = await screen.until((s) => s.split('\n').length >= 29 && /q quit/.test(s.split('\n')[28] ?? ''), 'the 100×30 layout')
    for (const line of wide.split('\n')) expect([...line].length).toBeLessThanOrEqual(100)
    screen.resize(80, 24)
    await screen.until((s) => /q quit/.test(s.split('\n')[22] ?? ''), 'back to 80×24')

    screen.keys('q')
    await screen.until((s) => s.includes('EXITED 0'), 'q to quit with exit code 0')
  })
})

describe('ogpu tui without a devnet', () => {
  it('fails like every command when the network is missing', async () => {
    const home = createHome()
    try {
      const {code, data} = await home.json(['tui'])
      expect(code).toBe(2)
      expect(data.error.code).toBe('NETWORK_NOT_FOUND')
    } finally {
      home.dispose()
    }
  })
  it('is documented in the help', async () => {
    const result = spawnSync(process.execPath, [binary, 'tui', '--help'], {cwd: repoRoot, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    expect(result.stdout).toMatch(/--once/)
    expect(result.stdout).toMatch(/--refresh-ms/)
  })
})
