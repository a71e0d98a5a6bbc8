/**
 * The front of `npm run demo` (scripts/demo.mjs parses the arguments and calls `runDemo`): picks the mode, renders,
 * handles Ctrl-C, and turns errors into messages and exit codes like the CLI does. The work is in demo.ts.
 *
 *   npm run demo                     everything, then the TUI on it; quitting the TUI (q, Ctrl-C) stops it all
 *   npm run demo -- --ci             the same headless: waits for the batch task, prints a report, stops, exits 0
 *   npm run demo -- --detach --json  leaves it running in the background and prints what it is
 *   npm run demo -- --stop           stops a detached demo
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {appendFileSync} from 'node:fs'
import {join} from 'node:path'

import {toCliError} from '../cli/errors.js'
import {color} from '../cli/format.js'
import {resolvePaths} from '../config/paths.js'
import {BugError, CancelledError, ExternalError, type OgpuError, UserError} from '../errors/index.js'
import {DEMO_CLIENT, type DemoNetwork, startDemo} from './demo.js'
import type {DemoInfo} from './info.js'
import {type BatchReport, batchReportLines} from './report.js'
import {type StreamReport, streamReportLines} from './stream.js'
import {stopDemo} from './stop.js'

export type DemoMode = 'interactive' | 'ci' | 'detach' | 'stop'

export interface RunDemoOptions {
  mode: DemoMode
  /** Print JSON on stdout instead of text. Defaults to false. */
  json?: boolean
  /** The demo's directory. Defaults to `<ogpu data dir>/demo`. */
  dir?: string
  /** The ogpu checkout (bin/run.js, examples/). */
  root: string
  version: string
  /** The devnet's port. Defaults to 8545 when free, else a free one. */
  port?: number
  /** Seconds between devnet blocks. Defaults to 1. */
  blockTime?: number
  /** --ci: how long to wait for the batch task, in seconds. Defaults to 600. */
  timeoutSeconds?: number
}

export interface DemoReport {
  network: DemoInfo
  batch: BatchReport
  stream: StreamReport
}

export const defaultDemoDir = (): string => join(resolvePaths().dataDir, 'demo')

const out = (text: string) => process.stdout.write(`${text}\n`)
const note = (text: string) => process.stderr.write(`${text}\n`)

