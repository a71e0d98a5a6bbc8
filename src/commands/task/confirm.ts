import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {confirmTask} from '../../market/task-client.js'
import {parseTaskId} from '../../market/view.js'

export default class TaskConfirm extends BaseCommand<typeof TaskConfirm> {
  static override summary = 'Accept your task early: the executor is paid the rest of its price and the task is finalized.'
  static override examples = ['<%= config.bin %> task confirm 3']
  static override args = {id: Args.string({description: 'Task id.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const id = parseTaskId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => confirmTask(chain, wallet, id))
    this.log(`Task ${id} confirmed and finalized.`)
    return result
  }
}
