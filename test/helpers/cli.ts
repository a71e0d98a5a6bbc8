import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const binary = join(repoRoot, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** An isolated ogpu home: its own config and data directories, removed by `dispose()`. */
export interface OgpuHome {
  dir: string
  env: NodeJS.ProcessEnv
  /** Runs the real binary (`bin/run.js`) the way a user does. */
  run(args: string[], options?: {env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number}): Promise<CliResult>
  /** Runs with --json and parses stdout (on failure too: errors are JSON then). */
  json<T = any>(args: string[], options?: {env?: NodeJS.ProcessEnv; input?: string}): Promise<CliResult & {data: T}>
  dispose(): void
}

export function createHome(prefix = 'ogpu-test-'): OgpuHome {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OGPU_CONFIG_DIR: join(dir, 'config'),
    OGPU_DATA_DIR: join(dir, 'data'),
    NO_COLOR: '1',
  }
  delete env.OGPU_PASSWORD
  delete env.OGPU_WALLET
  delete env.OGPU_NETWORK
  delete env.OGPU_RPC
  const run: OgpuHome['run'] = (args, options = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [binary, ...args], {env: {...env, ...options.env}, stdio: ['pipe', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({code, stdout, stderr})
      })
      child.stdin.end(options.input ?? '')
    })
  return {
    dir,
    env,
    run,
    async json(args, options) {
      const result = await run([...args, '--json'], options)
      let data: any
      try {
        data = JSON.parse(result.stdout)
      } catch {
        throw new Error(`ogpu ${args.join(' ')} printed no JSON (exit ${result.code}).\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
      }
      return {...result, data}
    },
    dispose: () => rmSync(dir, {recursive: true, force: true}),
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/**
 * The JSON body of a fetch response, untyped: a test reads the fields it asserts on (`Response.json()` is
 * `Promise<unknown>` in Node's types).
 */
export async function jsonOf(response: Response): Promise<any> {
  return response.json()
}

/** Polls `check` until it returns a truthy value (no fixed sleeps). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** Starts a detached devnet in `home` through the real binary; returns its --json info. */
export async function startDevnet(home: OgpuHome, extra: string[] = []): Promise<any> {
  const port = await freePort()
  const result = await home.json(['devnet', 'start', '--detach', '--port', String(port), '--block-time', '0', ...extra])
  if (result.code !== 0) throw new Error(`devnet start failed: ${result.stdout}\n${result.stderr}`)
  return result.data
}

export async function stopDevnet(home: OgpuHome): Promise<void> {
  await home.run(['devnet', 'stop'])
}
