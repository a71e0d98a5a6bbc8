import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/format.js'
import {NetworkStore} from '../../chain/networks.js'

export default class NetworkList extends BaseCommand<typeof NetworkList> {
  static override summary = 'List known networks; * marks the active one.'
  static override examples = ['<%= config.bin %> network list', '<%= config.bin %> network list --json']

  async run() {
    const store = new NetworkStore(this.paths)
    const active = store.activeName()
    const networks = store.list().map((n) => ({...n, active: n.name === active}))
    if (networks.length === 0) this.log('No networks yet. Start the devnet (`ogpu devnet start`) or deploy (`ogpu deploy --rpc URL`).')
    else this.log(table(['', 'NAME', 'CHAIN', 'RPC', 'REGISTRY'], networks.map((n) => [n.active ? '*' : '', n.name, n.chainId, n.rpcUrl, n.contracts.registry])))
    return {active, networks}
  }
}
