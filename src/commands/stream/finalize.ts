import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {amountJson} from '../../chain/units.js'
import {finalizeClose} from '../../stream/chain.js'
import {parseId} from '../../stream/view.js'

export default class StreamFinalize extends BaseCommand<typeof StreamFinalize> {
  static override summary = "Finalize a closing stream after its notice: refund the deposit's rest to the client, release every subscriber."
  static override description = 'Anyone may finalize. It needs the close notice to be over and no dispute to be open.'
  static override examples = ['<%= config.bin %> stream finalize 1', '<%= config.bin %> stream finalize 1 --json']
  static override args = {id: Args.string({description: 'Stream id.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const id = parseId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => finalizeClose(chain, wallet, id))
    this.log(`Stream ${id} closed; ${amountJson(result.refund).value} oGPU refunded to its client, subscribers released.`)
    return {streamId: Number(id), txHash: result.txHash, refund: amountJson(result.refund)}
  }
}
