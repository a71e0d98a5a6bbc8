/**
 * Where a stream's generations run: the daemon's own engine (`local`, the default), or an existing serving stack
 * (`endpoint`, ./endpoint-backend.ts). The API (./openai-api.ts) sees only this interface.
 */
import type {InferenceEngine} from '../../gpu/engine.js'
import type {ChatMessage} from '../../gpu/engine-types.js'

/** One generated token as it is produced. */
export interface BackendToken {
  token: number
  /** Text that became decodable with this token (may be empty). */
  text: string
  isEnd: boolean
}

export interface BackendGenerateInput {
  /** The prompt tokens (rendered chat or completion prompt, resumed tokens appended). */
  prompt: number[]
  /** The chat messages, for backends that render them themselves (endpoint). */
  messages?: ChatMessage[]
  /** Completion tokens to generate at most, the end-of-generation token included. */
  maxTokens: number
  signal: AbortSignal
  onToken: (token: BackendToken) => void
}

export interface BackendResult {
  /** Completion token ids, the end-of-generation token included when the model ended. */
  tokens: number[]
  finishReason: 'eos' | 'length'
}

/** The tokenizer side of a model (a loaded engine, or a vocabulary-only model). */
export interface StreamTokenizer {
  readonly vocabSize: number
  renderChat(messages: readonly ChatMessage[]): number[]
  preparePrompt(prompt: string | readonly number[]): number[]
  assertTokenIds(tokens: readonly number[], what: string): void
  isEndOfGeneration(token: number): boolean
  detokenize(tokens: readonly number[], context?: readonly number[]): string
}

export interface StreamBackend {
  readonly kind: 'local' | 'endpoint'
  /** The model's name (what /v1/models lists). */
  readonly name: string
  /** sha256 of its GGUF (lower-case hex). */
  readonly sha256: string
  readonly tokenizer: StreamTokenizer
  /** The engine, for verification by prefill (local backends only). */
  readonly engine?: InferenceEngine
  /** Largest prompt + completion, tokens. */
  readonly contextSize: number
  /** Whether it serves resumed requests (ogpu.resumeTokens) and raw completions (/v1/completions). */
  readonly rawPrompts: boolean
  generate(input: BackendGenerateInput): Promise<BackendResult>
  dispose(): Promise<void>
}

/** A backend on the daemon's own engine. */
export function localBackend(options: {name: string; sha256: string; engine: InferenceEngine}): StreamBackend {
  const {engine} = options
  return {
    kind: 'local',
    name: options.name,
    sha256: options.sha256,
    tokenizer: engine,
    engine,
    contextSize: engine.contextSize,
    rawPrompts: true,
    async generate(input) {
      const result = await engine.generate({
        prompt: input.prompt,
        maxTokens: input.maxTokens,
        signal: input.signal,
        onToken: (e) => input.onToken({token: e.token, text: e.text, isEnd: e.isEnd}),
      })
      return {tokens: result.tokens, finishReason: result.finishReason}
    },
    dispose: async () => {}, // the daemon owns the engine
  }
}
