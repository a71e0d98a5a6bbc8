import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {withChain} from '../../../cli/chain.js'
import {keyValues} from '../../../cli/format.js'
import {unlockWallet, walletFlags} from '../../../cli/wallet-flags.js'
import {amountJson} from '../../../chain/units.js'
import {disputeFlow, readReceiptFile} from '../../../stream/actions.js'

export default class StreamDisputeOpen extends BaseCommand<typeof StreamDisputeOpen> {
  static override summary = "Dispute a provider's response by its signed receipt (anyone: the client, another provider, any account), paying the stream's bond."
  static override description = `FILE is the JSON the gateway saves for each response: {provider, receipt, signature, evidenceUri}. The receipt's signature is checked before anything is paid; then the stream's dispute bond is paid by this wallet, and a block later the council is drawn at random, weighted by stake, from the providers in the staked council pool of the stream's model (never the accused, this wallet or the client; each seat locks the stream's collateral), and it commits and reveals a verdict. A pool too small for a full council drops the dispute and refunds the bond. Invalid: the provider is slashed and removed; the client who disputed gets its bond back and the slash's rest, any other disputer its bond back and half of the rest (the client the other half). Valid: the disputer loses its bond to the provider and the accept voters.`
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
    const result = await withChain(this.paths, this.flags, (chain) => disputeFlow(chain, wallet, input))
    const d = result.dispute
    const seated = d.state === 'open' || d.state === 'valid' || d.state === 'invalid'
    this.log(
      keyValues([
        ['Dispute', Number(result.disputeId)],
        ['Stream', Number(result.streamId)],
        ['Provider', input.provider],
        ['Bond', `${amountJson(result.bond).value} oGPU`],
        ['Council', seated ? d.council.join(', ') : d.state === 'no-council' ? 'none: the pool could not seat a full council (bond refunded, dispute dropped)' : `not seated yet (drawn from block ${d.drawBlock})`],
        ...(seated
          ? ([
              ['Commit ends', new Date(d.commitEnd * 1000).toISOString()],
              ['Reveal ends', new Date(d.revealEnd * 1000).toISOString()],
            ] as Array<[string, string]>)
          : []),
      ]),
    )
    if (d.state === 'seating') this.log(`\nSeating failed: ${result.pendingReason ?? 'not tried'}\nSeat it with: ogpu stream dispute seat ${result.disputeId} (providers' daemons seat it too)`)
    else if (d.state !== 'no-council') this.log(`\nFollow it with: ogpu stream dispute show ${result.disputeId}`)
    return {
      disputeId: Number(result.disputeId),
      streamId: Number(result.streamId),
      provider: input.provider,
      bond: amountJson(result.bond),
      state: d.state,
      drawBlock: d.drawBlock,
      council: d.council,
      commitEnd: seated ? new Date(d.commitEnd * 1000).toISOString() : null,
      revealEnd: seated ? new Date(d.revealEnd * 1000).toISOString() : null,
      ...(result.pendingReason ? {pendingReason: result.pendingReason} : {}),
      txHash: result.txHash,
      txHashes: [...result.txHashes, ...(result.seatTxHash ? [result.seatTxHash] : [])],
    }
  }
}
