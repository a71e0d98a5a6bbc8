/**
 * The running daemon's record, `<provider dir>/daemon.json` (pid, URLs, network): written when the daemon serves,
 * removed on a clean stop. A leftover of a killed daemon is ignored (its pid is gone). Light on purpose: read by
 * `ogpu provider status` without loading the daemon (or llama.cpp).
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

export interface DaemonFile {
  pid: number
  address: string
  /** The URL registered on chain. */
  url: string
  /** Where the server listens. */
  localUrl: string
  network: string
  startedAt: string
}

export const daemonFilePath = (dir: string): string => join(dir, 'daemon.json')

/** The running daemon of a provider directory, if its process is alive. */
export function readDaemonFile(dir: string): DaemonFile | undefined {
  const path = daemonFilePath(dir)
  if (!existsSync(path)) return undefined
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as DaemonFile
    process.kill(file.pid, 0)
    return file
  } catch {
    return undefined
  }
}

/** Asks a running daemon for its live status (GET /v1/ogpu/status); undefined when it does not answer. */
export async function fetchDaemonStatus<T = unknown>(file: DaemonFile, timeoutMs = 2000): Promise<T | undefined> {
  try {
    const response = await fetch(`${file.localUrl}/v1/ogpu/status`, {signal: AbortSignal.timeout(timeoutMs)})
    if (!response.ok) return undefined
    return (await response.json()) as T
  } catch {
    return undefined
  }
}
