import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderTaskTable} from '../../cli/render-task.js'
import {chainTime} from '../../chain/account.js'
import {parseStatus, syncedIndexer, taskJson} from '../../market/view.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class TaskList extends BaseCommand<typeof TaskList> {
  static override summary = 'List batch tasks on the market, newest first.'
  static override examples = ['<%= config.bin %> task list', '<%= config.bin %> task list --status open', '<%= config.bin %> task list --mine --json']
  static override flags = {
    status: Flags.string({description: 'Only tasks in this status: open, assigned, finalized, failed, expired, cancelled.'}),
    mine: Flags.boolean({description: 'Only tasks the active wallet submitted.', default: false}),
    wallet: Flags.string({char: 'w', description: 'Wallet for --mine. Defaults to the active wallet.'}),
    limit: Flags.integer({description: 'Show at most this many tasks.', default: 50, min: 1}),
  }

  async run() {
    const status = this.flags.status ? parseStatus(this.flags.status) : undefined
    const store = new WalletStore(this.paths)
    const mine = this.flags.mine ? store.get(store.resolveName(this.flags.wallet)).address : undefined
    const {tasks, now} = await withChain(this.paths, this.flags, async (chain) => {
      const indexer = await syncedIndexer(chain, this.paths)
      const selected = indexer
        .tasks()
        .filter((t) => (!status || t.status === status) && (!mine || t.client === mine))
        .sort((a, b) => b.id - a.id)
      return {tasks: selected.map(taskJson), now: await chainTime(chain)}
    })
    const shown = tasks.slice(0, this.flags.limit)
    if (shown.length === 0) this.log('No tasks match.')
    else this.log(renderTaskTable(shown, now))
    if (tasks.length > shown.length) this.log(`… and ${tasks.length - shown.length} more (--limit).`)
    return {total: tasks.length, tasks: shown}
  }
}
