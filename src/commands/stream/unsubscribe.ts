import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {formatDuration} from '../../chain/account.js'
import {amountJson} from '../../chain/units.js'
import {CancelledError} from '../../errors/index.js'
import {unsubscribeFlow} from '../../stream/actions.js'
import {parseId} from '../../stream/view.js'

export default class StreamUnsubscribe extends BaseCommand<typeof StreamUnsubscribe> {
  static override summary = "Leave a stream: start the unsubscribe notice, or finish once it is over (the collateral comes back)."
  static override description = `Leaving takes two steps: the first run starts the stream's unsubscribe notice (you keep serving and can still be disputed); run it again after the notice to leave and get the collateral back. --wait does both in one go. Open disputes that accuse you or seat you hold the exit until they are settled.`
  static override examples = ['<%= config.bin %> stream unsubscribe 1', '<%= config.bin %> stream unsubscribe 1 --wait --json']
  static override args = {id: Args.string({description: 'Stream id.', required: true})}
  static override flags = {
    wait: Flags.boolean({description: 'Wait for the notice to end and finish leaving.', default: false}),
    ...walletFlags,
  }

  async run() {
    const id = parseId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const abort = new AbortController()
    const onSigint = () => abort.abort(new CancelledError(`Stopped waiting; the notice runs on. Finish with \`ogpu stream unsubscribe ${id}\` once it is over.`))
    process.once('SIGINT', onSigint)
    try {
      const result = await withChain(this.paths, this.flags, (chain) =>
        unsubscribeFlow(chain, wallet, id, {
          wait: this.flags.wait,
          signal: abort.signal,
          onWait: (end) => this.note(`Waiting for the unsubscribe notice to end at ${new Date(end * 1000).toISOString()}…`),
        }),
      )
      if (result.step === 'requested') {
        this.log(`Unsubscribe notice started on stream ${id}: it ends at ${result.noticeEnd} (in ${formatDuration(result.noticeSeconds)}).`)
        this.log(`Keep serving until then; then run: ogpu stream unsubscribe ${id}`)
        return result
      }
      this.log(`Left stream ${id}; ${amountJson(result.released).value} oGPU of collateral released.`)
      return {...result, released: amountJson(result.released)}
    } finally {
      process.off('SIGINT', onSigint)
    }
  }
}
