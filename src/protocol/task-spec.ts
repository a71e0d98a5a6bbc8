import {readFileSync, existsSync} from 'node:fs'
import {dirname, resolve} from 'node:path'

import {Ajv, type ErrorObject} from 'ajv'

import {parseAmount} from '../chain/units.js'
import {UserError} from '../errors/index.js'
import {canonicalHash} from './canonical.js'
import {taskSchema} from './task-schema.js'
import {parseYaml} from './yaml-doc.js'

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

export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value
  const match = /^(\d+)(s|m|h|d)$/.exec(value)
  if (!match) throw new UserError(`"${value}" is not a duration.`, {code: 'INVALID_SPEC', hint: 'Use seconds, or e.g. "90s", "15m", "2h".'})
  return Number(match[1]) * {s: 1, m: 60, h: 3600, d: 86_400}[match[2] as 's' | 'm' | 'h' | 'd']
}

let validator: ReturnType<Ajv['compile']> | undefined
function validate(document: unknown): ErrorObject[] {
  validator ??= new Ajv({allErrors: true, strict: false}).compile(taskSchema)
  return validator(document) ? [] : [...(validator.errors ?? [])]
}

/** Describes one schema error in words, naming the field. */
function describeError(error: ErrorObject): {path: string[]; message: string} {
  const path = error.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  const field = path.join('.') || '(top level)'
  switch (error.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const extra = (error.params as {additionalProperty: string}).additionalProperty
      return {path: [...path, extra], message: `unknown field "${[...path, extra].join('.')}"`}
    }
    case 'required':
      return {path, message: `missing field "${[...path, (error.params as {missingProperty: string}).missingProperty].join('.')}"`}
    case 'const':
    case 'enum':
      return {path, message: `${field} must be ${JSON.stringify((error.params as {allowedValue?: unknown; allowedValues?: unknown[]}).allowedValue ?? (error.params as {allowedValues: unknown[]}).allowedValues)}`}
    default:
      return {path, message: `${field} ${error.message}`}
  }
}

/**
 * Parses and validates a task spec. Errors name the field and the line, e.g.
 * `spec.yaml:12: unknown field "payment.maxprice"`.
 */
export function parseTaskSpec(text: string, options: {path?: string; baseDir?: string} = {}): LoadedSpec {
  const label = options.path ?? 'spec'
  const {document, lineOf} = parseYaml(text, label)
  if (!document || typeof document !== 'object' || Array.isArray(document))
    throw new UserError(`${label}: a task spec is a YAML mapping (key: value lines).`, {code: 'INVALID_SPEC', hint: 'See `ogpu task schema` and examples/.'})
  const errors = validate(document)
  if (errors.length > 0) {
    // oneOf failures repeat themselves per branch; keep the first message per field.
    const seen = new Set<string>()
    const lines: string[] = []
    for (const error of errors) {
      if (error.keyword === 'oneOf') continue
      const {path, message} = describeError(error)
      const key = `${path.join('.')}:${error.keyword === 'type' || error.keyword === 'pattern' || error.keyword === 'exclusiveMinimum' ? 'value' : message}`
      if (seen.has(key)) continue
      seen.add(key)
      lines.push(`${label}:${lineOf(path)}: ${message}`)
    }
    throw new UserError(`The task spec is not valid:\n  ${lines.join('\n  ')}`, {
      code: 'INVALID_SPEC',
      hint: 'Run `ogpu task schema` for the full schema; examples/ has specs that validate.',
      details: {errors: lines},
    })
  }
  const doc = document as Record<string, any>
  const maxPrice = parseAmount(String(doc.payment.maxPrice), 'payment.maxPrice')
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
      councilFeePerVote: doc.payment.councilFeePerVote === undefined ? maxPrice / 100n : parseAmount(String(doc.payment.councilFeePerVote), 'payment.councilFeePerVote', {allowZero: true}),
      collateral: doc.payment.collateral === undefined ? maxPrice : parseAmount(String(doc.payment.collateral), 'payment.collateral'),
      ...(doc.payment.latePenalty
        ? {latePenalty: {soft: parseDuration(doc.payment.latePenalty.soft), hard: parseDuration(doc.payment.latePenalty.hard)}}
        : {}),
    },
    verification: {
      method: doc.verification?.method ?? 'prefill',
      council: doc.verification?.council ?? 2,
      epsilon: doc.verification?.epsilon ?? 0.1,
      maxRank: doc.verification?.maxRank ?? 2,
      sampleSize: doc.verification?.sampleSize ?? 4,
      commitWindow: parseDuration(doc.verification?.commitWindow ?? '2m'),
      revealWindow: parseDuration(doc.verification?.revealWindow ?? '2m'),
    },
    halting: {maxBids: doc.halting?.maxBids ?? 16, biddingWindow: parseDuration(doc.halting?.biddingWindow ?? '2m')},
  }
  const problems: string[] = []
  if (spec.payment.latePenalty && spec.payment.latePenalty.hard <= spec.payment.latePenalty.soft)
    problems.push(`${label}:${lineOf(['payment', 'latePenalty', 'hard'])}: payment.latePenalty.hard must be later than soft`)
  if (spec.halting.maxBids < spec.verification.council + 1)
    problems.push(`${label}:${lineOf(['halting', 'maxBids'])}: halting.maxBids (${spec.halting.maxBids}) must be at least verification.council + 1 (${spec.verification.council + 1}): one executor plus the council`)
  if (spec.data.items !== undefined && spec.instructions.checkpoints > spec.data.items)
    problems.push(`${label}:${lineOf(['instructions', 'checkpoints'])}: instructions.checkpoints (${spec.instructions.checkpoints}) is more than data.items (${spec.data.items})`)
  if (spec.verification.method === 'prefill' && spec.instructions.sampling.mode === 'sampled' && spec.verification.maxRank < 1)
    problems.push(`${label}:${lineOf(['verification', 'maxRank'])}: verification.maxRank must be at least 1`)
  if (problems.length > 0)
    throw new UserError(`The task spec is not valid:\n  ${problems.join('\n  ')}`, {code: 'INVALID_SPEC', details: {errors: problems}})
  return {spec, specHash: canonicalHash(document), document: doc, baseDir: options.baseDir ?? process.cwd(), ...(options.path ? {path: options.path} : {})}
}

export function loadTaskSpec(path: string): LoadedSpec {
  const full = resolve(path)
  if (!existsSync(full)) throw new UserError(`Spec file ${path} does not exist.`, {code: 'FILE_NOT_FOUND'})
  return parseTaskSpec(readFileSync(full, 'utf8'), {path, baseDir: dirname(full)})
}
