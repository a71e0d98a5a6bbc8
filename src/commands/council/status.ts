import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {color, table} from '../../cli/format.js'
import {walletFlags} from '../../cli/wallet-flags.js'
import {type AmountJson, amountJson} from '../../chain/units.js'
import {checkpointSeats} from '../../market/earnings.js'
import {syncedIndexer} from '../../market/view.js'
import {providerDir, readProviderState} from '../../provider/state.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export interface SeatJson {
  taskId: number
  taskStatus: string
  executor: string | null
  seat: number
  checkpoints: Array<{
    k: number
    state: string
    committed: boolean
    revealed: boolean
    accept: boolean | null
    /** This wallet's verdict as kept by its daemon (also before the reveal). */
    localVerdict: boolean | null
    /** The daemon keeps the salt of a committed, unrevealed verdict. */
    saltKept: boolean | null
    fee: AmountJson | null
    slashed: AmountJson | null
    problems: string[]
  }>
  earned: AmountJson
}

export default class CouncilStatus extends BaseCommand<typeof CouncilStatus> {
  static override summary = 'List the council seats of this wallet and its verdicts, checkpoint by checkpoint.'
  static override description = 'Seats come from the chain (the market indexer); what the provider daemon of this machine decided and kept (verdicts before their reveal, salts) comes from its state under <data dir>/provider/<address>/.'
  static override examples = ['<%= config.bin %> council status', '<%= config.bin %> council status --wallet dev3 --json']
  static override flags = {wallet: walletFlags.wallet}

  async run() {
    const store = new WalletStore(this.paths)
    const {address} = store.get(store.resolveName(this.flags.wallet))
    const indexer = await withChain(this.paths, this.flags, (chain) => syncedIndexer(chain, this.paths))
    let local: ReturnType<typeof readProviderState>
    try {
      local = readProviderState(providerDir(this.paths.dataDir, address))
    } catch {
      local = undefined // unreadable local state: the chain view still stands
    }
    const seats: SeatJson[] = []
    for (const task of indexer.tasks().sort((a, b) => b.id - a.id)) {
      const seat = task.council.indexOf(address)
      if (seat < 0) continue
      const votes = local?.tasks[task.id]?.votes ?? {}
      const onChain = new Map(checkpointSeats(task, address).map((c) => [c.k, c]))
      let earned = 0n
      const checkpoints: SeatJson['checkpoints'] = []
      for (let k = 0; k < task.checkpoints; k++) {
        const cp = onChain.get(k)
        const vote = votes[k]
        if (!cp && !vote) continue
        earned += (cp?.fee ?? 0n) + (cp?.rejectReward ?? 0n)
        checkpoints.push({
          k,
          state: cp?.state ?? 'none',
          committed: cp?.committed ?? false,
          revealed: cp?.revealed ?? false,
          accept: cp?.accept ?? null,
          localVerdict: vote ? vote.accept : null,
          saltKept: vote ? true : cp?.committed && !cp.revealed ? false : null,
          fee: cp?.fee === undefined ? null : amountJson(cp.fee),
          slashed: cp?.slashed === undefined ? null : amountJson(cp.slashed),
          problems: vote?.problems ?? [],
        })
      }
      seats.push({taskId: task.id, taskStatus: task.status, executor: task.executor ?? null, seat, checkpoints, earned: amountJson(earned)})
    }
    if (seats.length === 0) this.log(color.dim(`${address} holds no council seat. Seats are drawn from a task's bidders: run \`ogpu provider start\` to bid.`))
    else {
      const verdict = (c: SeatJson['checkpoints'][number]) =>
        c.revealed ? (c.accept ? color.green('accept') : color.red('reject')) : c.committed ? `committed${c.localVerdict === null ? '' : ` (${c.localVerdict ? 'accept' : 'reject'})`}` : c.localVerdict === null ? '-' : `decided ${c.localVerdict ? 'accept' : 'reject'}`
      this.log(
        table(
          ['TASK', 'STATUS', 'CHECKPOINT', 'ROUND', 'VERDICT', 'FEE', 'NOTE'],
          seats.flatMap((s) =>
            (s.checkpoints.length ? s.checkpoints : [undefined]).map((c) => [
              s.taskId,
              s.taskStatus,
              c ? c.k : '-',
              c ? c.state : 'waiting',
              c ? verdict(c) : '-',
              c?.fee ? c.fee.value : c?.slashed ? `slashed ${c.slashed.value}` : '-',
              c?.problems.length ? c.problems[0]! : c?.saltKept === false ? color.yellow('salt not on this machine') : '',
            ]),
          ),
        ),
      )
    }
    return {address, seats}
  }
}
