/**
 * The one list of converters from other layers' errors into the hierarchy (src/errors), used by the CLI's single
 * handler (base-command.ts) and the demo's: chain reverts decoded by name, RPC and transaction failures
 * (src/chain/errors.ts). Every command gets them, whatever it imports. They load on the first error, so a command
 * that does not fail never loads them (nor ethers for them).
 */
import {type ErrorConverter, type OgpuError, toOgpuError} from '../errors/index.js'

/** Each converter, loaded lazily, in the order they are tried. Add a layer's converter here, and only here. */
const CONVERTERS: ReadonlyArray<() => Promise<ErrorConverter>> = [async () => (await import('../chain/errors.js')).fromChainError]

let loaded: readonly ErrorConverter[] | undefined

/** Every converter, loaded once. */
export async function errorConverters(): Promise<readonly ErrorConverter[]> {
  loaded ??= await Promise.all(CONVERTERS.map((load) => load()))
  return loaded
}

/** The converters loaded so far: all of them once {@link errorConverters} has resolved, none before. */
export const loadedErrorConverters = (): readonly ErrorConverter[] => loaded ?? []

/** Any error as one of the hierarchy, every converter applied: what the CLI prints and exits with. */
export async function toCliError(err: unknown): Promise<OgpuError> {
  return toOgpuError(err, await errorConverters())
}
