import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {NetworkStore} from '../../chain/networks.js'

export default class NetworkUse extends BaseCommand<typeof NetworkUse> {
  static override summary = 'Make a network the active one (the default of --network).'
  static override examples = ['<%= config.bin %> network use devnet', '<%= config.bin %> network use sepolia']
  static override args = {name: Args.string({description: 'Network name (see `ogpu network list`).', required: true})}

  async run() {
    const network = new NetworkStore(this.paths).use(this.args.name)
    this.log(`Active network: ${network.name} (chain ${network.chainId}, ${network.rpcUrl})`)
    return network
  }
}
