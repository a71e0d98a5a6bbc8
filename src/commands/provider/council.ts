import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {color, keyValues} from '../../cli/format.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {withSigner} from '../../chain/context.js'
import {sendTx} from '../../chain/tx.js'
import {UserError} from '../../errors/index.js'
import {ModelStore} from '../../gpu/index.js'
import {joinCouncilPools, leaveCouncilPools} from '../../provider/council-pool.js'

export default class ProviderCouncil extends BaseCommand<typeof ProviderCouncil> {
  static override summary = 'Join or leave the council pool of a model, or show the pools this wallet is in.'
  static override description =
    'Batch councils are drawn from the staked pool of the task\'s model, weighted by stake, not from the bidders. A provider in a pool may be seated (and have the task\'s collateral locked) on tasks it never bid for, and must then check and vote. `ogpu provider start` joins the pools of the models it serves unless --no-council-duty. At most 4 pools per provider.'
  static override examples = [
    '<%= config.bin %> provider council status',
    '<%= config.bin %> provider council join --model smollm2-135m',
    '<%= config.bin %> provider council leave --model 0x3f2a...  --json',
  ]
  static override args = {
    action: Args.string({description: 'join, leave or status', options: ['join', 'leave', 'status'], default: 'status'}),
  }
  static override flags = {
    model: Flags.string({description: 'Model: name or .gguf path in the model store, or its sha256 (repeatable). Defaults to every model in the store.', multiple: true}),
    ...walletFlags,
  }

  async run() {
    const {action} = this.args
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const models = action === 'status' ? [] : await this.models()
    return withChain(this.paths, this.flags, async (chain) => {
      const signer = wallet.connect(chain.provider)
      const registry = withSigner(chain.registry, signer)
      const send = (what: string, tx: () => ReturnType<typeof registry.joinCouncil>) => sendTx(chain.provider, what, tx, chain.tx)
      if (action === 'join' && !(await chain.registry.isRegistered(signer.address)))
        throw new UserError(`${signer.address} is not a registered provider.`, {code: 'NOT_REGISTERED', hint: 'Register first: `ogpu provider register --endpoint URL`.'})
      let joined: string[] = []
      let left: string[] = []
      let skipped: Array<{model: string; reason: string}> = []
      if (action === 'join') ({joined, skipped} = await joinCouncilPools({registry, provider: signer.address, models, sendTx: send}))
      if (action === 'leave') left = await leaveCouncilPools({registry, provider: signer.address, models, sendTx: send})
      const pools = await Promise.all(
        (await chain.registry.councilModelsOf(signer.address)).map(async (model) => ({model, members: Number(await chain.registry.poolSize(model))})),
      )
      if (joined.length) this.log(`${color.green('Joined')} ${joined.length} council pool(s).`)
      if (left.length) this.log(`${color.green('Left')} ${left.length} council pool(s).`)
      for (const s of skipped) this.log(color.yellow(`Not joined ${s.model}: ${s.reason}`))
      this.log(pools.length ? keyValues(pools.map((p) => [p.model, `${p.members} member(s)`])) : 'In no council pool.')
      return {address: signer.address, action, joined, left, skipped, pools}
    })
  }

  /** The flags' models as sha256 hex (a 64-hex sha256 is taken as is; names and paths come from the store). */
  private async models(): Promise<string[]> {
    const store = new ModelStore({dataDir: this.paths.dataDir})
    const refs = this.flags.model ?? (await store.list()).filter((m) => !m.missing).map((m) => m.sha256)
    if (refs.length === 0) throw new UserError('No model given and the model store is empty.', {code: 'NO_MODELS', hint: 'Pass --model SHA256 or add a model with `ogpu model add`.'})
    const out: string[] = []
    for (const ref of refs) out.push(/^(0x)?[0-9a-fA-F]{64}$/.test(ref) ? `0x${ref.replace(/^0x/, '').toLowerCase()}` : `0x${(await store.locate(ref)).sha256}`)
    return out
  }
}
