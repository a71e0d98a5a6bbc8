import type {ChainContext} from '../chain/context.js'
import type {OgpuPaths} from '../config/paths.js'

/** Opens the chain a command's --network/--rpc flags point at. The caller disposes it (see `withChain`). */
export async function openChainFromFlags(paths: OgpuPaths, flags: {network?: string; rpc?: string}): Promise<ChainContext> {
  const {openChain} = await import('../chain/context.js')
  return openChain({paths, network: flags.network, rpc: flags.rpc})
}

/** Runs `fn` with an open chain and always closes it. */
export async function withChain<T>(paths: OgpuPaths, flags: {network?: string; rpc?: string}, fn: (chain: ChainContext) => Promise<T>): Promise<T> {
  const chain = await openChainFromFlags(paths, flags)
  try {
    return await fn(chain)
  } finally {
    chain.dispose()
  }
}
