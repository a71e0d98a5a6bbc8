import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {amountJson} from '../../chain/units.js'
import {CancelledError} from '../../errors/index.js'
import {closeStreamFlow} from '../../stream/actions.js'
import {parseId} from '../../stream/view.js'

export default class StreamClose extends BaseCommand<typeof StreamClose> {
  static override summary = 'Close your stream: start its close notice (and with --finalize, wait it out and get the deposit back).'
  static override description = `During the notice providers keep redeeming vouchers and disputes can still be opened. After it, \`ogpu stream finalize ID\` (anyone) refunds what is left of the deposit and releases every subscriber's collateral.`
  static override examples = ['<%= config.bin %> stream close 1', '<%= config.bin %> stream close 1 --finalize']
  static override args = {id: Args.string({description: 'Stream id.', required: true})}
  static override flags = {
    finalize: Flags.boolean({description: 'Wait for the close notice to end, then finalize (refund and release).', default: false}),
    ...walletFlags,
  }

  async run() {
    const id = parseId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const abort = new AbortController()
    const onSigint = () => abort.abort(new CancelledError(`Stopped waiting; stream ${id} keeps closing. Finalize it later with \`ogpu stream finalize ${id}\`.`))
    process.once('SIGINT', onSigint)
    try {
      const result = await withChain(this.paths, this.flags, (chain) =>
        closeStreamFlow(chain, wallet, id, {
          finalize: this.flags.finalize,
          signal: abort.signal,
          onWait: (closeAt) => this.note(`Waiting for the close notice to end at ${new Date(closeAt * 1000).toISOString()}…`),
        }),
      )
      if (result.finalized) this.log(`Stream ${id} closed; ${amountJson(result.finalized.refund).value} oGPU refunded, subscribers released.`)
      else this.log(`Stream ${id} is closing; the notice ends at ${result.closeAt}. Then run: ogpu stream finalize ${id}`)
      return {...result, finalized: result.finalized ? {txHash: result.finalized.txHash, refund: amountJson(result.finalized.refund)} : null}
    } finally {
      process.off('SIGINT', onSigint)
    }
  }
}
