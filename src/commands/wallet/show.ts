import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {keyValues} from '../../cli/format.js'
import {readBalances, chainTime, readStake, stakeJson} from '../../chain/account.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class WalletShow extends BaseCommand<typeof WalletShow> {
  static override summary = 'Show a wallet\'s address, ETH and oGPU balances and stake.'
  static override examples = ['<%= config.bin %> wallet show', '<%= config.bin %> wallet show dev2 --json', '<%= config.bin %> wallet show --network sepolia']
  static override args = {name: Args.string({description: 'Wallet name. Defaults to the active wallet.'})}

  async run() {
    const store = new WalletStore(this.paths)
    const info = store.get(store.resolveName(this.args.name))
    const result = await withChain(this.paths, this.flags, async (chain) => {
      const [balances, stake, now] = await Promise.all([readBalances(chain, info.address), readStake(chain, info.address), chainTime(chain)])
      return {name: info.name, network: chain.network.name, ...balances, stake: stakeJson(stake, now), dev: info.dev}
    })
    this.log(
      keyValues([
        ['Wallet', `${result.name}${info.active ? ' (active)' : ''}${info.dev ? ' — dev wallet, public key' : ''}`],
        ['Address', result.address],
        ['Network', result.network],
        ['ETH', result.eth.value],
        ['oGPU', result.ogpu.value],
        ['Staked', `${result.stake.staked.value} oGPU (free ${result.stake.free.value}, locked ${result.stake.locked.value}, unbonding ${result.stake.unbonding.value})`],
      ]),
    )
    return result
  }
}
