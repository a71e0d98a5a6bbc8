/**
 * The provider daemon's ready line: one JSON object on one line of stdout, printed once the daemon serves, bids and
 * follows the chain (`ogpu provider start --json`, and the test fixture that starts the daemon in-process). A
 * supervisor (a script, a test harness) reads stdout line by line and waits for `"event": "ready"` instead of
 * matching a log message.
 */
import type {ProviderDaemonHandle} from './daemon.js'

export interface ProviderReadyLine {
  event: 'ready'
  address: string
  /** The URL registered on chain. */
  url: string
  /** Where the server listens. */
  localUrl: string
  port: number
  pid: number
  network: {name: string; chainId: number}
  strategy: string
  models: Array<{name: string; sha256: string; backend: string}>
}

export function readyLine(handle: ProviderDaemonHandle): ProviderReadyLine {
  const status = handle.status()
  return {
    event: 'ready',
    address: handle.address,
    url: handle.url,
    localUrl: handle.localUrl,
    port: handle.port,
    pid: process.pid,
    network: status.network,
    strategy: status.strategy,
    models: status.models.map((m) => ({name: m.name, sha256: m.sha256, backend: m.backend})),
  }
}

/** The ready line as printed: compact JSON and a newline. */
export function formatReadyLine(handle: ProviderDaemonHandle): string {
  return `${JSON.stringify(readyLine(handle))}\n`
}
