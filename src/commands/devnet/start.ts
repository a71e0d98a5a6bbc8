import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {color, keyValues, table} from '../../cli/format.js'
import {type DevnetInfo, startDevnet} from '../../devnet/devnet.js'
import {ExternalError} from '../../errors/index.js'

export default class DevnetStart extends BaseCommand<typeof DevnetStart> {
  static override summary = 'Start a local OpenGPU network: anvil with the contracts deployed and 10 funded dev wallets.'
  static override description = `Starts anvil (shipped in npm) on 127.0.0.1, deploys the ogpu contracts (token, registry, batch market), gives each of the 10 well-known dev accounts 10000 ETH and 100000 oGPU, saves them as wallets dev0..dev9 and writes the network file "devnet" that every other command reads.

Runs in the foreground until Ctrl-C, then stops anvil cleanly. With --detach it runs in the background; manage it with \`ogpu devnet status\` and \`ogpu devnet stop\`. With --state FILE the chain is saved on exit and loaded on the next start, contracts and balances included.

The dev keys are public: never send real funds to them.`
  static override examples = [
    '<%= config.bin %> devnet start',
    '<%= config.bin %> devnet start --detach --json',
    '<%= config.bin %> devnet start --state ~/.ogpu-chain.json --block-time 2',
    '<%= config.bin %> devnet start --port 9545 --block-time 0',
  ]
  static override flags = {
    port: Flags.integer({char: 'p', description: 'TCP port on 127.0.0.1.', default: 8545}),
    'block-time': Flags.integer({description: 'Seconds between blocks (interval mining); 0 mines each transaction at once.', default: 1}),
    state: Flags.string({description: 'Save the chain to this file on exit and load it on start (anvil state dump).'}),
    detach: Flags.boolean({char: 'd', description: 'Run in the background and return once the network is ready.', default: false}),
    'unbonding-period': Flags.integer({description: 'Seconds between `stake withdraw` and `stake claim` on this devnet.', default: 120}),
  }

  async run(): Promise<DevnetInfo> {
    const {flags} = this
    const handle = await startDevnet({
      paths: this.paths,
      port: flags.port,
      blockTime: flags['block-time'],
      statePath: flags.state,
      detach: flags.detach,
      unbondingPeriod: flags['unbonding-period'],
      onStep: (message) => this.note(color.dim(`• ${message}`)),
    })
    this.render(handle.info)
    if (flags.detach) return handle.info

    if (this.jsonEnabled()) this.logJson(handle.info)
    this.log(color.dim('\nRunning. Press Ctrl-C to stop.'))
    const signal = await Promise.race([
      new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'))
        process.once('SIGTERM', () => resolve('SIGTERM'))
      }),
      handle.exited.then(() => 'exited'),
    ])
    if (signal === 'exited')
      throw new ExternalError(`anvil stopped unexpectedly; see ${handle.info.logFile}.`, {code: 'ANVIL_FAILED'})
    this.note(color.dim(`\nStopping the devnet${handle.info.statePath ? ` (saving state to ${handle.info.statePath})` : ''}…`))
    await handle.stop()
    this.note('Devnet stopped.')
    // In the foreground the JSON was printed when the network became ready.
    return undefined as unknown as DevnetInfo
  }

  private render(info: DevnetInfo): void {
    this.log(
      keyValues([
        ['RPC', info.rpcUrl],
        ['Chain id', info.chainId],
        ['Block time', info.blockTime === 0 ? 'instant (one block per transaction)' : `${info.blockTime} s`],
        ['Token (oGPU)', info.contracts.token],
        ['ProviderRegistry', info.contracts.registry],
        ['TaskMarket', info.contracts.taskMarket],
        ['Network file', info.networkFile],
        ['State', info.statePath ? `${info.statePath}${info.resumed ? ' (resumed)' : ''}` : 'not saved (use --state FILE)'],
        ['anvil', `pid ${info.pid}, log ${info.logFile}`],
      ]),
    )
    this.log(`\n${table(['WALLET', 'ADDRESS'], info.wallets.map((w) => [w.name, w.address]))}`)
    this.log(color.dim('\nEach dev wallet holds 10000 ETH and 100000 oGPU. Their keys are public: devnet only.'))
  }
}