/** Runs the demo in one mode; resolves to the process's exit code. */
export async function runDemo(options: RunDemoOptions): Promise<number> {
  const dir = options.dir ?? defaultDemoDir()
  const abort = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) return
    note(color.dim(`\n${signal}: stopping the demo…`))
    abort.abort(new CancelledError('Demo stopped; everything it started is stopped too.'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    if (options.mode === 'stop') return await stop(dir, options.json ?? false)
    if (options.mode === 'interactive') return await interactive(dir, options, abort)
    const network = await startDemo({
      dir,
      root: options.root,
      version: options.version,
      port: options.port,
      blockTime: options.blockTime,
      detached: options.mode === 'detach',
      onStep: (m) => note(color.dim(`• ${m}`)),
      signal: abort.signal,
    })
    if (options.mode === 'detach') {
      if (options.json) out(JSON.stringify(network.info, null, 2))
      else renderInfo(network.info)
      return 0
    }
    try {
      note(color.dim(`• Waiting for batch task ${network.info.taskId} to be finalized`))
      const batch = await network.waitForBatch({timeoutMs: (options.timeoutSeconds ?? 600) * 1000, signal: abort.signal})
      note(color.dim(`• Waiting for the vouchers of stream ${network.info.streamId}`))
      const stream = await network.streamReport({signal: abort.signal})
      const report: DemoReport = {network: network.info, batch, stream}
      if (options.json) out(JSON.stringify(report, null, 2))
      else out([...batchReportLines(batch), '', ...streamReportLines(stream)].join('\n'))
      if (stream.responses.length === 0 || stream.tokens === 0)
        throw new ExternalError(`Stream ${stream.streamId} gave no tokens.`, {code: 'DEMO_STREAM_SILENT', hint: `See the gateway and provider logs in ${join(dir, 'logs')}.`})
      if (batch.status !== 'finalized')
        throw new UserError(`Batch task ${batch.taskId} ended ${batch.status}, not finalized.`, {code: 'DEMO_TASK_NOT_FINALIZED', hint: `See the provider logs in ${join(dir, 'logs')}.`})
      return 0
    } finally {
      note(color.dim('• Stopping the demo'))
      await network.stop()
      note(color.dim('• Demo stopped'))
    }
  } catch (error) {
    return fail(await toCliError(abort.signal.aborted ? abort.signal.reason : error), options.json ?? false)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

async function stop(dir: string, json: boolean): Promise<number> {
  const {stopped} = await stopDemo(dir)
  if (json) out(JSON.stringify({dir, running: stopped.length > 0, stopped: stopped.map((p) => ({name: p.name, pid: p.pid}))}, null, 2))
  else if (stopped.length === 0) out(`No demo is running from ${dir}.`)
  else out(`Stopped the demo: ${stopped.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}.`)
  return 0
}

/**
 * The demo with the TUI: the TUI opens as soon as the providers serve (the batch task's auction and the stream appear
 * in it live); the remaining steps go to <dir>/logs/demo.log meanwhile. Quitting the TUI (q, Ctrl-C) stops the demo,
 * also in the middle of its start; a failed step closes the TUI and is reported after it.
 */
async function interactive(dir: string, options: RunDemoOptions, abort: AbortController): Promise<number> {
  const ci = ['CI', 'CONTINUOUS_INTEGRATION'].some((key) => key in process.env && process.env[key] !== '0' && process.env[key] !== 'false')
  if (!process.stdout.isTTY || !process.stdin.isTTY || ci)
    throw new UserError(`npm run demo opens the TUI, which needs a terminal (${ci ? 'CI is set' : 'stdin or stdout is not a terminal'}).`, {
      code: 'DEMO_NO_TERMINAL',
      hint: 'Run it headless with `npm run demo -- --ci`, or in the background with `npm run demo -- --detach`.',
    })
  let tui: ChildProcess | undefined
  let tuiExited: Promise<void> | undefined
  let quit = false
  const stepLog = join(dir, 'logs', 'demo.log')
  const onStep = (m: string) => (tui ? appendFileSync(stepLog, `${new Date().toISOString()} ${m}\n`) : note(color.dim(`• ${m}`)))
  const onReady = (env: NodeJS.ProcessEnv) => {
    note(color.dim(`• Opening the TUI (q quits and stops the demo; the next steps are logged in ${stepLog})`))
    tui = spawn(process.execPath, [join(options.root, 'bin', 'run.js'), 'tui', '--wallet', DEMO_CLIENT], {env, stdio: 'inherit'})
    tuiExited = new Promise<void>((resolve) => {
      tui!.once('error', () => resolve())
      tui!.once('exit', () => resolve())
    }).then(() => {
      quit = true
      abort.abort(new CancelledError('The TUI was closed.'))
    })
  }
  // Stopped from outside (SIGTERM): the TUI closes first, so the terminal is restored before the last notes.
  abort.signal.addEventListener('abort', () => {
    if (tui && tui.exitCode === null && tui.signalCode === null) tui.kill('SIGTERM')
  })
  const closeTui = async () => {
    if (tui && tui.exitCode === null && tui.signalCode === null) tui.kill('SIGTERM')
    await tuiExited
  }
  let network: DemoNetwork
  try {
    network = await startDemo({dir, root: options.root, version: options.version, port: options.port, blockTime: options.blockTime, onStep, onReady, signal: abort.signal})
  } catch (error) {
    await closeTui()
    if (quit) {
      note(color.dim('• Demo stopped'))
      return 0
    }
    throw error
  }
  try {
    if (!tui) throw new BugError('The demo started without opening the TUI.')
    await tuiExited
    return 0
  } finally {
    await closeTui()
    note(color.dim('• Stopping the demo'))
    await network.stop()
    note(color.dim('• Demo stopped'))
  }
}

function renderInfo(info: DemoInfo): void {
  const lines = [
    `The demo runs in the background.`,
    `  RPC        ${info.rpcUrl} (chain ${info.chainId})`,
    `  batch task ${info.taskId}`,
    `  stream     ${info.streamId} · gateway ${info.gatewayUrl} (OpenAI-compatible: POST /v1/chat/completions)`,
    ...info.wallets.map((w) => `  ${w.role.padEnd(10)} ${w.name} ${w.address}${w.url ? ` ${w.url}` : ''}`),
    `  logs       ${join(info.dir, 'logs')}`,
    '',
    `Use the CLI on it:  OGPU_CONFIG_DIR=${info.configDir} OGPU_DATA_DIR=${info.dataDir} ./bin/run.js tui`,
    `Stop it:           npm run demo -- --stop`,
  ]
  out(lines.join('\n'))
}

function fail(error: OgpuError, json: boolean): number {
  if (json) out(JSON.stringify({error: error.toJSON()}, null, 2))
  else note(`${color.red(`Error: ${error.message}`)}${error.hint ? `\nHint: ${error.hint}` : ''}`)
  return error.exitCode
}
