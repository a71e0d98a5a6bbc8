import {Args} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {withChain} from '../../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../../cli/wallet-flags.js'
import {amountJson} from '../../../chain/units.js'
import {finalizeDispute} from '../../../stream/chain.js'
import {parseId} from '../../../stream/view.js'

export default class StreamDisputeFinalize extends BaseCommand<typeof StreamDisputeFinalize> {
  static override summary = 'Settle a dispute after its reveal phase: slash and remove an invalid response\'s provider, or pay a valid one the bond.'
  static override description = 'Anyone may finalize once the reveal phase is over (or every seat has revealed). The majority of revealed verdicts decides; a tie (no reveals included) counts as valid.'
  static override examples = ['<%= config.bin %> stream dispute finalize 1', '<%= config.bin %> stream dispute finalize 1 --json']
  static override args = {id: Args.string({description: 'Dispute id.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const id = parseId(this.args.id, 'dispute')
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const r = await withChain(this.paths, this.flags, (chain) => finalizeDispute(chain, wallet, id))
    this.log(
      r.valid
        ? `Dispute ${id}: the response was judged valid (${r.approvals} valid, ${r.rejections} invalid); the provider got ${amountJson(r.toProvider).value} oGPU of the bond.`
        : `Dispute ${id}: the response was judged invalid (${r.approvals} valid, ${r.rejections} invalid); the provider was slashed ${amountJson(r.providerSlashed).value} oGPU and removed; ${amountJson(r.toClient).value} oGPU went to the client.`,
    )
    return {
      disputeId: Number(id),
      txHash: r.txHash,
      valid: r.valid,
      approvals: r.approvals,
      rejections: r.rejections,
      providerSlashed: amountJson(r.providerSlashed),
      rewardPerVoter: amountJson(r.rewardPerVoter),
      toClient: amountJson(r.toClient),
      toProvider: amountJson(r.toProvider),
    }
  }
}
