import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {withChain} from '../../../cli/chain.js'
import {keyValues} from '../../../cli/format.js'
import {unlockWallet, walletFlags} from '../../../cli/wallet-flags.js'
import {amountJson} from '../../../chain/units.js'
import {checkDispute, readReceiptFile} from '../../../stream/actions.js'
import {openDispute} from '../../../stream/chain.js'

export default class StreamDisputeOpen extends BaseCommand<typeof StreamDisputeOpen> {
  static override summary = "Dispute a provider's response by its signed receipt (anyone: the client, another provider, any account), paying the stream's bond."
  static override description = `FILE is the JSON the gateway saves for each response: {provider, receipt, signature, evidenceUri}. The receipt's signature is checked before anything is paid; then the stream's dispute bond is paid by this wallet and the council (the first subscribers other than the accused and this wallet, longest-subscribed first) commits and reveals a verdict. Invalid: the provider is slashed and removed; the client who disputed gets its bond back and the slash's rest, any other disputer its bond back and half of the rest (the client the other half). Valid: the disputer loses its bond to the provider and the accept voters.`
  static override examples = ['<%= config.bin %> stream dispute open --receipt receipt.json', '<%= config.bin %> stream dispute open --receipt receipt.json --evidence-uri https://example.org/evidence.json --json']
  static override flags = {
    receipt: Flags.string({description: 'The receipt file the gateway wrote: {provider, receipt, signature, evidenceUri}.', required: true}),
    'evidence-uri': Flags.string({description: "Where the council fetches the evidence. Defaults to the file's evidenceUri."}),
    ...walletFlags,
  }

  async run() {
    const input = readReceiptFile(this.flags.receipt)
    if (this.flags['evidence-uri'] !== undefined) input.evidenceUri = this.flags['evidence-uri']
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, async (chain) => {
      await checkDispute(chain, wallet, input)
      return openDispute(chain, wallet, input)
    })
    this.log(
      keyValues([
        ['Dispute', Number(result.disputeId)],
        ['Stream', Number(result.streamId)],
        ['Provider', input.provider],
        ['Bond', `${amountJson(result.bond).value} oGPU`],
        ['Council', result.council.join(', ')],
        ['Commit ends', new Date(result.commitEnd * 1000).toISOString()],
        ['Reveal ends', new Date(result.revealEnd * 1000).toISOString()],
      ]),
    )
    this.log(`\nFollow it with: ogpu stream dispute show ${result.disputeId}`)
    return {
      disputeId: Number(result.disputeId),
      streamId: Number(result.streamId),
      provider: input.provider,
      bond: amountJson(result.bond),
      council: result.council,
      commitEnd: new Date(result.commitEnd * 1000).toISOString(),
      revealEnd: new Date(result.revealEnd * 1000).toISOString(),
      txHash: result.txHash,
      txHashes: result.txHashes,
    }
  }
}
