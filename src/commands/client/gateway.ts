import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {openChainFromFlags} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {UserError} from '../../errors/index.js'
import {DEFAULT_SERVER_LIMITS} from '../../http/index.js'
import {parseStreamId} from '../../gateway/chat.js'
import {startGateway} from '../../gateway/server.js'

export default class ClientGateway extends BaseCommand<typeof ClientGateway> {
  static override summary = "Serve a stream's providers as one local OpenAI-compatible endpoint, verified and paid by vouchers."
  static override description = `Runs a local OpenAI-compatible server (POST /v1/chat/completions and /v1/completions, stream true or false; GET /v1/models) for the stream's client, until Ctrl-C or SIGTERM.

For each request it picks a generator among the stream's live subscribers (by latency, load and recent failures), streams its tokens, and has c − 1 other subscribers verify the response by prefill, as the stream's response method says: optimistic releases at once and verifies after; weighted releases after ceil(w·c) approvals; unanimous after all c. A generator that fails before its first token is replaced; one that dies mid-stream is resumed on another subscriber from the prompt and the tokens so far, and the caller sees one stream. After each response it signs cumulative vouchers for the providers that worked (kept durably under <data dir>/gateway/); a response that fails verification is not paid and is disputed on chain. With fewer than c live subscribers it answers 503 with the reason.

GET /metrics serves Prometheus metrics, GET /health the stream's liveness, GET /v1/ogpu/evidence/DIGEST the evidence of a dispute (what --public-url points council members at).

With --json, one JSON line with the URL is printed once the gateway serves; the log goes to stderr.`
  static override examples = [
    '<%= config.bin %> client gateway --stream 1',
    '<%= config.bin %> client gateway --stream 1 --port 9000 --api-key "$KEY"',
    '<%= config.bin %> client gateway --stream 1 --host 0.0.0.0 --public-url https://gw.example.com --json',
  ]
  static override flags = {
    stream: Flags.string({description: 'The stream to serve (its id; the wallet must be its client).', required: true}),
    port: Flags.integer({description: 'Port to listen on (0 picks a free one).', default: 8080, min: 0, max: 65_535}),
    host: Flags.string({description: 'Interface to listen on. Use 0.0.0.0 to serve other machines.', default: '127.0.0.1'}),
    'api-key': Flags.string({description: 'Callers must send Authorization: Bearer KEY (401 otherwise). Defaults to no authentication.', env: 'OGPU_GATEWAY_API_KEY'}),
    'public-url': Flags.string({description: 'URL council members reach this gateway at, for dispute evidence. Defaults to the local URL.'}),
    'max-client-connections': Flags.integer({description: 'Open connections one client address may hold; more are closed.', default: DEFAULT_SERVER_LIMITS.maxConnectionsPerClient, min: 1}),
    'header-timeout': Flags.integer({description: 'Milliseconds a request\'s headers may take to arrive.', default: DEFAULT_SERVER_LIMITS.headersTimeoutMs, min: 100}),
    'request-timeout': Flags.integer({description: 'Milliseconds a whole request (headers and body) may take to arrive; responses may stream for longer.', default: DEFAULT_SERVER_LIMITS.requestTimeoutMs, min: 100}),
    ...walletFlags,
  }

  async run(): Promise<void> {
    const {flags} = this
    const streamId = parseStreamId(flags.stream, '--stream')
    if (flags['public-url']) {
      try {
        new URL(flags['public-url'])
      } catch {
        throw new UserError(`--public-url ${flags['public-url']} is not a URL.`, {code: 'INVALID_ARGUMENTS', hint: 'Give the URL council members reach this gateway at, e.g. https://gw.example.com.'})
      }
    }
    const {wallet} = await unlockWallet(this.paths, flags)
    const chain = await openChainFromFlags(this.paths, flags)
    try {
      const handle = await startGateway({
        chain,
        wallet,
        streamId,
        dataDir: this.paths.dataDir,
        port: flags.port,
        host: flags.host,
        apiKey: flags['api-key'],
        publicUrl: flags['public-url'],
        serverLimits: {maxConnectionsPerClient: flags['max-client-connections'], headersTimeoutMs: flags['header-timeout'], requestTimeoutMs: flags['request-timeout']},
        log: (line) => process.stderr.write(`${line}\n`),
      })
      const {gateway} = handle
      if (this.jsonEnabled()) {
        // One line, so that a parent process can read it as soon as the gateway serves (this.log is silent under --json).
        process.stdout.write(`${JSON.stringify({
          url: handle.url,
          port: handle.port,
          streamId: streamId.toString(),
          client: wallet.address,
          councilSize: gateway.stream.councilSize,
          responseMethod: gateway.stream.responseMethod,
          subscribers: gateway.pool.all().length,
          liveSubscribers: gateway.pool.live().length,
          pid: process.pid,
        })}\n`)
      } else {
        this.log(`Gateway for stream ${streamId} serving at ${handle.url}`)
        this.log(`  council ${gateway.stream.councilSize}, ${gateway.stream.responseMethod}; ${gateway.pool.live().length} of ${gateway.pool.all().length} subscribers live`)
        const reason = gateway.unavailableReason()
        if (reason) this.log(`  not serving yet: ${reason}`)
        this.log('Try it:')
        this.log(
          `  curl ${handle.url}/v1/chat/completions -H 'content-type: application/json'${flags['api-key'] ? ` -H "authorization: Bearer $OGPU_GATEWAY_API_KEY"` : ''} -d '{"model":"ogpu-stream-${streamId}","messages":[{"role":"user","content":"Hello"}],"stream":true}'`,
        )
        this.log('Ctrl-C stops it.')
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          this.note('Stopping the gateway (finishing verifications and vouchers)...')
          resolve()
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
      await handle.close()
    } finally {
      chain.dispose()
    }
  }
}
