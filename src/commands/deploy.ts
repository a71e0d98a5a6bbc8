import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {color, keyValues} from '../cli/format.js'
import {unlockWallet, walletFlags} from '../cli/wallet-flags.js'
import {deployNetwork} from '../chain/deploy-network.js'
import {UserError} from '../errors/index.js'

export default class Deploy extends BaseCommand<typeof Deploy> {
  static override summary = 'Deploy the ogpu contracts to any EVM chain and write its network file.'
  static override description = 'Deploys OGPUToken (or uses --token), ProviderRegistry and TaskMarket with the active wallet as admin, then writes <config dir>/networks/NAME.json so every command can use the chain with --network NAME (or `ogpu network use NAME`).'
  static override examples = [
    '<%= config.bin %> deploy --rpc https://sepolia.example.org --name sepolia',
    '<%= config.bin %> deploy --rpc http://127.0.0.1:8545 --name local --unbonding-period 600 --json',
    '<%= config.bin %> deploy --rpc https://rpc.example.org --token 0xTokenAddress',
  ]
  static override flags = {
    name: Flags.string({description: 'Name of the network file. Defaults to chain-<chainId>.'}),
    token: Flags.string({description: 'Use this existing ERC-20 (with permit) as oGPU instead of deploying OGPUToken.'}),
    'unbonding-period': Flags.integer({description: 'Seconds between `stake withdraw` and `stake claim`.', default: 7 * 24 * 3600}),
    force: Flags.boolean({description: 'Replace an existing network file of the same name.', default: false}),
    ...walletFlags,
  }

  async run() {
    const {flags} = this
    if (!flags.rpc) throw new UserError('Which chain? --rpc URL is required.', {code: 'MISSING_RPC', hint: 'e.g. ogpu deploy --rpc http://127.0.0.1:8545'})
    const {wallet} = await unlockWallet(this.paths, flags)
    const result = await deployNetwork({
      paths: this.paths,
      rpcUrl: flags.rpc,
      name: flags.name,
      signer: wallet,
      existingToken: flags.token,
      unbondingPeriod: flags['unbonding-period'],
      force: flags.force,
      onStep: (m) => this.note(color.dim(`• ${m}`)),
    })
    this.log(keyValues([['Network', result.name], ['Chain id', result.chainId], ['Token', result.contracts.token], ['ProviderRegistry', result.contracts.registry], ['TaskMarket', result.contracts.taskMarket], ['Admin', result.admin], ['File', result.file]]))
    this.log(color.dim(`\nUse it with --network ${result.name}, or make it the default: ogpu network use ${result.name}`))
    return result
  }
}
