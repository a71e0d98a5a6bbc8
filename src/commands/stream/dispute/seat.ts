import {Args} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {withChain} from '../../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../../cli/wallet-flags.js'
import {amountJson} from '../../../chain/units.js'
import {seatDispute} from '../../../stream/chain.js'
import {parseId} from '../../../stream/view.js'

export default class StreamDisputeSeat extends BaseCommand<typeof StreamDisputeSeat> {
  static override summary = "Seat a dispute's council: draw it from the staked council pool of the stream's model (anyone)."
  static override description =
    "Works from the block after the dispute was opened: the draw is seeded by that block's hash and reads the pool as of the block before it, so nobody can choose the council. Past 256 blocks the hash is gone and the draw moves to the current block (run it again). A pool too small for a full council drops the dispute and refunds the bond. `ogpu stream dispute open` and the providers' daemons seat disputes themselves; this is for when they did not."
  static override examples = ['<%= config.bin %> stream dispute seat 1', '<%= config.bin %> stream dispute seat 1 --json']
  static override args = {id: Args.string({description: 'Dispute id.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const id = parseId(this.args.id, 'dispute')
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const r = await withChain(this.paths, this.flags, (chain) => seatDispute(chain, wallet, id))
    if (r.outcome === 'seated') this.log(`Dispute ${id}: council seated: ${r.council.join(', ')}; commit until ${new Date(r.commitEnd * 1000).toISOString()}, reveal until ${new Date(r.revealEnd * 1000).toISOString()}.`)
    else if (r.outcome === 'reanchored') this.log(`Dispute ${id}: its draw block was over 256 blocks old; the draw moved to block ${r.drawBlock}. Run \`ogpu stream dispute seat ${id}\` again.`)
    else this.log(`Dispute ${id}: the pool could not seat a full council; the dispute was dropped and the bond of ${amountJson(r.bondRefunded).value} oGPU refunded.`)
    return {
      disputeId: Number(id),
      outcome: r.outcome,
      txHash: r.txHash,
      ...(r.outcome === 'seated' ? {council: r.council, drawBlock: r.drawBlock, commitEnd: new Date(r.commitEnd * 1000).toISOString(), revealEnd: new Date(r.revealEnd * 1000).toISOString()} : {}),
      ...(r.outcome === 'reanchored' ? {drawBlock: r.drawBlock} : {}),
      ...(r.outcome === 'dropped' ? {bondRefunded: amountJson(r.bondRefunded)} : {}),
    }
  }
}
