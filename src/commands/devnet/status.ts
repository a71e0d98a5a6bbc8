import {BaseCommand} from '../../cli/base-command.js'
import {color, keyValues} from '../../cli/format.js'
import {devnetStatus, type DevnetStatus} from '../../devnet/devnet.js'

export default class DevnetStatusCommand extends BaseCommand<typeof DevnetStatusCommand> {
  static override summary = 'Show whether the local devnet is running, where, and at which block.'
  static override examples = ['<%= config.bin %> devnet status', '<%= config.bin %> devnet status --json']

  async run(): Promise<DevnetStatus> {
    const status = await devnetStatus(this.paths)
    if (!status.running) {
      this.log(`Devnet: ${color.yellow('not running')}. Start it with \`ogpu devnet start\`.`)
      return status
    }
    const r = status.record!
    this.log(
      keyValues([
        ['Devnet', color.green('running')],
        ['RPC', r.rpcUrl],
        ['Chain id', r.chainId],
        ['Block', status.blockNumber],
        ['Block time', r.blockTime === 0 ? 'instant' : `${r.blockTime} s`],
        ['pid', r.pid],
        ['Mode', r.detached ? 'background (--detach)' : 'foreground'],
        ['State', r.statePath ?? 'not saved'],
        ['Started', r.startedAt],
        ['Log', r.logFile],
      ]),
    )
    return status
  }
}
