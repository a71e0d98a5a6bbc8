/**
 * Stream specs: the YAML a client opens a stream with (`ogpu stream create SPEC.yaml`). Parsing and validation with
 * line numbers (like batch task specs), defaults, the published terms document (what specHash hashes and specUri
 * points at), and the on-chain StreamParams it becomes.
 */
import {existsSync, mkdirSync, statSync, writeFileSync} from 'node:fs'
import {isAbsolute, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import {UserError} from '../errors/index.js'
import {sha256File} from '../gpu/files.js'
import {canonicalHash, canonicalJson} from '../protocol/canonical.js'
import {parseDuration, parseSpecDocument, readSpecFile, type SpecFormat, SpecProblems} from '../protocol/spec-loader.js'
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

const STREAM_SPEC: SpecFormat = {
  what: 'stream spec',
  schema: streamSchema,
  invalidHint: 'Run `ogpu stream schema` for the full schema; examples/stream.yaml validates.',
  mappingHint: 'See `ogpu stream schema` and examples/stream.yaml.',
}

/**
 * Parses and validates a stream spec. Errors name the field and the line, e.g.
 * `stream.yaml:9: council.method must be ["optimistic","weighted","unanimous"]`.
 */
export function parseStreamSpec(text: string, options: {path?: string; baseDir?: string} = {}): LoadedStreamSpec {
  const parsed = parseSpecDocument(text, STREAM_SPEC, options.path)
  const doc = parsed.document
  const problems = new SpecProblems(parsed, STREAM_SPEC.what)
  const method: ResponseMethod = doc.council?.method ?? STREAM_SPEC_DEFAULTS.method
  const weight: number | undefined = doc.council?.weight
  if (method === 'weighted' && weight === undefined) problems.at(['council', 'method'], 'council.weight (0..1) is required with council.method "weighted"')
  if (method !== 'weighted' && weight !== undefined) problems.at(['council', 'weight'], `council.weight only applies to council.method "weighted" (not "${method}")`)
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
      generated: problems.amount(['prices', 'generated'], doc.prices.generated, {allowZero: true}),
      verified: problems.amount(['prices', 'verified'], doc.prices.verified, {allowZero: true}),
    },
    council: {size: doc.council?.size ?? STREAM_SPEC_DEFAULTS.councilSize, method, weightBps},
    collateral: problems.amount(['collateral'], doc.collateral, {fallback: STREAM_SPEC_DEFAULTS.collateral}),
    maxDowntime: parseDuration(doc.maxDowntime ?? STREAM_SPEC_DEFAULTS.maxDowntime),
    notice: {
      unsubscribe: parseDuration(doc.notice?.unsubscribe ?? STREAM_SPEC_DEFAULTS.unsubscribeNotice),
      close: parseDuration(doc.notice?.close ?? STREAM_SPEC_DEFAULTS.closeNotice),
    },
    disputes: {
      bond: problems.amount(['disputes', 'bond'], doc.disputes?.bond, {fallback: STREAM_SPEC_DEFAULTS.disputeBond, allowZero: true}),
      commitWindow: parseDuration(doc.disputes?.commitWindow ?? STREAM_SPEC_DEFAULTS.commitWindow),
      revealWindow: parseDuration(doc.disputes?.revealWindow ?? STREAM_SPEC_DEFAULTS.revealWindow),
    },
    deposit: problems.amount(['deposit'], doc.deposit, {allowZero: true}),
  }
  const MAX_UINT32 = 2 ** 32 - 1
  for (const [path, seconds] of [
    [['maxDowntime'], spec.maxDowntime],
    [['notice', 'unsubscribe'], spec.notice.unsubscribe],
    [['notice', 'close'], spec.notice.close],
    [['disputes', 'commitWindow'], spec.disputes.commitWindow],
    [['disputes', 'revealWindow'], spec.disputes.revealWindow],
  ] as const)
    if (seconds > MAX_UINT32) problems.at([...path], `${path.join('.')} is too long (${seconds} s)`)
  problems.throwIfAny()
  return {spec, document: doc, baseDir: options.baseDir ?? process.cwd(), ...(options.path ? {path: options.path} : {})}
}

export function loadStreamSpec(path: string): LoadedStreamSpec {
  const file = readSpecFile(path)
  return parseStreamSpec(file.text, {path: file.path, baseDir: file.baseDir})
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
