/**
 * The demo's child processes: each runs detached (its own process group, so a Ctrl-C in the terminal reaches the
 * demo, which stops them in order) with its output in a log file, and is recorded in the demo's state file as soon as
 * it exists, so that `npm run demo -- --stop` can stop whatever a crashed or detached demo left running.
 */
import {spawn} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {isAlive} from '../devnet/anvil.js'
import {ExternalError} from '../errors/index.js'
import {writeFileDurable} from '../storage/index.js'

export interface DemoProcess {
  /** What it is, e.g. `provider dev2`. */
  name: string
  pid: number
  /** Its process group is its own (pid): stopping signals the whole group. */
  group: boolean
  /** Where its output goes. */
  log: string
}

/** `<dir>/demo.json`: what a running demo is made of. */
export interface DemoState {
  /** The process that started the demo (the foreground demo, or the one that detached it). */
  pid: number
  detached: boolean
  startedAt: string
  processes: DemoProcess[]
  /** The demo's description once it is up (what --detach --json printed). */
  info?: unknown
}

export const stateFile = (dir: string): string => join(dir, 'demo.json')

export function readState(dir: string): DemoState | undefined {
  const file = stateFile(dir)
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoState
  } catch {
    return undefined
  }
}

export function writeState(dir: string, state: DemoState): void {
  mkdirSync(dir, {recursive: true})
  writeFileDurable(dir, basename(stateFile(dir)), `${JSON.stringify(state, null, 2)}\n`, {mode: 'umask'})
}

export function removeState(dir: string): void {
  rmSync(stateFile(dir), {force: true})
}

/** The recorded processes still alive. */
export function aliveProcesses(state: DemoState | undefined): DemoProcess[] {
  return (state?.processes ?? []).filter((p) => isAlive(p.pid))
}

export interface SpawnOptions {
  name: string
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  cwd: string
  /** Where stdout goes. */
  stdoutFile: string
  /** Where stderr goes. Defaults to stdoutFile. */
  stderrFile?: string
}

/** Starts a detached child whose output goes to files; it survives this process unless stopped. */
export function spawnLogged(options: SpawnOptions): DemoProcess {
  mkdirSync(dirname(options.stdoutFile), {recursive: true})
  const out = openSync(options.stdoutFile, 'w')
  const err = options.stderrFile ? openSync(options.stderrFile, 'w') : out
  try {
    const child = spawn(options.command, options.args, {cwd: options.cwd, env: options.env, stdio: ['ignore', out, err], detached: true})
    if (child.pid === undefined) throw new ExternalError(`Could not start ${options.name} (${options.command}).`, {code: 'DEMO_SPAWN_FAILED'})
    child.on('error', () => {}) // a failed spawn shows as an exit; the caller watches the log and the pid
    child.unref()
    return {name: options.name, pid: child.pid, group: true, log: options.stderrFile ?? options.stdoutFile}
  } finally {
    closeSync(out)
    if (err !== out) closeSync(err)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function signal(p: DemoProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(p.group ? -p.pid : p.pid, sig)
  } catch {
    // gone already
  }
}

function groupAlive(p: DemoProcess): boolean {
  if (!p.group) return isAlive(p.pid)
  try {
    process.kill(-p.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** SIGTERM to the process (and its group), SIGKILL after `graceMs`; resolves when every member is gone. */
export async function stopDemoProcess(p: DemoProcess, graceMs = 20_000): Promise<void> {
  if (!groupAlive(p)) return
  signal(p, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (groupAlive(p)) {
    if (Date.now() > deadline) {
      signal(p, 'SIGKILL')
      break
    }
    await sleep(50)
  }
  const hard = Date.now() + 5000
  while (groupAlive(p) && Date.now() < hard) await sleep(20)
}

/**
 * Waits until `read()` returns a value, failing early (with the log's tail) when the process exits first.
 */
export async function waitForProcess<T>(p: DemoProcess, what: string, read: () => T | undefined, options: {timeoutMs: number; signal?: AbortSignal}): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    options.signal?.throwIfAborted()
    const value = read()
    if (value !== undefined) return value
    if (!isAlive(p.pid))
      throw new ExternalError(`${p.name} exited before ${what}.\n${logTail(p.log)}`, {code: 'DEMO_PROCESS_EXITED', details: {log: p.log}})
    if (Date.now() > deadline)
      throw new ExternalError(`${p.name} did not get to ${what} within ${Math.round(options.timeoutMs / 1000)} s.\n${logTail(p.log)}`, {code: 'DEMO_TIMEOUT', details: {log: p.log}})
    await sleep(100)
  }
}

/** The last lines of a log file (for error messages). */
export function logTail(file: string, lines = 12): string {
  if (!existsSync(file)) return `(no log at ${file})`
  const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  return `Last lines of ${file}:\n${text}`
}

/** The first JSON object a process printed in its stdout file, once it is complete. */
export function firstJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined
  const text = readFileSync(file, 'utf8')
  const start = text.indexOf('{')
  if (start < 0) return undefined
  try {
    return JSON.parse(text.slice(start)) as T
  } catch {
    return undefined
  }
}
