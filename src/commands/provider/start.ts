import {DEFAULT_SERVER_LIMITS} from '../../http/index.js'
import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {parseAmount} from '../../chain/units.js'
import {UserError} from '../../errors/index.js'
import {GPU_CHOICES, type GpuChoice} from '../../gpu/llama.js'
import {startProviderDaemon} from '../../provider/daemon.js'
import {createLogger, type LogFormat} from '../../provider/log.js'
import {formatReadyLine} from '../../provider/ready.js'

export default class ProviderStart extends BaseCommand<typeof ProviderStart> {
  static override summary = 'Run the provider daemon: bid on batch tasks, execute them, serve their items and sit on councils.'
  static override description = `Checks the wallet's registration and stake, loads the models (benchmarking each once), starts the HTTP server (GET /health, GET /v1/ogpu/status, the signed items API) and follows the chain until Ctrl-C or SIGTERM.

For every new task it checks feasibility (the exact model file, the context, the deadline by its own benchmark) and profit (benchmark seconds × --gpu-second-price), and bids with the strategy. It executes the tasks it wins, commits each checkpoint's result root before its deadline, and checks its sample of other providers' checkpoints when drawn to a council, by prefill.

Its state (cursor, bids, results, unrevealed verdict salts) is journaled under <data dir>/provider/<address>/ and survives kill -9: a restarted daemon continues every task it had and never bids twice.

Stopping: it bids no more, finishes running items and council duty (up to 15 s), then exits. A second Ctrl-C exits at once.

With --json, the log goes to stderr and stdout carries one line once the daemon serves: a JSON object {"event": "ready", address, url, localUrl, port, pid, network, strategy, models} that a supervisor can wait for.`
  static override examples = [
    '<%= config.bin %> provider start',
    '<%= config.bin %> provider start --models llama-1b --min-price-per-1k 0.5 --public-url https://gpu1.example.com',
    '<%= config.bin %> provider start --strategy script:./price.sh --log-format json --wallet alice',
  ]
  static override flags = {
    models: Flags.string({description: 'Models to serve: name, sha256 or .gguf path (repeatable). Defaults to every model in the store.', multiple: true}),
    strategy: Flags.string({description: 'Bidding strategy: cost-plus, undercut, script:PATH (task JSON on stdin, prints {"price": "12.5"} or {"bid": false}; 5 s limit) or module:PATH (exports bid(task, context)).', default: 'cost-plus'}),
    'min-price-per-1k': Flags.string({description: 'Lowest price you accept, in oGPU per 1000 output tokens (items × maxTokens).', default: '0.1'}),
    'gpu-second-price': Flags.string({description: 'What a second of your GPU costs you, in oGPU (cost = benchmark seconds × this).', default: '0.01'}),
    margin: Flags.string({description: 'cost-plus margin over cost, e.g. 0.2 for 20 %.', default: '0.2'}),
    'undercut-step': Flags.string({description: 'undercut: how much below the best bid to go, in oGPU. Defaults to 1 % of the best bid.'}),
    port: Flags.integer({description: 'Port of the HTTP server (0 picks a free one).', default: 7070, min: 0, max: 65_535}),
    host: Flags.string({description: 'Interface to listen on. Use 0.0.0.0 to serve other machines (with --public-url).', default: '127.0.0.1'}),
    'public-url': Flags.string({description: 'URL clients and councils reach this provider at. Defaults to http://127.0.0.1:PORT. The registration is updated when it differs.'}),
    'max-concurrent-tasks': Flags.integer({description: 'Tasks executed (or being won) at once; no bids beyond.', default: 2, min: 1}),
    'log-format': Flags.string({description: 'Log lines as text or JSON (one object per line).', options: ['text', 'json'], default: 'text'}),
    gpu: Flags.string({description: 'Backend to use.', options: [...GPU_CHOICES], default: 'auto'}),
    threads: Flags.integer({description: 'Threads for inference. Defaults to all math cores.', min: 1}),
    sequences: Flags.integer({description: 'Requests each model serves at once.', default: 4, min: 1, max: 64}),
    'council-duty': Flags.boolean({description: 'Join the council pool of every served model, so that councils drawn from the staked pool may seat this provider (and lock collateral) on tasks it did not bid for. --no-council-duty leaves pool membership as it is.', default: true, allowNo: true}),
    streams: Flags.string({description: 'Stream tasks to subscribe to: auto (streams of a held model whose price beats --min-stream-price-per-1k and whose collateral fits the free stake), none, or a comma-separated list of stream ids.', default: 'auto'}),
    'min-stream-price-per-1k': Flags.string({description: 'Lowest stream price worth subscribing to, oGPU per 1000 generated tokens. Defaults to the benchmark\'s cost of 1000 tokens at --gpu-second-price, plus --margin.'}),
    'redeem-threshold': Flags.string({description: 'Redeem a stream\'s voucher once it holds this much unredeemed, in oGPU. Defaults to 20 × the redeem gas at the current gas price. Always redeemed before a stream\'s close and on shutdown.'}),
    'credit-limit': Flags.string({description: 'Most a stream\'s client may owe beyond its newest voucher before requests get 402, in oGPU.', default: '1'}),
    'rate-limit': Flags.string({description: 'Requests per second per stream client (token bucket; the burst is twice this).', default: '20'}),
    'max-tokens': Flags.integer({description: 'Largest max_tokens a stream request may ask for.', default: 4096, min: 1}),
    'max-body-bytes': Flags.integer({description: 'Largest stream request body, bytes.', default: 1_048_576, min: 1024}),
    'max-client-connections': Flags.integer({description: 'Open connections one client address may hold on the HTTP server; more are closed.', default: DEFAULT_SERVER_LIMITS.maxConnectionsPerClient, min: 1}),
    'max-connections': Flags.integer({description: 'Open connections on the HTTP server in all.', default: DEFAULT_SERVER_LIMITS.maxConnections, min: 1}),
    'header-timeout': Flags.integer({description: 'Milliseconds a request\'s headers may take to arrive.', default: DEFAULT_SERVER_LIMITS.headersTimeoutMs, min: 100}),
    'request-timeout': Flags.integer({description: 'Milliseconds a whole request (headers and body) may take to arrive; responses may stream for longer.', default: DEFAULT_SERVER_LIMITS.requestTimeoutMs, min: 100}),
    'api-key': Flags.string({description: 'Also serve plain OpenAI requests with "Authorization: Bearer KEY" (no stream, no receipt, no charge): your own endpoint.'}),
    backend: Flags.string({description: 'Where stream generations run: local (the loaded GGUF) or endpoint:URL (an OpenAI-compatible TGI/vLLM/HF Inference Endpoint; token ids from the local GGUF\'s tokenizer; such a provider cannot verify).', default: 'local'}),
    'backend-token': Flags.string({description: 'Bearer token for --backend endpoint:URL (e.g. a Hugging Face token). Also read from OGPU_BACKEND_TOKEN.', env: 'OGPU_BACKEND_TOKEN'}),
    ...walletFlags,
  }

