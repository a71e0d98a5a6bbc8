import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderStream} from '../../cli/render-stream.js'
import {parseId, showStream} from '../../stream/view.js'

export default class StreamShow extends BaseCommand<typeof StreamShow> {
  static override summary = 'Show one stream: terms, deposit, spend, subscribers (endpoint health, collateral, redeemed) and open disputes.'
  static override description = "Each subscriber's endpoint is checked with GET {endpoint}/health (short timeout); one that does not answer is shown as unreachable, with the reason."
  static override examples = ['<%= config.bin %> stream show 1', '<%= config.bin %> stream show 1 --no-health --json']
  static override args = {id: Args.string({description: 'Stream id.', required: true})}
  static override flags = {
    health: Flags.boolean({description: "Check each subscriber's endpoint (GET /health). Defaults to on; --no-health skips it.", default: true, allowNo: true}),
    'health-timeout': Flags.integer({description: 'Milliseconds to wait for each health check. Defaults to 1500.', default: 1500, min: 1}),
  }

  async run() {
    const id = parseId(this.args.id)
    const {stream, now} = await withChain(this.paths, this.flags, async (chain) => {
      const stream = await showStream(chain, id, {health: this.flags.health, healthTimeoutMs: this.flags['health-timeout']})
      const block = await chain.provider.getBlock('latest')
      return {stream, now: block?.timestamp ?? Math.floor(Date.now() / 1000)}
    })
    this.log(renderStream(stream, now))
    return stream
  }
}
