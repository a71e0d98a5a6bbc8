/**
 * `npm run demo` end to end: the real script (scripts/demo.mjs) with its real children (anvil, three `ogpu provider
 * start` daemons, `ogpu client gateway`, the TUI in tmux) in a temp ogpu home. Every test checks that nothing the demo
 * started outlives it: no process whose environment names the test's directory is left (read from /proc, like `ps e`).
 */
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import OpenAI from 'openai'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {repoRoot, waitFor} from '../helpers/cli.js'

const script = join(repoRoot, 'scripts', 'demo.mjs')
const hasTmux = spawnSync('tmux', ['-V']).status === 0

/** Live processes whose environment mentions `marker` (our temp dir), with their command lines. */
function processesOf(marker: string): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker)) continue
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue // a zombie is gone, only not reaped yet
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`)
    } catch {
      // exited meanwhile, or not ours
    }
  }
  return found
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

class Demo {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  readonly done: Promise<Run>

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [script, ...args], {cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
    this.child.stdout!.on('data', (d) => (this.stdout += d))
    this.child.stderr!.on('data', (d) => (this.stderr += d))
    this.done = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({code, signal, stdout: this.stdout, stderr: this.stderr})))
  }
}

describe('npm run demo (the real script, processes and chain)', () => {
  let base: string
  let env: NodeJS.ProcessEnv
  let demoDir: string
  const started: Demo[] = []

  const run = (args: string[]) => {
    const demo = new Demo([...args, '--dir', demoDir, '--port', '0'], env)
    started.push(demo)
    return demo
  }

  beforeAll(() => {
    // The build the demo would do itself: done once here so that every run below starts at once.
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {cwd: repoRoot, stdio: 'ignore'})
    base = mkdtempSync(join(tmpdir(), 'ogpu-demo-e2e-'))
    demoDir = join(base, 'demo')
    env = {...process.env, OGPU_CONFIG_DIR: join(base, 'config'), OGPU_DATA_DIR: join(base, 'data'), NO_COLOR: '1'}
    for (const key of ['OGPU_WALLET', 'OGPU_NETWORK', 'OGPU_RPC', 'OGPU_PASSWORD', 'CI']) delete env[key]
  })

  afterEach(async () => {
    // Whatever a failed test left: the demo's own --stop, then any straggler.
    for (const demo of started.splice(0)) if (demo.child.exitCode === null && demo.child.signalCode === null) demo.child.kill('SIGKILL')
    if (existsSync(join(demoDir, 'demo.json'))) spawnSync(process.execPath, [script, '--stop', '--dir', demoDir], {env, stdio: 'ignore'})
  })

  afterAll(() => {
    for (const line of processesOf(base)) process.kill(Number(line.split(' ')[0]), 'SIGKILL')
    if (base) rmSync(base, {recursive: true, force: true})
  })

  it('--ci: the batch task is finalized and the stream answers; the report says who did what and who was paid; nothing is left running', async () => {
    const result = await run(['--ci', '--json']).done
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0)
    const report = JSON.parse(result.stdout)
    const {network, batch, stream} = report
    const providers = network.wallets.filter((w: any) => w.role === 'provider')
    expect(providers.map((w: any) => w.name)).toEqual(['dev2', 'dev3', 'dev4'])
    expect(network.wallets.find((w: any) => w.role === 'client').name).toBe('dev1')

    // The batch task: 20 items, executed by one provider, validated by the two others, each checkpoint accepted.
    expect(batch).toMatchObject({taskId: network.taskId, status: 'finalized', items: 20, bids: 3})
    expect(providers.map((w: any) => w.name)).toContain(batch.executor.wallet)
    expect(batch.council.map((p: any) => p.wallet).sort()).toEqual(providers.map((w: any) => w.name).filter((n: string) => n !== batch.executor.wallet).sort())
    expect(batch.checkpoints).toHaveLength(2)
    for (const cp of batch.checkpoints) {
      expect(cp).toMatchObject({state: 'accepted', approvals: 2, rejections: 0})
      expect(cp.verdicts.map((v: any) => v.accept)).toEqual([true, true])
    }
    // Payments: the executor its price, each council member one fee per checkpoint (0.5 oGPU in the example).
    const executorPay = batch.payments.find((p: any) => p.role === 'executor')
    expect(executorPay.amount.wei).toBe(batch.price.wei)
    for (const p of batch.payments.filter((x: any) => x.role === 'council')) expect(p.amount.value).toBe('1')
    expect(BigInt(batch.clientRefund.wei)).toBe(40n * 10n ** 18n - BigInt(batch.price.wei))

    // The stream: three subscribers, three responses with tokens, every charge covered by a voucher to the wei.
    expect(stream.streamId).toBe(network.streamId)
    expect(stream.subscribers.map((p: any) => p.wallet).sort()).toEqual(['dev2', 'dev3', 'dev4'])
    expect(stream.responses).toHaveLength(3)
    for (const r of stream.responses) expect(r.completionTokens).toBeGreaterThan(0)
    expect(stream.tokens).toBe(stream.responses.reduce((n: number, r: any) => n + r.completionTokens, 0))
    expect(stream.providers.reduce((n: number, p: any) => n + p.requests, 0)).toBe(3)
    const charged = stream.providers.reduce((n: bigint, p: any) => n + BigInt(p.charged.wei), 0n)
    expect(charged).toBeGreaterThan(0n)
    expect(BigInt(stream.vouchers.wei)).toBe(charged)

    // Headless: logs on disk, no demo.json, no process of the demo left.
    expect(existsSync(join(demoDir, 'logs', 'provider-dev2.log'))).toBe(true)
    expect(existsSync(join(demoDir, 'demo.json'))).toBe(false)
    expect(processesOf(base)).toEqual([])
  }, 600_000)

  it('--detach --json leaves the network running for an app (an OpenAI client through the gateway); --stop stops all of it', async () => {
    const result = await run(['--detach', '--json']).done
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0)
    const info = JSON.parse(result.stdout)
    expect(info).toMatchObject({streamId: expect.stringMatching(/^\d+$/), taskId: expect.any(Number), dataDir: expect.any(String)})
    expect(info.wallets.map((w: any) => w.name)).toEqual(['dev1', 'dev2', 'dev3', 'dev4'])
    expect(Object.keys(info.logs).sort()).toEqual(['devnet', 'gateway', 'provider dev2', 'provider dev3', 'provider dev4'])
    expect(JSON.parse(readFileSync(join(demoDir, 'demo.json'), 'utf8')).detached).toBe(true)

    // The script has returned; the network answers.
    const chainId = await fetch(info.rpcUrl, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: []})})
    expect((await chainId.json()).result).toBe('0x7a69')
    const openai = new OpenAI({baseURL: `${info.gatewayUrl}/v1`, apiKey: 'unused', maxRetries: 0})
    const completion = await openai.chat.completions.create({model: `ogpu-stream-${info.streamId}`, messages: [{role: 'user', content: 'Hello from an app'}], max_tokens: 8})
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0)
    const pids = Object.values(info.pids) as number[]
    expect(pids.every((pid) => existsSync(`/proc/${pid}`))).toBe(true)

    // A second demo on the same directory is refused while this one runs.
    const twice = await run(['--ci']).done
    expect(twice.code).toBe(2)
    expect(twice.stderr).toMatch(/A demo is already running from .*\nHint: Stop it with `npm run demo -- --stop`/)

    const stopped = await run(['--stop', '--json']).done
    expect(stopped.code, stopped.stderr).toBe(0)
    const body = JSON.parse(stopped.stdout)
    expect(body.running).toBe(true)
    expect(body.stopped.map((p: any) => p.name).sort()).toEqual(['devnet', 'gateway', 'provider dev2', 'provider dev3', 'provider dev4'])
    expect(processesOf(base)).toEqual([])

    const again = await run(['--stop']).done
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/No demo is running from /)
  }, 600_000)

  it('Ctrl-C while it starts: everything started so far is stopped, exit 130', async () => {
    const demo = run(['--ci'])
    await waitFor(() => /provider dev4 serving at/.test(demo.stderr) || demo.child.exitCode !== null, 'the daemons to serve', 120_000)
    demo.child.kill('SIGINT')
    const result = await demo.done
    expect(result.code, result.stderr).toBe(130)
    expect(result.stderr).toMatch(/SIGINT: stopping the demo/)
    expect(processesOf(base)).toEqual([])
    expect(existsSync(join(demoDir, 'demo.json'))).toBe(false)
  }, 300_000)

  it('refuses modes that do not go together, and the TUI without a terminal, naming what to do', async () => {
    const result = await run(['--ci', '--detach']).done
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--ci and --detach do not go together/)
    const piped = await run([]).done
    expect(piped.code).toBe(2)
    expect(piped.stderr).toMatch(/npm run demo opens the TUI, which needs a terminal \(stdin or stdout is not a terminal\)\.\nHint: Run it headless with `npm run demo -- --ci`/)
    expect(existsSync(join(demoDir, 'demo.json'))).toBe(false)
  })

  it.skipIf(!hasTmux)('interactive: the TUI opens while the network starts (the batch task and the stream appear live); q stops everything', async () => {
    const socket = `ogpu-demo-${process.pid}-${Date.now()}`
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'})
    const capture = () => {
      try {
        return tmux('capture-pane', '-p', '-t', 'demo')
      } catch {
        return ''
      }
    }
    const screenUntil = (check: (text: string) => boolean, what: string, timeoutMs: number) =>
      waitFor(() => {
        const text = capture()
        return check(text) ? text : undefined
      }, what, timeoutMs, 200).catch((error: Error) => {
        throw new Error(`${error.message}; the screen:\n${capture()}`)
      })
    const envArgs = Object.entries({OGPU_CONFIG_DIR: env.OGPU_CONFIG_DIR, OGPU_DATA_DIR: env.OGPU_DATA_DIR, NO_COLOR: '1', TERM: 'xterm-256color'}).map(([k, v]) => `${k}=${v}`)
    // The shell keeps the pane open after the demo exits, with its exit code, for the last check (and a failure's output).
    const command = `env -u CI -u CONTINUOUS_INTEGRATION ${envArgs.join(' ')} ${process.execPath} ${script} --dir ${demoDir} --port 0; echo "DEMO EXITED $?"; sleep 600`
    try {
      tmux('new-session', '-d', '-s', 'demo', '-x', '110', '-y', '30', command)
      const screen = await screenUntil(
        (text) => /^›\s*1 ogpu-tiny-synthetic\s+20\s+40/m.test(text) && /Streams │ #1 ogpu-tiny-synthetic ok 3\/3 subs \(c 2\)/.test(text),
        'the TUI with the batch task and the stream',
        240_000,
      )
      expect(screen).toMatch(/ogpu · devnet \(31337\)/)
      expect(screen).toMatch(/dev1 0x7099…79C8/)
      tmux('send-keys', '-t', 'demo', 'q')
      await screenUntil((text) => /DEMO EXITED 0/.test(text), 'the demo to exit 0', 90_000)
      expect(processesOf(base).filter((p) => !/sleep 600|DEMO EXITED/.test(p))).toEqual([])
      expect(existsSync(join(demoDir, 'demo.json'))).toBe(false)
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server'])
    }
  }, 600_000)
})
