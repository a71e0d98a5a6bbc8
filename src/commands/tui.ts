import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {DashboardSnapshot} from '../dashboard/snapshot.js'

export default class Tui extends BaseCommand<typeof Tui> {
  static override summary = 'Live dashboard of the market: auction book, bid ladders, streams, your wallet and the market pulse.'
  static override description = `Keyboard only: ↑↓ or j/k move, tab switches pane, enter shows the selected pane full screen, / filters the auction book (by status: open, assigned, ended, all; or by model), r refreshes, q quits.

When stdout is not a terminal, or with --once, it prints one plain snapshot and exits; --json prints that snapshot as JSON.`
  static override examples = [
    '<%= config.bin %> tui',
    '<%= config.bin %> tui --wallet dev2',
    '<%= config.bin %> tui --once',
    '<%= config.bin %> tui --json | jq .auction.rows',
  ]
  static override flags = {
    wallet: Flags.string({char: 'w', description: 'Wallet (name or address) shown in "My wallet". Defaults to the active wallet.', env: 'OGPU_WALLET'}),
    once: Flags.boolean({description: 'Print one snapshot as plain text and exit.', default: false}),
    'refresh-ms': Flags.integer({description: 'Milliseconds between chain polls. Defaults to 1000 on the devnet, 3000 elsewhere.', min: 100}),
  }

  async run(): Promise<DashboardSnapshot | undefined> {
    const {openDashboard} = await import('../dashboard/session.js')
    const session = await openDashboard({
      paths: this.paths,
      network: this.flags.network,
      rpc: this.flags.rpc,
      wallet: this.flags.wallet,
      refreshMs: this.flags['refresh-ms'],
    })
    try {
      const interactive = !this.flags.once && !this.jsonEnabled() && process.stdout.isTTY && !isCi()
      if (!interactive) {
        const snapshot = await session.snapshotOnce({limit: this.jsonEnabled() ? Infinity : 20})
        if (!this.jsonEnabled()) {
          const {renderPlain} = await import('../dashboard/plain.js')
          this.log(renderPlain(snapshot, {width: process.stdout.isTTY ? process.stdout.columns : 80}))
        }
        return snapshot
      }
      const {runTui} = await import('../tui/run.js')
      await runTui(session, {colors: !process.env.NO_COLOR && process.env.TERM !== 'dumb'})
      return undefined
    } finally {
      session.dispose()
    }
  }
}

/** Ink draws nothing until exit under CI: print the snapshot there instead. */
function isCi(): boolean {
  const on = (key: string) => key in process.env && process.env[key] !== '0' && process.env[key] !== 'false'
  return on('CI') || on('CONTINUOUS_INTEGRATION')
}
