import {Args} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {withChain} from '../../../cli/chain.js'
import {renderDispute} from '../../../cli/render-stream.js'
import {chainTime} from '../../../chain/account.js'
import {getDispute} from '../../../stream/chain.js'
import {disputeJson, parseId} from '../../../stream/view.js'

export default class StreamDisputeShow extends BaseCommand<typeof StreamDisputeShow> {
  static override summary = 'Show a dispute: the receipt, the council, its phases and verdicts.'
  static override examples = ['<%= config.bin %> stream dispute show 1', '<%= config.bin %> stream dispute show 1 --json']
  static override args = {id: Args.string({description: 'Dispute id.', required: true})}

  async run() {
    const id = parseId(this.args.id, 'dispute')
    const dispute = await withChain(this.paths, this.flags, async (chain) => {
      const [d, now] = await Promise.all([getDispute(chain, id), chainTime(chain)])
      return disputeJson(d, now)
    })
    this.log(renderDispute(dispute))
    return dispute
  }
}
