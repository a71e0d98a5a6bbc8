/**
 * A provider daemon in a child process, for e2e tests: the real binary (`ogpu provider start --json`) or the test
 * fixture (test/fixtures/provider-daemon.ts, which takes test-only options). Both print the ready line of
 * src/provider/ready.ts on stdout once they serve; `ready()` reads stdout line by line as JSON and resolves on it.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {join} from 'node:path'
import {createInterface} from 'node:readline'

import type {ProviderReadyLine} from '../../src/provider/ready.js'
import {binary, repoRoot} from './cli.js'

export type DaemonKind = 'cli' | 'fixture'

export interface DaemonStartOptions {
  /** How long `ready()` waits for the ready line. Defaults to 120 s. */
  readyTimeoutMs?: number
}

export class Daemon {
  /** The binary with `--json` (the log goes to stderr), `flags` after `provider start --wallet WALLET`. */
  static cli(home: {env: NodeJS.ProcessEnv}, wallet: string, flags: string[] = []): Daemon {
    return new Daemon(home, wallet, 'cli', [binary, 'provider', 'start', '--wallet', wallet, '--json', ...flags])
  }

  /** The fixture, with its options JSON (`{wallet, ...options}`). */
  static fixture(home: {env: NodeJS.ProcessEnv}, wallet: string, options: Record<string, unknown> = {}): Daemon {
    return new Daemon(home, wallet, 'fixture', ['--import', 'tsx', join(repoRoot, 'test/fixtures/provider-daemon.ts'), JSON.stringify({wallet, ...options})])
  }

  readonly child: ChildProcess
  /** stdout and stderr as they came. */
  output = ''
  stdout = ''
  /** The ready line, once it came. */
  info?: ProviderReadyLine
  /** Settles when the process exited: its exit code, -1 when a signal ended it. */
  readonly exit: Promise<number | null>
  private readonly readyLine: Promise<ProviderReadyLine>

  /** Spawns `node ...args` in the repository root with the home's environment. */
  constructor(
    home: {env: NodeJS.ProcessEnv},
    readonly wallet: string,
    readonly kind: DaemonKind | string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, args, {env: home.env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']})
    this.child.stdout!.on('data', (d) => {
      this.output += d
      this.stdout += d
    })
    this.child.stderr!.on('data', (d) => (this.output += d))
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))))
    const lines = createInterface({input: this.child.stdout!, crlfDelay: Infinity})
    this.readyLine = new Promise<ProviderReadyLine>((resolve, reject) => {
      lines.on('line', (line) => {
        const value = parseJsonLine(line)
        if (isReadyLine(value)) resolve(value)
      })
      // 'close' (not 'exit'): every byte of its output has been read by then.
      this.child.on('close', (code, signal) => reject(new Error(`${this.wallet} daemon exited (${signal ?? code}) before it was ready:\n${this.output}`)))
      this.child.on('error', reject)
    })
    this.readyLine.catch(() => {}) // read by ready(); a daemon nobody waits for must not fail the run
  }

  /** Resolves once the ready line came; rejects with the output when the process exits first, or on the timeout. */
  async ready(options: DaemonStartOptions = {}): Promise<this> {
    const timeoutMs = options.readyTimeoutMs ?? 120_000
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${this.wallet} daemon to be ready:\n${this.output}`)), timeoutMs)
    })
    try {
      this.info = await Promise.race([this.readyLine, timeout])
    } finally {
      clearTimeout(timer)
    }
    return this
  }

  /** Where it listens (from the ready line). */
  get localUrl(): string {
    if (!this.info) throw new Error(`${this.wallet} daemon is not ready yet`)
    return this.info.localUrl
  }

  get address(): string {
    if (!this.info) throw new Error(`${this.wallet} daemon is not ready yet`)
    return this.info.address
  }

  /** GET /v1/ogpu/status. */
  async status(): Promise<any> {
    return (await fetch(`${this.localUrl}/v1/ogpu/status`)).json()
  }

  /** SIGTERM: the clean stop. Resolves to the exit code. */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM')
    return this.exit
  }

  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL')
    await this.exit
  }

  /** Stops it cleanly, and kills it when it has not exited after `graceMs` (defaults to 30 s). Resolves to the exit code. */
  async dispose(graceMs = 30_000): Promise<number | null> {
    const timer = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs)
    try {
      return await this.stop()
    } finally {
      clearTimeout(timer)
    }
  }

  /** Its JSON log lines (with --log-format json), in order; the ready line is not one of them. */
  logs(): Array<Record<string, any>> {
    return this.output
      .split('\n')
      .filter((l) => l.startsWith('{"'))
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((l) => !isReadyLine(l))
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }
}

/** The ready line (a log line has a level; the ready line has none). */
function isReadyLine(value: Record<string, unknown> | undefined): value is ProviderReadyLine & Record<string, unknown> {
  return value?.event === 'ready' && typeof value.localUrl === 'string' && value.level === undefined
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value: unknown = JSON.parse(line)
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
