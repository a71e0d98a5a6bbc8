import {BaseCommand} from '../../cli/base-command.js'
import {stopDevnet} from '../../devnet/devnet.js'

export default class DevnetStop extends BaseCommand<typeof DevnetStop> {
  static override summary = 'Stop the local devnet (saving its state when it was started with --state).'
  static override examples = ['<%= config.bin %> devnet stop']

  async run() {
    const result = await stopDevnet(this.paths)
    this.log(`Devnet stopped (anvil pid ${result.pid})${result.statePath ? `; state saved to ${result.statePath}` : ''}.`)
    return result
  }
}
