import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {color, keyValues, table} from '../../cli/format.js'
import {formatAmount} from '../../chain/units.js'
import {walletFlags} from '../../cli/wallet-flags.js'
import type {DaemonStatus} from '../../provider/daemon.js'
import {fetchDaemonStatus, readDaemonFile} from '../../provider/daemon-file.js'
import {providerStatus} from '../../provider/registration.js'
import {providerDir} from '../../provider/state.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class ProviderStatusCommand extends BaseCommand<typeof ProviderStatusCommand> {
  static override summary = 'Show this wallet\'s provider registration, endpoint and stake, and the live state of its daemon when one runs.'
  static override description = 'When `ogpu provider start` runs for this wallet on this machine, its live state is included: load, queue, models, tasks, council seats and earnings (from its GET /v1/ogpu/status).'
  static override examples = ['<%= config.bin %> provider status', '<%= config.bin %> provider status --wallet dev1 --json']
  static override flags = {wallet: walletFlags.wallet}

  async run() {
    const store = new WalletStore(this.paths)
    const {address} = store.get(store.resolveName(this.flags.wallet))
    const status = await withChain(this.paths, this.flags, (chain) => providerStatus(chain, address))
    const file = readDaemonFile(providerDir(this.paths.dataDir, address))
    const live = file ? await fetchDaemonStatus<DaemonStatus>(file) : undefined
    const daemon = file ? {running: true, pid: file.pid, localUrl: file.localUrl, url: file.url, answering: Boolean(live), ...(live ? {status: live} : {})} : {running: false}
    this.log(
      keyValues([
        ['Provider', status.address],
        ['Registered', status.registered ? color.green(`yes, since ${status.registeredAt}`) : color.yellow('no (`ogpu provider register --endpoint URL`)')],
        ['Endpoint', status.endpoint ?? '-'],
        ['Info hash', status.infoHash ?? '-'],
        ['Staked', `${status.stake.staked.value} oGPU (free ${status.stake.free.value}, locked ${status.stake.locked.value})`],
        ['Unbonding', `${status.stake.unbonding.value} oGPU`],
        ['Council pools', status.councilModels.map((m) => m.slice(0, 14)).join(', ') || color.dim('none (`ogpu provider council join`)')],
        [
          'Daemon',
          !file
            ? color.dim('not running (`ogpu provider start`)')
            : live
              ? color.green(`running, pid ${file.pid}, ${file.localUrl}, up ${live.uptimeSeconds} s${live.bidding ? '' : ', not bidding'}`)
              : color.yellow(`pid ${file.pid} at ${file.localUrl} does not answer`),
        ],
      ]),
    )
    if (live) {
      this.log('')
      this.log(
        keyValues([
          ['Models', live.models.map((m) => `${m.name} (${m.sha256.slice(0, 12)}, ${m.backend}, ${m.busy}/${m.sequences} busy)`).join(', ') || '-'],
          ['Load', `${Math.round(live.load * 100)} %, ${live.queue} queued`],
          ['Strategy', live.strategy],
          ['Bids', `${live.bids.placed} placed, ${live.bids.skipped} skipped, ${live.bids.failed} failed`],
          ['Earnings', `${live.earnings.executorPaid} oGPU executing, ${live.earnings.councilFees} council fees, ${live.earnings.rejectRewards} reject rewards; slashed ${live.earnings.slashed}`],
          ['Chain', `block ${live.chain.cursor}`],
        ]),
      )
      if (live.tasks.length > 0) {
        this.log('')
        this.log(table(['TASK', 'ROLE', 'STATUS', 'PHASE', 'ITEMS', 'BID'], live.tasks.slice(0, 20).map((t) => [t.id, t.role, t.status, t.phase, t.role === 'executor' ? `${t.items.done}/${t.items.total}` : '-', t.price ?? '-'])))
      }
      const streams = Object.entries((live.streams?.streams ?? {}) as Record<string, Record<string, any>>)
      if (streams.length > 0) {
        const oGPU = (wei: string | null) => (wei === null ? '-' : formatAmount(BigInt(wei)))
        this.log('')
        this.log(
          table(
            ['STREAM', 'SUBSCRIPTION', 'REQUESTS', 'PROMPT TOK', 'COMPLETION TOK', 'TOK/S', 'CHARGED', 'VOUCHER', 'REDEEMED', 'UNPAID'],
            streams.map(([id, s]) => [id, s.subscription ?? '-', `${s.requests} (+${s.verifications} verif.)`, s.promptTokens, s.completionTokens, s.tokensPerSecond ?? '-', oGPU(s.charged), oGPU(s.voucher), oGPU(s.redeemed), oGPU(s.unpaid)]),
          ),
        )
      }
    }
    return {...status, daemon}
  }
}
