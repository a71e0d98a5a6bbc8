import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderStreamTable} from '../../cli/render-stream.js'
import {UserError} from '../../errors/index.js'
import type {StreamStatus} from '../../stream/chain.js'
import {parseStreamStatus, streamRows} from '../../stream/view.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class StreamList extends BaseCommand<typeof StreamList> {
  static override summary = 'List streams on the StreamMarket, newest first (open ones unless --all or --status).'
  static override examples = ['<%= config.bin %> stream list', '<%= config.bin %> stream list --all', '<%= config.bin %> stream list --mine --status closing --json']
  static override flags = {
    status: Flags.string({description: 'Only streams in this status: active, closing, closed.'}),
    all: Flags.boolean({description: 'Include closed streams. Defaults to active and closing ones only.', default: false}),
    mine: Flags.boolean({description: 'Only streams the wallet created.', default: false}),
    wallet: Flags.string({char: 'w', description: 'Wallet for --mine. Defaults to the active wallet.'}),
    limit: Flags.integer({description: 'Show at most this many streams.', default: 50, min: 1}),
  }

  async run() {
    if (this.flags.status && this.flags.all)
      throw new UserError('--status and --all contradict each other.', {code: 'INVALID_FLAGS', hint: 'Use --status STATUS for one status, --all for every status.'})
    const status: StreamStatus[] | undefined = this.flags.status ? [parseStreamStatus(this.flags.status)] : this.flags.all ? undefined : ['active', 'closing']
    const store = new WalletStore(this.paths)
    const client = this.flags.mine ? store.get(store.resolveName(this.flags.wallet)).address : undefined
    const {total, streams} = await withChain(this.paths, this.flags, (chain) => streamRows(chain, {status, client, limit: this.flags.limit}))
    if (streams.length === 0) this.log(total === 0 ? 'No streams yet. Open one with `ogpu stream create SPEC.yaml`.' : 'No streams match.')
    else this.log(renderStreamTable(streams))
    return {total, streams}
  }
}
