/** The inference engine's public shapes: load options, a generation request and its result, a token stream, stats. */
import type {GpuBackend, GpuChoice} from './llama.js'
import type {ResolvedSampling, SamplingOptions} from './sampling.js'

export interface EngineLoadOptions {
  /** Path of the GGUF file. */
  modelPath: string
  /** Compute backend. Defaults to `auto` (the best available). A forced backend that is missing is a UserError. */
  gpu?: GpuChoice
  /** Threads for evaluation. Defaults to all the cores llama.cpp counts as useful for math. */
  threads?: number
  /** Context size of each sequence, in tokens (prompt + completion). Defaults to the model's trained context, at most 4096. */
  contextSize?: number
  /** Number of sequences, i.e. requests served at once (more wait in a queue). Defaults to 4. */
  sequences?: number
  /** Maximum tokens per llama_decode batch. Defaults to 512. */
  batchSize?: number
  /**
   * Use flash attention. Defaults to false: on CPU it changes the numerics of the attention (F16), which widens the
   * gap between a generation and its verification by prefill.
   */
  flashAttention?: boolean
  /** Layers to offload to the GPU. Defaults to `auto` (as many as fit). */
  gpuLayers?: number | 'auto' | 'max'
  /** Aborts loading. Defaults to none. */
  signal?: AbortSignal
}

export interface TokenEvent {
  /** Position in the completion (0-based). */
  index: number
  token: number
  /** Text that became decodable with this token (may be empty while a multi-byte character is incomplete). */
  text: string
  /** Whether this is the end-of-generation token. */
  isEnd: boolean
}

export interface GenerateRequest extends SamplingOptions {
  /** The prompt: text (tokenized with the model's tokenizer) or token ids (used as they are). */
  prompt: string | readonly number[]
  /** Maximum completion tokens, including the end-of-generation token. Defaults to 256. */
  maxTokens?: number
  /** For text prompts: prepend the BOS token. Defaults to the model's `add_bos_token`. */
  addBos?: boolean
  /** Called for every generated token, in order (greedy prefill-consistent output: once the token is confirmed). Defaults to none. */
  onToken?: (event: TokenEvent) => void
  /**
   * Greedy only: make the output what a verifier's batched prefill computes (see `PREFILL_CHECK_WINDOW` in
   * ./engine.ts): every token is the argmax of the batched prefill over prompt + the tokens before it, so verifiers
   * can judge it with a tight ε. Costs one batched re-evaluation of the output (in windows) plus the re-decoding
   * after each repaired near-tie. Defaults to true; ignored for sampled output.
   */
  prefillConsistent?: boolean
  /**
   * Cancels the request: it leaves the queue, or stops after the current decode step and frees its sequence (a
   * prompt being processed finishes its llama_decode batches first). The promise rejects with a CancelledError.
   * Defaults to none.
   */
  signal?: AbortSignal
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest extends Omit<GenerateRequest, 'prompt' | 'addBos'> {
  messages: readonly ChatMessage[]
}

export interface GenerateResult {
  /** The prompt as evaluated (with BOS when one was added). */
  promptTokens: number[]
  /** The completion token ids, including the final end-of-generation token when `finishReason` is `eos`. */
  tokens: number[]
  /** The completion as text (the end-of-generation token is not rendered). */
  text: string
  /** `eos`: the model ended the generation; `length`: maxTokens was reached. */
  finishReason: 'eos' | 'length'
  /** The maxTokens the request ran with (what a verifier needs to judge the end). */
  maxTokens: number
  sampling: ResolvedSampling
  /** Greedy prefill-consistent output: what making it consistent cost (absent otherwise). */
  consistency?: ConsistencyStats
  timings: {
    /** Waiting for a free sequence. */
    queuedMs: number
    /** Prompt processing, until the first completion token. */
    promptMs: number
    /** From the first to the last completion token. */
    generateMs: number
    totalMs: number
  }
}

export interface ConsistencyStats {
  /** Batched re-evaluations of decoded tokens (at most one per confirmed token: the loop is bounded by maxTokens). */
  checks: number
  /** Tokens replaced by the prefill's argmax (a near-tie that decoding and batched prefill broke differently). */
  repairs: number
  /** Decoded tokens thrown away after a repair (re-decoded from the repaired token on). */
  discarded: number
}

/** A streaming generation: iterate the tokens; `result` settles when generation ends. Breaking out of the loop cancels it. */
export interface GenerationStream extends AsyncIterable<TokenEvent> {
  readonly result: Promise<GenerateResult>
  /** Stops the generation (the iterator ends and `result` rejects with a CancelledError). */
  cancel(): void
}

export interface EngineStats {
  backend: GpuBackend
  threads: number
  contextSize: number
  sequences: number
  /** Sequences serving a request right now. */
  busy: number
  /** Requests waiting for a sequence. */
  queued: number
}

/** Completion tokens of a request that names no maxTokens. */
export const DEFAULT_MAX_TOKENS = 256
