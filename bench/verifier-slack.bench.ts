/**
 * bench/verifier-slack: how much freedom the greedy verifier leaves a cheater, and what it costs to leave so little.
 *
 * At each position of an honest greedy completion, a token other than the generator's would still pass verification
 * when it ranks within `maxRank` (2) and its logit is within ε of the argmax. The share of such positions ("slack")
 * is what an adversary can steer without being caught: it picks near-ties, it does not substitute at random. The
 * generator makes greedy output prefill-consistent (every token is the batched prefill's argmax, src/gpu/engine.ts),
 * so verifiers use the tight greedy ε (0.01) instead of the old quantization floor (0.5 on Q8_0).
 *
 * Per model (synthetic, test/fixtures/gguf-writer.ts; CPU): the slack at the greedy ε, at 0.1 and at the old floor;
 * the logit noise between batched prefills with 1/2 threads and batch sizes 512/64/7 (what ε must absorb); the
 * honest rejections at the greedy ε per thread count and batch size, for the consistent output and for plain
 * decoding; and the repair cost (checks, repaired near-ties, re-decoded tokens, time ratio vs plain generation, both
 * measured in this run). Prints tables; no asserts.
 * Usage: tsx bench/verifier-slack.bench.ts [--tokens N] [--prompts N] [--models tiny,small,bench]
 */
import {loadavg} from 'node:os'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

import type {ControlledEvaluateInputItem, Token} from 'node-llama-cpp'

import {InferenceEngine} from '../src/gpu/engine.js'
import type {GenerateResult} from '../src/gpu/engine-types.js'
import {fileTypeName} from '../src/gpu/gguf.js'
import {DEFAULT_MAX_RANK, epsilonFloor, GREEDY_EPSILON, verifyCompletion} from '../src/gpu/verifier.js'
import {ensureModel} from '../test/fixtures/gguf-writer.js'

const {values} = parseArgs({options: {tokens: {type: 'string', default: '96'}, prompts: {type: 'string', default: '6'}, models: {type: 'string', default: 'tiny,small,bench'}}})
const TOKENS = Number(values.tokens)
const PROMPTS = Number(values.prompts)
const SEEDS = ['The provider network runs', 'A council checks the results', 'Once upon a time', 'The market pays', 'Every token is', 'In the beginning']
/** Verifier shapes: [threads, batch size]. The first is the reference for the noise column. */
const SHAPES: Array<[number, number]> = [[1, 512], [2, 512], [1, 64], [1, 7], [2, 7]]

/** Batched prefill over prompt + completion: the top-`maxRank` logits at every completion position. */
async function prefillTop(engine: InferenceEngine, r: GenerateResult): Promise<number[][]> {
  return engine.withSequence(async (sequence) => {
    const P = r.promptTokens.length
    const tokens = [...r.promptTokens, ...r.tokens]
    const input: ControlledEvaluateInputItem[] = tokens.slice(0, tokens.length - 1).map((token, i) =>
      i >= P - 1 ? [token as Token, {generateNext: {logits: {filter: {tokens: [], includeTop: DEFAULT_MAX_RANK}}}}] : (token as Token),
    )
    const evaluated = await sequence.controlledEvaluate(input)
    return r.tokens.map((_, j) => [...(evaluated[P - 1 + j]?.next.logits?.values() ?? [])].sort((a, b) => b - a))
  })
}

const pct = (p: number) => `${(100 * p).toFixed(1)} %`
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const table = (header: string[], rows: string[][]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  console.log(line(header))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of rows) console.log(line(r))
  console.log('')
}

