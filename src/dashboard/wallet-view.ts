/** The wallet pane of the dashboard: balances, stake, what the market paid the address, its provider daemon, its tasks. */
import {type AmountJson, amountJson} from '../chain/units.js'
import type {ProviderLiveStatus} from './provider-status.js'
import type {SnapshotSources} from './sources.js'
import {type WalletTask, marketActivity} from './wallet.js'

export interface WalletView {
  name: string | null
  address: string
  eth: AmountJson | null
  ogpu: AmountJson | null
  stake: {staked: AmountJson; free: AmountJson; locked: AmountJson; unbonding: AmountJson; unbondingEnd: string | null; unbondingSecondsLeft: number | null} | null
  /** From the indexer: what the market paid this address. */
  earnings: {executorPaid: AmountJson; councilFees: AmountJson; rejectRewards: AmountJson; total: AmountJson; slashed: AmountJson}
  provider: {
    registered: boolean | null
    endpoint: string | null
    /** ok: the status endpoint answered; unreachable: it did not; unknown: not asked yet; none: not a registered provider. */
    daemon: 'ok' | 'unreachable' | 'unknown' | 'none'
    error: string | null
    live: ProviderLiveStatus | null
  }
  /** Tasks this address takes part in that have not ended (from the indexer), newest first. */
  tasks: WalletTask[]
  /** Why the last chain read failed (the figures shown are then the previous ones). */
  error: string | null
}

export function walletView(sources: Pick<SnapshotSources, 'market' | 'now' | 'wallet'>, options: {tasks?: number} = {}): WalletView | null {
  const wallet = sources.wallet
  if (!wallet) return null
  const {earnings, active} = marketActivity(sources.market.tasks.values(), wallet.address)
  const c = wallet.chain
  const status = wallet.status
  return {
    name: wallet.name,
    address: wallet.address,
    eth: c ? amountJson(c.eth) : null,
    ogpu: c ? amountJson(c.ogpu) : null,
    stake: c
      ? {
          staked: amountJson(c.staked),
          free: amountJson(c.staked - c.locked),
          locked: amountJson(c.locked),
          unbonding: amountJson(c.unbonding),
          unbondingEnd: c.unbonding > 0n ? new Date(c.unbondingEnd * 1000).toISOString() : null,
          unbondingSecondsLeft: c.unbonding > 0n ? Math.max(0, c.unbondingEnd - sources.now) : null,
        }
      : null,
    earnings: {
      executorPaid: amountJson(earnings.executorPaid),
      councilFees: amountJson(earnings.councilFees),
      rejectRewards: amountJson(earnings.rejectRewards),
      total: amountJson(earnings.executorPaid + earnings.councilFees + earnings.rejectRewards),
      slashed: amountJson(earnings.slashed),
    },
    provider: {
      registered: c ? c.registered : null,
      endpoint: c?.endpoint ?? null,
      daemon: c && !c.registered ? 'none' : !status ? 'unknown' : status.reachable ? 'ok' : 'unreachable',
      error: status && !status.reachable ? status.error : null,
      live: status?.reachable ? status : null,
    },
    tasks: active.slice(0, options.tasks ?? 20),
    error: wallet.chainError,
  }
}
