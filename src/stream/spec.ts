/**
 * Stream specs: the YAML a client opens a stream with (`ogpu stream create SPEC.yaml`). Parsing and validation with
 * line numbers (like batch task specs), defaults, the published terms document (what specHash hashes and specUri
 * points at), and the on-chain StreamParams it becomes.
 */
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import {Ajv, type ErrorObject} from 'ajv'

import {parseAmount} from '../chain/units.js'
import {UserError} from '../errors/index.js'
import {sha256File} from '../gpu/files.js'
import {canonicalHash, canonicalJson} from '../protocol/canonical.js'
import {parseDuration} from '../protocol/task-spec.js'
import {parseYaml} from '../protocol/yaml-doc.js'
import type {ResponseMethod, StreamParams} from './chain.js'
import {streamSchema} from './schema.js'

/** A validated stream spec with defaults applied: amounts in wei, durations in seconds. */
export interface StreamSpec {
  name?: string
  /** sha256 lowercase hex without 0x (absent when the spec names a local `path` to hash). */
  model: {name: string; sha256?: string; path?: string; source?: string}
  /** oGPU wei per 1,000 tokens. */
  prices: {generated: bigint; verified: bigint}
  council: {size: number; method: ResponseMethod; weightBps: number}
  collateral: bigint
  maxDowntime: number
  notice: {unsubscribe: number; close: number}
  disputes: {bond: bigint; commitWindow: number; revealWindow: number}
  deposit: bigint
}

export interface LoadedStreamSpec {
  spec: StreamSpec
  /** The document as written (parsed). */
  document: Record<string, unknown>
  /** The directory a relative model path resolves against. */
  baseDir: string
  path?: string
}

/** The defaults of every optional field (documented in the schema). */
export const STREAM_SPEC_DEFAULTS = {
  councilSize: 1,
  method: 'optimistic' as ResponseMethod,
  collateral: '10',
  maxDowntime: '5m',
  unsubscribeNotice: '1m',
  closeNotice: '1m',
  disputeBond: '1',
  commitWindow: '1m',
  revealWindow: '1m',
}

let validator: ReturnType<Ajv['compile']> | undefined
function validate(document: unknown): ErrorObject[] {
  validator ??= new Ajv({allErrors: true, strict: false}).compile(streamSchema)
  return validator(document) ? [] : [...(validator.errors ?? [])]
}

function describeError(error: ErrorObject): {path: string[]; message: string} {
  const path = error.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  const field = path.join('.') || '(top level)'
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = (error.params as {additionalProperty: string}).additionalProperty
      return {path: [...path, extra], message: `unknown field "${[...path, extra].join('.')}"`}
    }
    case 'required':
      return {path, message: `missing field "${[...path, (error.params as {missingProperty: string}).missingProperty].join('.')}"`}
    case 'const':
    case 'enum':
      return {path, message: `${field} must be ${JSON.stringify((error.params as {allowedValue?: unknown}).allowedValue ?? (error.params as {allowedValues: unknown[]}).allowedValues)}`}
    case 'pattern': {
      const pattern = (error.params as {pattern: string}).pattern
      if (pattern.includes('(s|m|h|d)')) return {path, message: `${field} is not a duration (use seconds, or e.g. "90s", "15m", "2h")`}
      if (pattern.includes('\\.[0-9]{1,18}')) return {path, message: `${field} is not an oGPU amount (use a decimal string, e.g. "12.5")`}
      return {path, message: `${field} ${error.message}`}
    }
    case 'anyOf':
      return {path, message: `${field} needs either "sha256" or "path"`}
    default:
      return {path, message: `${field} ${error.message}`}
  }
}

/**
 * Parses and validates a stream spec. Errors name the field and the line, e.g.
 * `stream.yaml:9: council.method must be ["optimistic","weighted","unanimous"]`.
 */
