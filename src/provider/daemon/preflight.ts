/**
 * Preflight: what must hold before a daemon loads anything — the wallet is a registered provider with free stake,
 * and no other daemon runs for it. Each failure is a user error that says the command that fixes it.
 */
import {readStake} from '../../chain/account.js'
import type {ChainContext} from '../../chain/context.js'
import {type ProviderRecord, readProvider} from '../../chain/contracts/registry.js'
import {formatAmount} from '../../chain/units.js'
import {UserError} from '../../errors/index.js'
import {readDaemonFile} from '../daemon-file.js'

export interface PreflightOptions {
  chain: ChainContext
  address: string
  /** The provider's state directory. */
  dir: string
  /** ` --wallet NAME` for hints, or "". */
  walletFlag: string
  /** The URL to suggest for registration. */
  defaultUrl: string
}

/** Checks registration, stake and the directory; returns the registration. */
export async function preflight(o: PreflightOptions): Promise<ProviderRecord> {
  const {chain, address} = o
  // Registration and stake first: nothing else is worth loading without them.
  const registration = await readProvider(chain.registry, address)
  if (!registration.registered)
    throw new UserError(`${address} is not registered as a provider on ${chain.network.name}.`, {
      code: 'NOT_REGISTERED',
      hint: `Register it first: ogpu provider register --endpoint ${o.defaultUrl}${o.walletFlag}`,
    })
  const stake = await readStake(chain, address)
  if (stake.free <= 0n)
    throw new UserError(`${address} has no free stake to lock as collateral (staked ${formatAmount(stake.staked)} oGPU, locked ${formatAmount(stake.locked)}).`, {
      code: 'NO_FREE_STAKE',
      hint: `Stake some first: ogpu stake deposit AMOUNT${o.walletFlag}`,
    })
  const running = readDaemonFile(o.dir)
  if (running && running.pid !== process.pid)
    throw new UserError(`A provider daemon for ${address} already runs (pid ${running.pid}, ${running.localUrl}).`, {
      code: 'DAEMON_RUNNING',
      hint: `Stop it first (kill ${running.pid}), or use another wallet.`,
    })
  return registration
}
