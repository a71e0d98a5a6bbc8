import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {amountJson} from '../../chain/units.js'
import {subscribe} from '../../stream/chain.js'
import {parseId} from '../../stream/view.js'

export default class StreamSubscribe extends BaseCommand<typeof StreamSubscribe> {
  static override summary = "Subscribe your provider to a stream: lock its collateral and serve its requests."
  static override description = `The wallet must be a registered provider (\`ogpu provider register\`) with enough free stake for the stream's collateral (\`ogpu stake deposit\`). A running \`ogpu provider start\` serves the stream's requests and redeems its vouchers.`
  static override examples = ['<%= config.bin %> stream subscribe 1', '<%= config.bin %> stream subscribe 1 --wallet provider --json']
  static override args = {id: Args.string({description: 'Stream id.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const id = parseId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => subscribe(chain, wallet, id))
    this.log(`${wallet.address} subscribed to stream ${id}: ${amountJson(result.collateral).value} oGPU locked; ${result.subscriberCount} subscriber(s) now.`)
    return {streamId: Number(id), provider: wallet.address, txHash: result.txHash, collateral: amountJson(result.collateral), subscriberCount: result.subscriberCount}
  }
}