  async run(): Promise<void> {
    const {flags} = this
    const margin = Number(flags.margin)
    if (!Number.isFinite(margin) || margin < 0 || margin > 100)
      throw new UserError(`--margin ${flags.margin} is not a fraction like 0.2.`, {code: 'INVALID_ARGUMENTS'})
    const rate = Number(flags['rate-limit'])
    if (!Number.isFinite(rate) || rate <= 0) throw new UserError(`--rate-limit ${flags['rate-limit']} is not a positive number of requests per second.`, {code: 'INVALID_ARGUMENTS'})
    let streams: 'auto' | 'none' | bigint[]
    if (flags.streams === 'auto' || flags.streams === 'none') streams = flags.streams
    else {
      const ids = flags.streams.split(',').map((s) => s.trim())
      if (ids.some((id) => !/^\d+$/.test(id) || id === '0'))
        throw new UserError(`--streams ${flags.streams} is not auto, none or a list of stream ids.`, {code: 'INVALID_ARGUMENTS', hint: 'e.g. --streams 1,4'})
      streams = ids.map((id) => BigInt(id))
    }
    const {name, wallet} = await unlockWallet(this.paths, flags)
    const handle = await startProviderDaemon({
      paths: this.paths,
      wallet,
      walletName: name,
      network: flags.network,
      rpc: flags.rpc,
      models: flags.models,
      strategy: flags.strategy,
      minPricePer1k: parseAmount(flags['min-price-per-1k'], '--min-price-per-1k', {allowZero: true}),
      gpuSecondPrice: parseAmount(flags['gpu-second-price'], '--gpu-second-price', {allowZero: true}),
      margin,
      ...(flags['undercut-step'] ? {undercutStep: parseAmount(flags['undercut-step'], '--undercut-step')} : {}),
      host: flags.host,
      port: flags.port,
      publicUrl: flags['public-url'],
      maxConcurrentTasks: flags['max-concurrent-tasks'],
      // With --json, stdout carries only the JSON result: the log goes to stderr.
      logger: createLogger({format: flags['log-format'] as LogFormat, write: this.jsonEnabled() ? (line) => process.stderr.write(`${line}\n`) : undefined}),
      gpu: flags.gpu as GpuChoice,
      threads: flags.threads,
      sequences: flags.sequences,
      version: this.config.version,
      streams,
      councilDuty: flags['council-duty'],
      ...(flags['min-stream-price-per-1k'] ? {minStreamPricePer1k: parseAmount(flags['min-stream-price-per-1k'], '--min-stream-price-per-1k', {allowZero: true})} : {}),
      ...(flags['redeem-threshold'] ? {redeemThreshold: parseAmount(flags['redeem-threshold'], '--redeem-threshold', {allowZero: true})} : {}),
      streamLimits: {
        creditLimit: parseAmount(flags['credit-limit'], '--credit-limit', {allowZero: true}),
        ratePerSecond: rate,
        rateBurst: Math.max(1, rate * 2),
        maxTokens: flags['max-tokens'],
        maxBodyBytes: flags['max-body-bytes'],
      },
      serverLimits: {
        maxConnectionsPerClient: flags['max-client-connections'],
        maxConnections: flags['max-connections'],
        headersTimeoutMs: flags['header-timeout'],
        requestTimeoutMs: flags['request-timeout'],
      },
      apiKey: flags['api-key'],
      backend: flags.backend,
      backendToken: flags['backend-token'],
    })
    // The ready line: one compact JSON object on one stdout line, which a supervisor reads line by line.
    if (this.jsonEnabled()) process.stdout.write(formatReadyLine(handle))
    // A second Ctrl-C exits at once. Signals within 500 ms of the first are the same one: some dependencies (signal-exit)
    // re-send a signal they received.
    let firstSignalAt = 0
    const onSignal = (signal: NodeJS.Signals) => {
      if (firstSignalAt && Date.now() - firstSignalAt > 500) {
        process.stderr.write('Stopping at once.\n')
        process.exit(130) // the journal is fsynced record by record: nothing acknowledged is lost
      }
      if (firstSignalAt) return
      firstSignalAt = Date.now()
      void handle.stop(signal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      await handle.stopped
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
