/**
 * The one pipeline of spec files (task specs, stream specs): read the file, parse YAML (JSON is YAML), check it is a
 * mapping, validate it against the kind's JSON Schema (ajv), then the checks a schema cannot express. Every problem
 * becomes one line `<file>:<line>: <what is wrong>`, and all of them one UserError INVALID_SPEC (details.errors).
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'

import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'

import {UserError} from '../errors/index.js'
import {parseAmount} from '../units/index.js'
import {AMOUNT_PATTERN, DURATION_PATTERN} from './schema-fragments.js'
import {parseYaml} from './yaml-doc.js'

/** A kind of spec file: its schema and the words its messages use. */
export interface SpecFormat {
  /** What the messages call it: "task spec", "stream spec". */
  what: string
  schema: object
  /** The hint of a spec that does not validate (where the schema and valid examples are). */
  invalidHint: string
  /** The hint of a document that is not a mapping. */
  mappingHint: string
}

/** A spec document that passed its schema, with the way back from a field to its line. */
export interface SpecDocument {
  document: Record<string, any>
  /** The file name messages start with (`spec` without a file). */
  label: string
  lineOf(path: string[]): number
}

/** A spec file's text, with what messages call it and the directory its relative paths resolve against. */
export interface SpecFile {
  text: string
  path: string
  baseDir: string
}

/** Reads a spec file (FILE_NOT_FOUND when it is not there). */
export function readSpecFile(path: string): SpecFile {
  const full = resolve(path)
  if (!existsSync(full)) throw new UserError(`Spec file ${path} does not exist.`, {code: 'FILE_NOT_FOUND'})
  return {text: readFileSync(full, 'utf8'), path, baseDir: dirname(full)}
}

/** A duration in seconds: a number as is, or "90s", "15m", "2h", "1d". */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value
  const match = /^(\d+)(s|m|h|d)$/.exec(value)
  if (!match) throw new UserError(`"${value}" is not a duration.`, {code: 'INVALID_SPEC', hint: 'Use seconds, or e.g. "90s", "15m", "2h".'})
  return Number(match[1]) * {s: 1, m: 60, h: 3600, d: 86_400}[match[2] as 's' | 'm' | 'h' | 'd']
}

/** Parses and validates a spec document; throws one INVALID_YAML or INVALID_SPEC error naming every problem's line. */
export function parseSpecDocument(text: string, format: SpecFormat, label = 'spec'): SpecDocument {
  const {document, lineOf} = parseYaml(text, label)
  if (!document || typeof document !== 'object' || Array.isArray(document))
    throw new UserError(`${label}: a ${format.what} is a YAML mapping (key: value lines).`, {code: 'INVALID_SPEC', hint: format.mappingHint})
  const validate = validatorOf(format.schema)
  if (!validate(document)) {
    const lines = describeErrors(validate.errors ?? [], label, lineOf)
    throw new UserError(`The ${format.what} is not valid:\n  ${lines.join('\n  ')}`, {code: 'INVALID_SPEC', hint: format.invalidHint, details: {errors: lines}})
  }
  return {document: document as Record<string, unknown>, label, lineOf}
}

/** The checks after the schema (fields that depend on each other, amounts, bounds): collected, then thrown as one. */
export class SpecProblems {
  private readonly lines: string[] = []

  constructor(
    private readonly doc: SpecDocument,
    private readonly what: string,
  ) {}

  /** Records a problem at a field. */
  at(path: string[], message: string): void {
    this.lines.push(`${this.doc.label}:${this.doc.lineOf(path)}: ${message}`)
  }

  /**
   * An oGPU amount in base units (`fallback` when the field is absent); a bad one is recorded and reads as 0n.
   * `allowZero` defaults to false.
   */
  amount(path: string[], value: unknown, options: {fallback?: string; allowZero?: boolean} = {}): bigint {
    const text = value === undefined ? options.fallback : String(value)
    if (text === undefined) throw new Error(`${path.join('.')} has no value and no default`) // a schema's `required` covers it
    try {
      return parseAmount(text, path.join('.'), {allowZero: options.allowZero ?? false})
    } catch (error) {
      this.at(path, (error as Error).message)
      return 0n
    }
  }

