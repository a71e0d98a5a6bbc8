/**
 * The JSON Schema fragments that task specs (src/protocol/task-schema.ts) and stream specs (src/stream/schema.ts)
 * share, so a duration or an amount means one thing in both. The spec loader (src/protocol/spec-loader.ts) names
 * their pattern errors in words.
 */

export const DURATION_PATTERN = '^[0-9]+(s|m|h|d)$'
export const AMOUNT_PATTERN = '^[0-9]+(\\.[0-9]{1,18})?$'

/** A duration: whole seconds (at least 1), or a string with a unit. The loader turns it into seconds (parseDuration). */
export const duration = {
  description: 'A duration: seconds as a number, or a string like "90s", "15m", "2h", "1d".',
  oneOf: [
    {type: 'integer', minimum: 1},
    {type: 'string', pattern: DURATION_PATTERN},
  ],
} as const

/**
 * An oGPU amount that may be zero (a fee, a price, a deposit). Amounts were one fragment per schema and had drifted:
 * the task schema refused the NUMBER 0 (`exclusiveMinimum: 0`) while accepting the string "0" (councilFeePerVote
 * "0" is a documented use), the stream schema accepted both. Which amounts may be zero is the parser's per-field
 * rule (parseAmount's allowZero), which the schema now follows: this fragment where zero is allowed,
 * {@link positiveAmount} where it is not.
 */
export const amount = {
  description: 'An oGPU amount as a decimal string, e.g. "12.5".',
  oneOf: [
    {type: 'string', pattern: AMOUNT_PATTERN},
    {type: 'number', minimum: 0},
  ],
} as const

/** An oGPU amount that must be more than zero (a max price, a collateral); the loader refuses the string "0" too. */
export const positiveAmount = {
  description: 'An oGPU amount as a decimal string, e.g. "12.5"; more than zero.',
  oneOf: [
    {type: 'string', pattern: AMOUNT_PATTERN},
    {type: 'number', exclusiveMinimum: 0},
  ],
} as const

/** The model's name, for people. */
export const modelName = {type: 'string', minLength: 1, maxLength: 200} as const

/** sha256 of the GGUF file, the model's identity: 64 hex digits, 0x optional. */
export const modelSha256 = {type: 'string', pattern: '^(0x)?[0-9a-fA-F]{64}$'} as const

export const modelSource = {type: 'string', pattern: '^(hf:|https://)', description: 'Where providers can get it: hf:USER/REPO/FILE.gguf or an https URL.'} as const

/** The fields every spec starts with: `$schema` for editors, the format version, a short name. */
export const specHeader = {
  $schema: {type: 'string', description: 'Schema URL for editors.'},
  version: {const: 1, description: 'Spec format version. Always 1.'},
} as const

export const specName = (what: string) => ({type: 'string', maxLength: 100, description: `A short human name for the ${what}.`}) as const
