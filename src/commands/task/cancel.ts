import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {cancelTask} from '../../market/task-client.js'
import {parseTaskId} from '../../market/view.js'

export default class TaskCancel extends BaseCommand<typeof TaskCancel> {
  static override summary = 'Cancel your task before its first bid; the escrow comes back.'
  static override examples = ['<%= config.bin %> task cancel 3']
  static override args = {id: Args.string({description: 'Task id.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const id = parseTaskId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => cancelTask(chain, wallet, id))
    this.log(`Task ${id} cancelled; its escrow was refunded.`)
    return result
  }
}
