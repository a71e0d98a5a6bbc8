import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {amountJson, parseAmount} from '../../chain/units.js'
import {topUp} from '../../stream/chain.js'
import {parseId} from '../../stream/view.js'

export default class StreamTopup extends BaseCommand<typeof StreamTopup> {
  static override summary = "Add oGPU to a stream's deposit (what providers' vouchers are paid from)."
  static override description = 'Anyone may top up. Vouchers the deposit could not cover stay redeemable and are paid after the top-up. One transaction with a permit where the token supports it.'
  static override examples = ['<%= config.bin %> stream topup 1 25', '<%= config.bin %> stream topup 1 2.5 --json']
  static override args = {
    id: Args.string({description: 'Stream id.', required: true}),
    amount: Args.string({description: 'Decimal oGPU amount, e.g. 12.5.', required: true}),
  }
  static override flags = {...walletFlags}

  async run() {
    const id = parseId(this.args.id)
    const amount = parseAmount(this.args.amount)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => topUp(chain, wallet, id, amount))
    this.log(`Added ${this.args.amount} oGPU to stream ${id}; its deposit is now ${amountJson(result.deposit).value} oGPU.`)
    return {streamId: Number(id), txHash: result.txHash, txHashes: result.txHashes, method: result.method, amount: amountJson(amount), deposit: amountJson(result.deposit)}
  }
}