export function parseStreamSpec(text: string, options: {path?: string; baseDir?: string} = {}): LoadedStreamSpec {
  const label = options.path ?? 'spec'
  const {document, lineOf} = parseYaml(text, label)
  if (!document || typeof document !== 'object' || Array.isArray(document))
    throw new UserError(`${label}: a stream spec is a YAML mapping (key: value lines).`, {code: 'INVALID_SPEC', hint: 'See `ogpu stream schema` and examples/stream.yaml.'})
  const errors = validate(document)
  if (errors.length > 0) {
    const seen = new Set<string>()
    const lines: string[] = []
    const anyOfAlso = errors.some((e) => e.keyword === 'anyOf')
    // A duration or an amount is a number or a string: of the oneOf branches' errors, the string pattern's says most.
    const ordered = [...errors.filter((e) => e.keyword === 'pattern'), ...errors.filter((e) => e.keyword !== 'pattern')]
    const byLine = new Map<string, number>()
    for (const error of ordered) {
      if (error.keyword === 'oneOf') continue
      // The anyOf of model (sha256 or path) reports each branch's "required" too; one sentence says it.
      if (anyOfAlso && error.keyword === 'required' && error.instancePath === '/model' && ['sha256', 'path'].includes((error.params as {missingProperty: string}).missingProperty)) continue
      const {path, message} = describeError(error)
      const key = `${path.join('.')}:${['type', 'pattern', 'minimum'].includes(error.keyword) ? 'value' : message}`
      if (seen.has(key)) continue
      seen.add(key)
      const line = `${label}:${lineOf(path)}: ${message}`
      byLine.set(line, lineOf(path))
      lines.push(line)
    }
    lines.sort((a, b) => byLine.get(a)! - byLine.get(b)!)
    throw new UserError(`The stream spec is not valid:\n  ${lines.join('\n  ')}`, {
      code: 'INVALID_SPEC',
      hint: 'Run `ogpu stream schema` for the full schema; examples/stream.yaml validates.',
      details: {errors: lines},
    })
  }
  const doc = document as Record<string, any>
  const problems: string[] = []
  const at = (path: string[], message: string) => problems.push(`${label}:${lineOf(path)}: ${message}`)
  const amountAt = (path: string[], value: unknown, fallback: string | undefined, allowZero: boolean): bigint => {
    const text = value === undefined ? fallback! : String(value)
    try {
      return parseAmount(text, path.join('.'), {allowZero})
    } catch (error) {
      at(path, (error as Error).message)
      return 0n
    }
  }
  const method: ResponseMethod = doc.council?.method ?? STREAM_SPEC_DEFAULTS.method
  const weight: number | undefined = doc.council?.weight
  if (method === 'weighted' && weight === undefined) at(['council', 'method'], 'council.weight (0..1) is required with council.method "weighted"')
  if (method !== 'weighted' && weight !== undefined) at(['council', 'weight'], `council.weight only applies to council.method "weighted" (not "${method}")`)
  const weightBps = method === 'weighted' && weight !== undefined ? Math.max(1, Math.round(weight * 10_000)) : 0
  const spec: StreamSpec = {
    ...(doc.name ? {name: doc.name} : {}),
    model: {
      name: doc.model.name,
      ...(doc.model.sha256 ? {sha256: String(doc.model.sha256).replace(/^0x/, '').toLowerCase()} : {}),
      ...(doc.model.path ? {path: doc.model.path} : {}),
      ...(doc.model.source ? {source: doc.model.source} : {}),
    },
    prices: {
      generated: amountAt(['prices', 'generated'], doc.prices.generated, undefined, true),
      verified: amountAt(['prices', 'verified'], doc.prices.verified, undefined, true),
    },
    council: {size: doc.council?.size ?? STREAM_SPEC_DEFAULTS.councilSize, method, weightBps},
    collateral: amountAt(['collateral'], doc.collateral, STREAM_SPEC_DEFAULTS.collateral, false),
    maxDowntime: parseDuration(doc.maxDowntime ?? STREAM_SPEC_DEFAULTS.maxDowntime),
    notice: {
      unsubscribe: parseDuration(doc.notice?.unsubscribe ?? STREAM_SPEC_DEFAULTS.unsubscribeNotice),
      close: parseDuration(doc.notice?.close ?? STREAM_SPEC_DEFAULTS.closeNotice),
    },
    disputes: {
      bond: amountAt(['disputes', 'bond'], doc.disputes?.bond, STREAM_SPEC_DEFAULTS.disputeBond, true),
      commitWindow: parseDuration(doc.disputes?.commitWindow ?? STREAM_SPEC_DEFAULTS.commitWindow),
      revealWindow: parseDuration(doc.disputes?.revealWindow ?? STREAM_SPEC_DEFAULTS.revealWindow),
    },
    deposit: amountAt(['deposit'], doc.deposit, undefined, true),
  }
  const MAX_UINT32 = 2 ** 32 - 1
  for (const [path, seconds] of [
    [['maxDowntime'], spec.maxDowntime],
    [['notice', 'unsubscribe'], spec.notice.unsubscribe],
    [['notice', 'close'], spec.notice.close],
    [['disputes', 'commitWindow'], spec.disputes.commitWindow],
    [['disputes', 'revealWindow'], spec.disputes.revealWindow],
  ] as const)
    if (seconds > MAX_UINT32) at([...path], `${path.join('.')} is too long (${seconds} s)`)
  if (problems.length > 0)
    throw new UserError(`The stream spec is not valid:\n  ${problems.join('\n  ')}`, {code: 'INVALID_SPEC', details: {errors: problems}})
  return {spec, document: doc, baseDir: options.baseDir ?? process.cwd(), ...(options.path ? {path: options.path} : {})}
}

