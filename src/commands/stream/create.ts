import {join} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {color, keyValues} from '../../cli/format.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {amountJson} from '../../chain/units.js'
import {createFromSpec} from '../../stream/actions.js'
import {loadStreamSpec} from '../../stream/spec.js'

export default class StreamCreate extends BaseCommand<typeof StreamCreate> {
  static override summary = 'Open a stream from a spec file: publish its terms, escrow the deposit, and let providers subscribe.'
  static override description = `Validates SPEC against the schema (\`ogpu stream schema\`), resolves the model's sha256 (hashing model.path when the spec names a local file), writes the terms document (its keccak256 is the stream's specHash) and creates the stream on the StreamMarket, escrowing the deposit with a permit (one transaction).

Providers then join with \`ogpu stream subscribe ID\`; the gateway (\`ogpu gateway\`) serves the stream to OpenAI clients.`
  static override examples = [
    '<%= config.bin %> stream create examples/stream.yaml',
    '<%= config.bin %> stream create stream.yaml --spec-uri https://example.org/terms.json --json',
  ]
  static override args = {spec: Args.string({description: 'Stream spec (YAML).', required: true})}
  static override flags = {
    'spec-uri': Flags.string({description: 'Public URI where providers can read the published terms. Defaults to a file: URI (providers on this machine only).'}),
    ...walletFlags,
  }

  async run() {
    const loaded = loadStreamSpec(this.args.spec)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const created = await withChain(this.paths, this.flags, (chain) =>
      createFromSpec(chain, wallet, loaded, {specUri: this.flags['spec-uri'], specsDir: join(this.paths.dataDir, 'specs')}),
    )
    const {spec} = loaded
    this.log(
      keyValues([
        ['Stream', Number(created.streamId)],
        ['Model', created.modelHash],
        ['Deposit', `${amountJson(spec.deposit).value} oGPU (${created.method === 'permit' ? 'one transaction with a permit' : created.method === 'approve' ? 'approve + create' : 'none'})`],
        ['Terms', created.specUri],
        ['Transaction', created.txHash],
      ]),
    )
    this.log(color.dim(`\nProviders join with: ogpu stream subscribe ${created.streamId}\nSee it with: ogpu stream show ${created.streamId}`))
    return {
      streamId: Number(created.streamId),
      txHash: created.txHash,
      txHashes: created.txHashes,
      block: created.block,
      method: created.method,
      deposit: amountJson(spec.deposit),
      modelHash: created.modelHash,
      specHash: created.specHash,
      specUri: created.specUri,
    }
  }
}