  /** Throws the problems recorded, if any. */
  throwIfAny(): void {
    if (this.lines.length > 0) throw new UserError(`The ${this.what} is not valid:\n  ${this.lines.join('\n  ')}`, {code: 'INVALID_SPEC', details: {errors: [...this.lines]}})
  }
}

const validators = new WeakMap<object, ValidateFunction>()
function validatorOf(schema: object): ValidateFunction {
  let validate = validators.get(schema)
  if (!validate) {
    validate = new Ajv({allErrors: true, strict: false}).compile(schema)
    validators.set(schema, validate)
  }
  return validate
}

// Errors about a field's value, of which one line says enough (a oneOf reports one per branch).
const VALUE_KEYWORDS = new Set(['type', 'pattern', 'minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum'])

/** One line per problem, in the file's order. */
function describeErrors(errors: readonly ErrorObject[], label: string, lineOf: (path: string[]) => number): string[] {
  // An anyOf of `required` branches ("sha256 or path") reports each branch's missing field: one sentence says it.
  const anyOfBranches = new Map<ErrorObject, string[]>()
  const inBranch = new Set<ErrorObject>()
  for (const anyOf of errors.filter((e) => e.keyword === 'anyOf')) {
    const branches = errors.filter((e) => e.keyword === 'required' && e.instancePath === anyOf.instancePath && e.schemaPath.startsWith(`${anyOf.schemaPath}/`))
    for (const e of branches) inBranch.add(e)
    anyOfBranches.set(anyOf, branches.map((e) => (e.params as {missingProperty: string}).missingProperty))
  }
  // Of a oneOf's branch errors the string pattern's says most ("is not a duration"), a bound next, a type least.
  const rank = (e: ErrorObject) => (e.keyword === 'pattern' ? 0 : e.keyword === 'type' ? 2 : 1)
  const ordered = errors.filter((e) => e.keyword !== 'oneOf' && !inBranch.has(e)).sort((a, b) => rank(a) - rank(b))
  const seen = new Set<string>()
  const lines: Array<{text: string; line: number}> = []
  for (const error of ordered) {
    const {path, message} = describeError(error, anyOfBranches.get(error))
    const key = `${path.join('.')}:${VALUE_KEYWORDS.has(error.keyword) ? 'value' : message}`
    if (seen.has(key)) continue
    seen.add(key)
    const line = lineOf(path)
    lines.push({text: `${label}:${line}: ${message}`, line})
  }
  return lines.sort((a, b) => a.line - b.line).map((l) => l.text)
}

/** Describes one schema error in words, naming the field. */
function describeError(error: ErrorObject, anyOfMissing: string[] | undefined): {path: string[]; message: string} {
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
    case 'enum': {
      const params = error.params as {allowedValue?: unknown; allowedValues?: unknown[]}
      return {path, message: `${field} must be ${JSON.stringify(params.allowedValue ?? params.allowedValues)}`}
    }
    case 'pattern': {
      const pattern = (error.params as {pattern: string}).pattern
      if (pattern === DURATION_PATTERN) return {path, message: `${field} is not a duration (use seconds, or e.g. "90s", "15m", "2h")`}
      if (pattern === AMOUNT_PATTERN) return {path, message: `${field} is not an oGPU amount (use a decimal string, e.g. "12.5")`}
      return {path, message: `${field} ${error.message}`}
    }
    case 'anyOf':
      if (anyOfMissing?.length) return {path, message: `${field} needs either ${anyOfMissing.map((m) => JSON.stringify(m)).join(' or ')}`}
      return {path, message: `${field} ${error.message}`}
    default:
      return {path, message: `${field} ${error.message}`}
  }
}