export function loadStreamSpec(path: string): LoadedStreamSpec {
  const full = resolve(path)
  if (!existsSync(full)) throw new UserError(`Spec file ${path} does not exist.`, {code: 'FILE_NOT_FOUND'})
  return parseStreamSpec(readFileSync(full, 'utf8'), {path, baseDir: dirname(full)})
}

/**
 * The model's sha256 (lowercase hex, no 0x): as written, or computed from `model.path`. When both are given they must
 * agree.
 */
export async function resolveModelHash(loaded: LoadedStreamSpec, signal?: AbortSignal): Promise<string> {
  const {model} = loaded.spec
  if (!model.path) return model.sha256!
  const file = isAbsolute(model.path) ? model.path : resolve(loaded.baseDir, model.path)
  if (!existsSync(file) || !statSync(file).isFile())
    throw new UserError(`model.path ${model.path} is not a file (looked at ${file}).`, {code: 'FILE_NOT_FOUND', hint: 'Give the GGUF file, or its sha256 as model.sha256.'})
  const hash = await sha256File(file, signal)
  if (model.sha256 && model.sha256 !== hash)
    throw new UserError(`model.sha256 (${model.sha256}) is not the sha256 of model.path ${model.path} (${hash}).`, {
      code: 'INVALID_SPEC',
      hint: 'Fix one of them, or drop model.sha256 to use the file\'s hash.',
    })
  return hash
}

export interface PublishedStreamSpec {
  /** The terms document as providers read it: the spec with model.sha256 filled in and no local path. */
  document: Record<string, unknown>
  /** keccak256 of its canonical JSON: the specHash on chain. */
  specHash: string
  specUri: string
  /** 0x + the model's sha256. */
  modelHash: string
}

export interface PublishStreamOptions {
  /** Where providers read the terms. Defaults to a file: URI of the copy kept in `specsDir` (one machine only). */
  specUri?: string
  /** Directory for the published copies (<specHash>.json). */
  specsDir: string
  signal?: AbortSignal
}

/** Resolves the model hash and writes the terms document; returns its hash and URI. */
export async function publishStreamSpec(loaded: LoadedStreamSpec, options: PublishStreamOptions): Promise<PublishedStreamSpec> {
  const sha256 = await resolveModelHash(loaded, options.signal)
  const {path: _path, ...model} = loaded.document.model as Record<string, unknown>
  const document = {...loaded.document, model: {...model, sha256}}
  const specHash = canonicalHash(document)
  mkdirSync(options.specsDir, {recursive: true})
  const file = join(options.specsDir, `${specHash.slice(2)}.json`)
  writeFileSync(file, `${canonicalJson(document)}\n`)
  const specUri = options.specUri ?? pathToFileURL(file).href
  const bytes = Buffer.byteLength(specUri)
  if (bytes < 1 || bytes > 256)
    throw new UserError(`The spec URI is ${bytes} bytes; the StreamMarket takes 1..256.`, {code: 'INVALID_SPEC_URI', hint: 'Publish the terms at a shorter URL and pass it with --spec-uri.'})
  return {document, specHash, specUri, modelHash: `0x${sha256}`}
}

/** The contract's StreamParams for a spec and its published terms. */
export function streamParamsOf(spec: StreamSpec, published: PublishedStreamSpec): StreamParams {
  return {
    modelHash: published.modelHash,
    specHash: published.specHash,
    specUri: published.specUri,
    pricePerKTokenGenerated: spec.prices.generated,
    pricePerKTokenVerified: spec.prices.verified,
    councilSize: spec.council.size,
    responseMethod: spec.council.method,
    weightBps: spec.council.weightBps,
    collateral: spec.collateral,
    maxDowntime: spec.maxDowntime,
    unsubscribeNotice: spec.notice.unsubscribe,
    closeNotice: spec.notice.close,
    commitWindow: spec.disputes.commitWindow,
    revealWindow: spec.disputes.revealWindow,
    disputeBond: spec.disputes.bond,
    deposit: spec.deposit,
  }
}
