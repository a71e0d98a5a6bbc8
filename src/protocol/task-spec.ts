import {canonicalHash} from './canonical.js'
import {parseDuration, parseSpecDocument, readSpecFile, type SpecFormat, SpecProblems} from './spec-loader.js'
import {taskSchema} from './task-schema.js'

export {parseDuration} from './spec-loader.js'

export type SamplingSpec =
  | {mode: 'greedy'}
  | {mode: 'sampled'; temperature: number; topK?: number; topP?: number; seed: number}

/** A validated task prescription with defaults applied, durations in seconds and amounts in base units. */
export interface TaskSpec {
  name?: string
  model: {name: string; sha256: string; source?: string}
  data: {uri: string; items?: number; root?: string}
  instructions: {
    maxTokens: number
    sampling: SamplingSpec
    minVramGiB: number
    contextSize?: number
    checkpoints: number
    checkpointWindow: number
  }
  payment: {maxPrice: bigint; councilFeePerVote: bigint; collateral: bigint; latePenalty?: {soft: number; hard: number}}
  verification: {method: 'prefill' | 'exact' | 'none'; council: number; epsilon: number; maxRank: number; sampleSize: number; commitWindow: number; revealWindow: number}
  halting: {maxBids: number; biddingWindow: number}
}

export interface LoadedSpec {
  spec: TaskSpec
  /** keccak256 of the spec document's canonical JSON: what goes on chain. */
  specHash: string
  /** The document as written (parsed), which the hash covers. */
  document: Record<string, unknown>
  /** The directory relative data paths resolve against. */
  baseDir: string
  path?: string
}

const TASK_SPEC: SpecFormat = {
  what: 'task spec',
  schema: taskSchema,
  invalidHint: 'Run `ogpu task schema` for the full schema; examples/ has specs that validate.',
  mappingHint: 'See `ogpu task schema` and examples/.',
}

/**
 * Parses and validates a task spec. Errors name the field and the line, e.g.
 * `spec.yaml:12: unknown field "payment.maxprice"`.
 */
export function parseTaskSpec(text: string, options: {path?: string; baseDir?: string} = {}): LoadedSpec {
  const parsed = parseSpecDocument(text, TASK_SPEC, options.path)
  const {document: doc} = parsed
  const problems = new SpecProblems(parsed, TASK_SPEC.what)
  const maxPrice = problems.amount(['payment', 'maxPrice'], doc.payment.maxPrice)
  const sampling = doc.instructions.sampling ?? {mode: 'greedy'}
  const spec: TaskSpec = {
    ...(doc.name ? {name: doc.name} : {}),
    model: {name: doc.model.name, sha256: doc.model.sha256.replace(/^0x/, '').toLowerCase(), ...(doc.model.source ? {source: doc.model.source} : {})},
    data: {uri: doc.data.uri, ...(doc.data.items ? {items: doc.data.items} : {}), ...(doc.data.root ? {root: doc.data.root.toLowerCase()} : {})},
    instructions: {
      maxTokens: doc.instructions.maxTokens,
      sampling:
        (sampling.mode ?? 'greedy') === 'greedy'
          ? {mode: 'greedy'}
          : {mode: 'sampled', temperature: sampling.temperature ?? 0.8, topK: sampling.topK, topP: sampling.topP, seed: sampling.seed ?? 0},
      minVramGiB: doc.instructions.minVramGiB ?? 0,
      ...(doc.instructions.contextSize ? {contextSize: doc.instructions.contextSize} : {}),
      checkpoints: doc.instructions.checkpoints ?? 1,
      checkpointWindow: parseDuration(doc.instructions.checkpointWindow ?? '10m'),
    },
    payment: {
      maxPrice,
      councilFeePerVote: doc.payment.councilFeePerVote === undefined ? maxPrice / 100n : problems.amount(['payment', 'councilFeePerVote'], doc.payment.councilFeePerVote, {allowZero: true}),
      collateral: doc.payment.collateral === undefined ? maxPrice : problems.amount(['payment', 'collateral'], doc.payment.collateral),
      ...(doc.payment.latePenalty
        ? {latePenalty: {soft: parseDuration(doc.payment.latePenalty.soft), hard: parseDuration(doc.payment.latePenalty.hard)}}
        : {}),
    },
    verification: {
      method: doc.verification?.method ?? 'prefill',
      council: doc.verification?.council ?? 2,
      // greedy output is prefill-consistent, so verifiers can be tight (docs/protocol.md, verification tolerance)
      epsilon: doc.verification?.epsilon ?? ((sampling.mode ?? 'greedy') === 'greedy' ? 0.01 : 0.1),
      maxRank: doc.verification?.maxRank ?? 2,
      sampleSize: doc.verification?.sampleSize ?? 4,
      commitWindow: parseDuration(doc.verification?.commitWindow ?? '2m'),
      revealWindow: parseDuration(doc.verification?.revealWindow ?? '2m'),
    },
    halting: {maxBids: doc.halting?.maxBids ?? 16, biddingWindow: parseDuration(doc.halting?.biddingWindow ?? '2m')},
  }
  if (spec.payment.latePenalty && spec.payment.latePenalty.hard <= spec.payment.latePenalty.soft)
    problems.at(['payment', 'latePenalty', 'hard'], 'payment.latePenalty.hard must be later than soft')
  if (spec.data.items !== undefined && spec.instructions.checkpoints > spec.data.items)
    problems.at(['instructions', 'checkpoints'], `instructions.checkpoints (${spec.instructions.checkpoints}) is more than data.items (${spec.data.items})`)
  if (spec.verification.method === 'prefill' && spec.instructions.sampling.mode === 'sampled' && spec.verification.maxRank < 1)
    problems.at(['verification', 'maxRank'], 'verification.maxRank must be at least 1')
  problems.throwIfAny()
  return {spec, specHash: canonicalHash(doc), document: doc, baseDir: options.baseDir ?? process.cwd(), ...(options.path ? {path: options.path} : {})}
}

export function loadTaskSpec(path: string): LoadedSpec {
  const file = readSpecFile(path)
  return parseTaskSpec(file.text, {path: file.path, baseDir: file.baseDir})
}