console.log(`${PROMPTS} prompts × ${TOKENS} greedy tokens per model, CPU; greedy ε ${GREEDY_EPSILON}, max rank ${DEFAULT_MAX_RANK}; load average ${load()}\n`)
const slackRows: string[][] = []
const shapeRows: string[][] = []
const costRows: string[][] = []
for (const preset of values.models.split(',')) {
  const modelPath = ensureModel(preset as Parameters<typeof ensureModel>[0])
  const generator = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 512, sequences: 1, threads: 1})
  const general = (generator.model.fileInfo?.metadata as {general?: {file_type?: number}} | undefined)?.general
  const quantization = fileTypeName(general?.file_type)
  const oldFloor = Math.max(0.1, epsilonFloor(quantization))
  const plain: GenerateResult[] = []
  const consistent: GenerateResult[] = []
  let plainMs = 0
  let consistentMs = 0
  try {
    await generator.generate({prompt: 'warm up', maxTokens: 8, prefillConsistent: false})
    // interleaved, so load changes hit both alike
    for (let p = 0; p < PROMPTS; p++) {
      const prompt = `${SEEDS[p % SEEDS.length]} ${p}`
      let t = performance.now()
      plain.push(await generator.generate({prompt, maxTokens: TOKENS, prefillConsistent: false}))
      plainMs += performance.now() - t
      t = performance.now()
      consistent.push(await generator.generate({prompt, maxTokens: TOKENS}))
      consistentMs += performance.now() - t
    }
  } finally {
    await generator.dispose()
  }
  const tokens = (rs: GenerateResult[]) => rs.reduce((s, r) => s + r.tokens.length, 0)
  const sum = (key: 'checks' | 'repairs' | 'discarded') => consistent.reduce((s, r) => s + (r.consistency?.[key] ?? 0), 0)
  costRows.push([
    `${preset} (${quantization})`,
    String(tokens(consistent)),
    String(sum('checks')),
    String(sum('repairs')),
    String(sum('discarded')),
    String(consistent.filter((r, i) => r.tokens.join() !== plain[i]!.tokens.join()).length),
    `${(consistentMs / plainMs).toFixed(2)}×`,
  ])

  let reference: number[][][] | undefined
  for (const [threads, batchSize] of SHAPES) {
    const verifier = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 512, sequences: 1, threads, batchSize})
    try {
      const tops: number[][][] = []
      for (const r of consistent) tops.push(await prefillTop(verifier, r))
      let noise = 0
      if (reference) tops.forEach((t, i) => t.forEach((logits, j) => logits.forEach((l, k) => (noise = Math.max(noise, Math.abs(l - reference![i]![j]![k]!))))))
      else {
        reference = tops
        const gaps = tops.flat().filter((l) => l.length >= 2).map((l) => l[0]! - l[1]!)
        const sorted = [...gaps].sort((a, b) => a - b)
        const share = (eps: number) => pct(gaps.filter((g) => g <= eps).length / gaps.length)
        slackRows.push([`${preset} (${quantization})`, String(gaps.length), share(GREEDY_EPSILON), share(0.1), `${share(oldFloor)} (ε ${oldFloor})`, (sorted[Math.floor(sorted.length / 2)] ?? Number.NaN).toFixed(3)])
      }
      let rejectedConsistent = 0
      let rejectedPlain = 0
      for (const [i, r] of consistent.entries()) {
        if (!(await verifyCompletion(verifier, {prompt: r.promptTokens, completion: r.tokens, maxTokens: TOKENS, epsilon: GREEDY_EPSILON})).ok) rejectedConsistent++
        const q = plain[i]!
        if (!(await verifyCompletion(verifier, {prompt: q.promptTokens, completion: q.tokens, maxTokens: TOKENS, epsilon: GREEDY_EPSILON})).ok) rejectedPlain++
      }
      shapeRows.push([preset, String(threads), String(batchSize), reference === tops ? '(reference)' : noise.toExponential(2), `${rejectedConsistent}/${consistent.length}`, `${rejectedPlain}/${plain.length}`])
    } finally {
      await verifier.dispose()
    }
  }
}

console.log('Slack: share of positions where the runner-up would pass (consistent output, batched prefill, 1 thread)\n')
table(['model', 'positions', `at the greedy ε ${GREEDY_EPSILON}`, 'at ε 0.1', 'at the old ε', 'median top-2 gap'], slackRows)
console.log(`Honest rejections at ε ${GREEDY_EPSILON} per verifier shape; noise = max |Δlogit| of the top ${DEFAULT_MAX_RANK} vs 1 thread, batch 512\n`)
table(['model', 'threads', 'batch', 'noise', 'consistent output rejected', 'plain decoding rejected'], shapeRows)
console.log('Repair cost (generation on 1 thread, 1 sequence; time ratio of consistent vs plain generation, measured in this run)\n')
table(['model', 'tokens', 'checks', 'near-ties repaired', 'tokens re-decoded', 'outputs changed', 'time ratio'], costRows)
console.log(`load average at the end ${load()}`)
