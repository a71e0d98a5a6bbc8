/**
 * bench/verifier-slack: how much freedom the greedy verifier leaves a cheater. At each position of an honest greedy
 * completion, a token other than the generator's would still pass verification when it ranks within `maxRank`
 * (default 2) and its logit is within ε of the argmax. The share of such positions is what an adversary can steer
 * without being caught: it picks near-ties, it does not substitute at random. Measured on the test model (`tiny`)
 * and the ~134M-parameter Q8_0 benchmark model (`bench`), both synthetic (test/fixtures/gguf-writer.ts), on CPU,
 * from the same batched prefill the verifier runs (node-llama-cpp's controlledEvaluate, top logits per position).
 * Prints a table; no asserts. Usage: tsx bench/verifier-slack.bench.ts [--tokens N] [--prompts N] [--models tiny,bench]
 */
import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'

import type {ControlledEvaluateInputItem, Token} from 'node-llama-cpp'

import {InferenceEngine} from '../src/gpu/engine.js'
import {fileTypeName} from '../src/gpu/gguf.js'
import {DEFAULT_EPSILON, DEFAULT_MAX_RANK, effectiveEpsilon} from '../src/gpu/verifier.js'
import {ensureModel} from '../test/fixtures/gguf-writer.js'

const {values} = parseArgs({options: {tokens: {type: 'string', default: '96'}, prompts: {type: 'string', default: '6'}, models: {type: 'string', default: 'tiny,bench'}, threads: {type: 'string', default: '1'}}})
const TOKENS = Number(values.tokens)
const PROMPTS = Number(values.prompts)
const SEEDS = ['The provider network runs', 'A council checks the results', 'Once upon a time', 'The market pays', 'Every token is', 'In the beginning']

/** Logit gaps (top − runner-up within maxRank) at every position of honest greedy completions. */
async function gaps(engine: InferenceEngine): Promise<number[]> {
  const out: number[] = []
  for (let p = 0; p < PROMPTS; p++) {
    const generated = await engine.generate({prompt: `${SEEDS[p % SEEDS.length]} ${p}`, maxTokens: TOKENS})
    const prompt = generated.promptTokens
    const completion = generated.tokens
    await engine.withSequence(async (sequence) => {
      const tokens = [...prompt, ...completion]
      const input: ControlledEvaluateInputItem[] = tokens.slice(0, prompt.length + completion.length - 1).map((token, i) =>
        i >= prompt.length - 1 ? [token as Token, {generateNext: {logits: {filter: {tokens: [], includeTop: DEFAULT_MAX_RANK}}}}] : (token as Token),
      )
      const evaluated = await sequence.controlledEvaluate(input)
      for (let j = 0; j < completion.length; j++) {
        const logits = evaluated[prompt.length - 1 + j]?.next.logits
        if (!logits) continue
        const top = [...logits.values()]
        // The best other token within maxRank: the runner-up (rank 2), whatever the generator produced.
        if (top.length >= 2) out.push(top[0]! - top[1]!)
      }
    })
  }
  return out
}

const pct = (p: number) => `${(100 * p).toFixed(1)} %`

console.log(`${PROMPTS} prompts × ${TOKENS} greedy tokens per model, CPU, ${values.threads} thread(s); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
const rows: string[][] = []
for (const preset of values.models.split(',')) {
  const modelPath = ensureModel(preset as Parameters<typeof ensureModel>[0])
  const engine = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 512, sequences: 1, threads: Number(values.threads)})
  try {
    const g = await gaps(engine)
    const sorted = [...g].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
    const general = (engine.model.fileInfo?.metadata as {general?: {file_type?: number}} | undefined)?.general
    const today = effectiveEpsilon(DEFAULT_EPSILON, fileTypeName(general?.file_type))
    for (const eps of [...new Set([today, DEFAULT_EPSILON, 0.01])].sort((a, b) => b - a))
      rows.push([preset, String(g.length), eps.toFixed(2), pct(g.filter((x) => x <= eps).length / g.length), median.toFixed(3)])
  } finally {
    await engine.dispose()
  }
}
const header = ['model', 'positions', 'ε', 'positions a cheater may swap', 'median top-2 gap']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
console.log(line(header))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const r of rows) console.log(line(r))
console.log('\nThe first ε of each model is what its verifiers use today: max(0.1, the quantization floor).')
