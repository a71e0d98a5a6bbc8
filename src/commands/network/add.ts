import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {keyValues} from '../../cli/format.js'
import {addNetwork} from '../../chain/deploy-network.js'
import {UserError} from '../../errors/index.js'

export default class NetworkAdd extends BaseCommand<typeof NetworkAdd> {
  static override summary = 'Add a network whose contracts someone else deployed.'
  static override description = 'Checks that the RPC answers and that an ogpu TaskMarket lives at --market (the registry and token addresses are read from it) and, with --stream-market, that the StreamMarket shares them, then writes the network file.'
  static override examples = [
    '<%= config.bin %> network add sepolia --rpc https://rpc.example.org --market 0xTaskMarket --deploy-block 512300',
    '<%= config.bin %> network add sepolia --rpc https://rpc.example.org --market 0xTaskMarket --stream-market 0xStreamMarket',
  ]
  static override args = {name: Args.string({description: 'Name for the network.', required: true})}
  static override flags = {
    market: Flags.string({description: 'Address of the TaskMarket.', required: true}),
    'stream-market': Flags.string({description: 'Address of the StreamMarket (stream tasks), checked to share the TaskMarket\'s registry and token. Defaults to none.'}),
    'deploy-block': Flags.integer({description: 'Block of the deployment (indexers start there). Defaults to 0.', min: 0}),
    force: Flags.boolean({description: 'Replace an existing network file of the same name.', default: false}),
  }

  async run() {
    if (!this.flags.rpc) throw new UserError('--rpc URL is required to add a network.', {code: 'MISSING_RPC'})
    const network = await addNetwork({
      paths: this.paths,
      name: this.args.name,
      rpcUrl: this.flags.rpc,
      market: this.flags.market,
      streamMarket: this.flags['stream-market'],
      deployBlock: this.flags['deploy-block'],
      force: this.flags.force,
    })
    this.log(keyValues([['Network', network.name], ['Chain id', network.chainId], ['Token', network.contracts.token], ['Registry', network.contracts.registry], ['TaskMarket', network.contracts.taskMarket], ['StreamMarket', network.contracts.streamMarket ?? '-'], ['File', network.file]]))
    return network
  }
}
