/** Stopping a demo: the processes it recorded in demo.json, from this process or any other. */
import {rmSync} from 'node:fs'
import {join} from 'node:path'

import {readDevnetRecord} from '../devnet/devnet.js'
import {UserError} from '../errors/index.js'
import {demoPaths} from './info.js'
import {aliveProcesses, type DemoProcess, readState, removeState, stopDemoProcess} from './processes.js'

/** Refuses to start over a demo that still runs. */
export function assertNotRunning(dir: string): void {
  const running = aliveProcesses(readState(dir))
  if (running.length > 0)
    throw new UserError(`A demo is already running from ${dir} (${running.map((p) => `${p.name}: pid ${p.pid}`).join(', ')}).`, {
      code: 'DEMO_RUNNING',
      hint: 'Stop it with `npm run demo -- --stop`, or use another directory with --dir.',
    })
}

/** Stops processes, newest first (the devnet last), each group until it is gone. */
export async function stopAll(processes: readonly DemoProcess[]): Promise<DemoProcess[]> {
  const alive = aliveProcesses({pid: 0, detached: false, startedAt: '', processes: [...processes]})
  const devnet = alive.filter((p) => p.name === 'devnet')
  const others = alive.filter((p) => p.name !== 'devnet').reverse()
  await Promise.all(others.map((p) => stopDemoProcess(p)))
  for (const p of devnet) await stopDemoProcess(p)
  return alive
}

/**
 * Stops the demo recorded in `dir` (detached, or left behind by a crash): every process it started. Returns what was
 * running (nothing when no demo runs).
 */
export async function stopDemo(dir: string): Promise<{stopped: DemoProcess[]; dir: string}> {
  const state = readState(dir)
  const stopped = await stopAll(state?.processes ?? [])
  removeState(dir)
  const paths = demoPaths(dir)
  const devnet = readDevnetRecord(paths)
  if (devnet) rmSync(join(paths.dataDir, 'devnet', 'devnet.json'), {force: true})
  return {stopped, dir}
}
