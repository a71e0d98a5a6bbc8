import {JsonRpcProvider, Network} from 'ethers'

import {ExternalError, UserError} from '../errors/index.js'

export interface ConnectOptions {
  /** Milliseconds to wait for the endpoint to answer. Defaults to 15000. */
  timeoutMs?: number
  /** Milliseconds between polls for new blocks and receipts. Defaults to 500. */
  pollingIntervalMs?: number
  /** The chain id the caller expects; a different one is an error. Defaults to accepting any. */
  expectedChainId?: number
}

/** Calls one JSON-RPC method with a hard timeout, so an unreachable endpoint fails fast with its URL. */
export async function rpcCall<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 15_000): Promise<T> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params}),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    const cause = (error as {cause?: {code?: string}}).cause
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause?.code ?? (error as Error).message)
    throw new ExternalError(`Cannot reach the RPC endpoint ${url} (${reason}).`, {
      code: 'RPC_UNREACHABLE',
      hint: 'Is the node running? For the local devnet run `ogpu devnet start`; otherwise check --rpc or the network file.',
      details: {url},
      cause: error,
    })
  }
  if (!response.ok)
    throw new ExternalError(`The RPC endpoint ${url} answered HTTP ${response.status}.`, {code: 'RPC_ERROR', details: {url}})
  const body = (await response.json().catch(() => undefined)) as {result?: T; error?: {message?: string}} | undefined
  if (!body || body.error)
    throw new ExternalError(`The RPC endpoint ${url} failed ${method}: ${body?.error?.message ?? 'invalid JSON'}.`, {
      code: 'RPC_ERROR',
      details: {url},
    })
  return body.result as T
}

/** Connects to a JSON-RPC endpoint, checking first that it answers and serves the expected chain. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<{provider: JsonRpcProvider; chainId: number}> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UserError(`"${url}" is not a valid RPC URL.`, {code: 'INVALID_RPC_URL', hint: 'Use http(s)://host:port, e.g. http://127.0.0.1:8545.'})
  }
  if (!['http:', 'https:'].includes(parsed.protocol))
    throw new UserError(`RPC URL ${url} must use http or https.`, {code: 'INVALID_RPC_URL'})
  const chainId = Number.parseInt(await rpcCall<string>(url, 'eth_chainId', [], options.timeoutMs), 16)
  if (options.expectedChainId !== undefined && chainId !== options.expectedChainId)
    throw new UserError(`The RPC endpoint ${url} serves chain ${chainId}, but the network expects chain ${options.expectedChainId}.`, {
      code: 'CHAIN_MISMATCH',
      hint: 'Pass the RPC URL of the right chain, or pick the right network with --network.',
    })
  const provider = new JsonRpcProvider(url, chainId, {
    staticNetwork: Network.from(chainId),
    pollingInterval: options.pollingIntervalMs ?? 500,
    batchMaxCount: 1,
    // ethers caches identical calls for 250 ms by default; with instant mining that hands out a stale nonce.
    cacheTimeout: -1,
  })
  return {provider, chainId}
}
