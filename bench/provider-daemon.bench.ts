/**
 * Provider daemon benchmark on a devnet (instant mining), three daemons (test/fixtures/provider-daemon.ts, the
 * programmatic API) and the synthetic ~134M-parameter Q8_0 model (--model tiny for a quick run). Run:
 *   npx tsx bench/provider-daemon.bench.ts [--tasks 20] [--items 32] [--max-tokens 32] [--threads 1] [--runs 3]
 *
 * Measures:
 *  1. time from TaskSubmitted (its block mined) to the first bid (its block mined), p50/p95 over --tasks tasks
 *     (target p95 ≤ 1 s). Each task runs to its end before the next is submitted.
 *  2. batch throughput in items/min through the daemon (from winning the task to its last result kept, as the
 *     executor logs it) vs the bare engine on the same items, model, threads and concurrency (target ≥ 90 %).
 *  3. council verification CPU time (the member's sample, prefill) as a fraction of the executor's CPU time for the
 *     whole task, and per item.
 * Prints a table; no asserts. Throughput figures are the best of --runs runs (a shared 2-core machine disturbs
 * single runs).
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

import {openChain} from '../src/chain/context.js'
import {resolvePaths} from '../src/config/paths.js'
import {InferenceEngine} from '../src/gpu/engine.js'
import {publishSpec, submitTask} from '../src/market/task-client.js'
import {runItem} from '../src/provider/prompt.js'
import {parseItems} from '../src/protocol/task-data.js'
import {loadTaskSpec} from '../src/protocol/task-spec.js'
import {WalletStore} from '../src/wallet/wallet-store.js'
import {ensureModel} from '../test/fixtures/gguf-writer.js'
import {createHome, repoRoot, startDevnet, stopDevnet, waitFor} from '../test/helpers/cli.js'

const {values} = parseArgs({
  options: {
    tasks: {type: 'string', default: '20'},
    items: {type: 'string', default: '32'},
    'max-tokens': {type: 'string', default: '32'},
    threads: {type: 'string', default: '1'},
    model: {type: 'string', default: 'bench'},
    runs: {type: 'string', default: '3'},
  },
})
const TASKS = Number(values.tasks)
const ITEMS = Number(values.items)
const MAX_TOKENS = Number(values['max-tokens'])
const THREADS = Number(values.threads)
const RUNS = Number(values.runs)
const SEQUENCES = 4

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!
const fmt = (x: number, digits = 0) => x.toFixed(digits)

class Daemon {
  readonly child: ChildProcess
  lines: Array<Record<string, any>> = []
  private buffer = ''
  constructor(wallet: string, env: NodeJS.ProcessEnv, minPrice: string) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test/fixtures/provider-daemon.ts'), JSON.stringify({wallet, threads: THREADS, sequences: SEQUENCES, minPricePer1k: minPrice, logFormat: 'json', maxConcurrentTasks: 4})],
      {env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit']},
    )
    this.child.stdout!.on('data', (d) => {
      this.buffer += d
      const lines = this.buffer.split('\n')
      this.buffer = lines.pop()!
      for (const line of lines) if (line.startsWith('{')) this.lines.push(JSON.parse(line))
    })
  }
  ready = () => waitFor(() => this.lines.some((l) => l.event === 'start') || (this.child.exitCode !== null ? 'exited' : undefined), 'daemon start', 300_000, 50)
  find = (predicate: (l: Record<string, any>) => boolean) => this.lines.find(predicate)
  stop = () => new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : (this.child.once('exit', () => resolve()), this.child.kill('SIGTERM'))))
}

function writeTask(dir: string, name: string, sha: string, items: number, maxTokens: number): string {
  const topics = ['the weather', 'a GPU', 'the market', 'a council', 'merkle trees', 'tokens', 'a provider', 'the chain']
  const lines = Array.from({length: items}, (_, i) =>
    JSON.stringify(i % 4 === 3 ? {id: `${name}-${i}`, messages: [{role: 'user', content: `Write about ${topics[i % topics.length]} (${i}).`}]} : {id: `${name}-${i}`, prompt: `Item ${i}: a few words on ${topics[i % topics.length]}.`}),
  )
  writeFileSync(join(dir, `${name}.jsonl`), `${lines.join('\n')}\n`)
  const path = join(dir, `${name}.yaml`)
  writeFileSync(
    path,
    `version: 1
kind: batch
name: ${name}
model: {name: m, sha256: ${sha}}
data: {uri: ./${name}.jsonl}
instructions: {maxTokens: ${maxTokens}, checkpoints: 1, checkpointWindow: 30m}
payment: {maxPrice: "1000", councilFeePerVote: "1", collateral: "10"}
verification: {council: 2, sampleSize: 4, commitWindow: 5m, revealWindow: 5m}
halting: {maxBids: 3, biddingWindow: 60s}
`,
  )
  return path
}

async function main(): Promise<void> {
  const home = createHome('ogpu-daemon-bench-')
  const daemons: Daemon[] = []
  try {
    await startDevnet(home)
    const modelPath = ensureModel(values.model === 'tiny' ? 'tiny' : 'bench')
    const sha = createHash('sha256').update(readFileSync(modelPath)).digest('hex')
    if ((await home.run(['model', 'add', modelPath, '--name', 'm'])).code !== 0) throw new Error('model add failed')
    await Promise.all(
      ['dev2', 'dev3', 'dev4'].map(async (w) => {
        for (const args of [['provider', 'register', '--endpoint', 'http://127.0.0.1:9'], ['stake', 'deposit', '10000']]) {
          const result = await home.run([...args, '--wallet', w])
          if (result.code !== 0) throw new Error(`${args.join(' ')} failed for ${w}: ${result.stderr}`)
        }
      }),
    )
    // One benchmark first (stored), so the three daemons do not all run it at once.
    if ((await home.run(['provider', 'benchmark', '--model', 'm', '--gpu', 'cpu', '--threads', String(THREADS)])).code !== 0) throw new Error('provider benchmark failed')
    // dev2 is the cheapest: it executes every task; dev3 and dev4 sit on the councils.
    daemons.push(new Daemon('dev2', home.env, '0.5'), new Daemon('dev3', home.env, '1'), new Daemon('dev4', home.env, '1'))
    for (const d of daemons) if ((await d.ready()) === 'exited') throw new Error('a daemon did not start')

    const paths = resolvePaths(home.env)
    const chain = await openChain({paths})
    chain.tx = {...chain.tx, pollMs: 5}
    const client = await new WalletStore(paths).unlock('dev1')
    const market = chain.market
    const submit = async (specPath: string) => {
      const loaded = loadTaskSpec(specPath)
      const published = await publishSpec(loaded, {specsDir: join(paths.dataDir, 'specs')})
      const submitted = await submitTask(chain, client, loaded.spec, published)
      return {id: submitted.taskId, at: performance.now()}
    }
    const ended = (id: number) => waitFor(async () => Number((await market.getTask(id)).status) >= 3, `task ${id} to end`, 600_000, 50)

    // 1. Bid latency.
    const latencies: number[] = []
    for (let i = 0; i < TASKS; i++) {
      const {id, at} = await submit(writeTask(home.dir, `latency${i}`, sha, 4, 8))
      await waitFor(async () => (await market.bidCount(id)) > 0n, 'a bid', 30_000, 5)
      latencies.push(performance.now() - at)
      await ended(id)
    }

    // 2 and 3. Throughput through the daemon, and the council's CPU time, on tasks of ITEMS items; runs alternate
    // with the bare engine on the same items (same model, threads, sequences and requests in flight), so both see
    // the same machine.
    const engine = await InferenceEngine.load({modelPath, gpu: 'cpu', threads: THREADS, sequences: SEQUENCES})
    const daemonRates: number[] = []
    const bareRates: number[] = []
    const fractions: Array<{execCpuMs: number; councilCpuMs: number; sample: number}> = []
    try {
      for (let run = 0; run < RUNS; run++) {
        const itemsPath = writeTask(home.dir, `throughput${run}`, sha, ITEMS, MAX_TOKENS)
        const spec = loadTaskSpec(itemsPath).spec
        const queue = parseItems(readFileSync(itemsPath.replace(/\.yaml$/, '.jsonl'), 'utf8')).map((item, index) => ({item, index}))
        const t0 = performance.now()
        await Promise.all(
          Array.from({length: SEQUENCES + 1}, async () => {
            for (let next = queue.shift(); next; next = queue.shift()) await runItem(engine, spec, next.item, next.index)
          }),
        )
        bareRates.push((ITEMS * 60_000) / (performance.now() - t0))

        const {id} = await submit(itemsPath)
        await ended(id)
        const ran = await waitFor(() => daemons[0]!.find((l) => l.event === 'execute' && l.taskId === id && l.itemsPerMinute), 'the executor log', 10_000)
        daemonRates.push(ran.itemsPerMinute)
        for (const member of daemons.slice(1)) {
          const check = member.find((l) => l.event === 'council' && l.taskId === id && l.cpuMs !== undefined)
          if (check) fractions.push({execCpuMs: ran.cpuMs, councilCpuMs: check.cpuMs, sample: String(check.sample).split(',').length})
        }
      }
    } finally {
      await engine.dispose()
      chain.dispose()
    }

    const daemonBest = Math.max(...daemonRates)
    const bareBest = Math.max(...bareRates)
    const councilCpu = fractions.map((f) => f.councilCpuMs / f.execCpuMs)
    const perItem = fractions.map((f) => f.councilCpuMs / f.sample / (f.execCpuMs / ITEMS))
    const rows: Array<[string, string, string]> = [
      ['TaskSubmitted → first bid, p50', `${fmt(percentile(latencies, 50))} ms`, `${TASKS} tasks`],
      ['TaskSubmitted → first bid, p95', `${fmt(percentile(latencies, 95))} ms`, 'target ≤ 1000 ms'],
      ['throughput, bare engine', `${fmt(bareBest)} items/min`, `${ITEMS} items × ≤${MAX_TOKENS} tokens, ${SEQUENCES} sequences, ${THREADS} thread(s)`],
      ['throughput, through the daemon', `${fmt(daemonBest)} items/min`, `${fmt((daemonBest / bareBest) * 100)} % of bare (target ≥ 90 %)`],
      ['council CPU / executor CPU, whole task', `${fmt(Math.max(...councilCpu) * 100, 1)} %`, `sample of ${fractions[0]?.sample ?? '?'} of ${ITEMS} items (worst member)`],
      ['council CPU / executor CPU, per item', `${fmt(Math.max(...perItem) * 100, 1)} %`, 'prefill of one item vs generating it'],
    ]
    const width = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))]
    console.log(`provider daemon, model ${values.model} (${modelPath.split('/').pop()}), devnet with instant mining\n`)
    console.log(`${'MEASURE'.padEnd(width[0]!)}  ${'VALUE'.padEnd(width[1]!)}  NOTE`)
    for (const [a, b, c] of rows) console.log(`${a.padEnd(width[0]!)}  ${b.padEnd(width[1]!)}  ${c}`)
    console.log(`\nbid latencies (ms): ${latencies.map((l) => fmt(l)).join(' ')}`)
    console.log(`runs (items/min), bare → daemon: ${bareRates.map((r, i) => `${fmt(r)} → ${fmt(daemonRates[i] ?? 0)}`).join(', ')}`)
  } finally {
    await Promise.all(daemons.map((d) => d.stop()))
    await stopDevnet(home)
    home.dispose()
  }
}

await main()
