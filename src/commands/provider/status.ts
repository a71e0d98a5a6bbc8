import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {color, keyValues} from '../../cli/format.js'
import {walletFlags} from '../../cli/wallet-flags.js'
import {providerStatus} from '../../provider/registration.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class ProviderStatusCommand extends BaseCommand<typeof ProviderStatusCommand> {
  static override summary = 'Show this wallet\'s provider registration, endpoint and stake.'
  static override examples = ['<%= config.bin %> provider status', '<%= config.bin %> provider status --wallet dev1 --json']
  static override flags = {wallet: walletFlags.wallet}

  async run() {
    const store = new WalletStore(this.paths)
    const {address} = store.get(store.resolveName(this.flags.wallet))
    const status = await withChain(this.paths, this.flags, (chain) => providerStatus(chain, address))
    this.log(
      keyValues([
        ['Provider', status.address],
        ['Registered', status.registered ? color.green(`yes, since ${status.registeredAt}`) : color.yellow('no (`ogpu provider register --endpoint URL`)')],
        ['Endpoint', status.endpoint ?? '-'],
        ['Info hash', status.infoHash ?? '-'],
        ['Staked', `${status.stake.staked.value} oGPU (free ${status.stake.free.value}, locked ${status.stake.locked.value})`],
        ['Unbonding', `${status.stake.unbonding.value} oGPU`],
      ]),
    )
    return status
  }
}
