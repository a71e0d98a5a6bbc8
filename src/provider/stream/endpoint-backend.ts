/**
 * The endpoint backend (`--backend endpoint:URL`): a provider that already runs a serving stack (TGI, vLLM, a Hugging
 * Face Inference Endpoint, or any OpenAI-compatible server) serves its streams from it. Generations go through
 * @huggingface/inference (InferenceClient.chatCompletionStream with endpointUrl, greedy); the token ids its receipts
 * sign come from the local GGUF's tokenizer (the model loaded vocabulary-only: no weights, no GPU) applied to the
 * returned text.
 *
 * Limits, by construction: it serves chat completions only (no raw prompts, no ogpu.resumeTokens: the endpoint takes
 * messages, not token ids), it cannot verify by prefill (/v1/ogpu/verify answers 501, its info document says
 * verify: false), and its token ids are a re-tokenization of the text, which a council's prefill may judge otherwise
 * than the endpoint's own tokens.
 */
import {InferenceClient} from '@huggingface/inference'
import {resolveChatWrapper, type ChatHistoryItem, type LlamaModel, type Token} from 'node-llama-cpp'

import {ExternalError, UserError} from '../../errors/index.js'
import type {ChatMessage} from '../../gpu/engine-types.js'
import {acquireLlama} from '../../gpu/llama.js'
import type {BackendToken, StreamBackend, StreamTokenizer} from './backend.js'

/** The tokenizer of a GGUF loaded vocabulary-only (the same rules as InferenceEngine's). */
export class VocabTokenizer implements StreamTokenizer {
  readonly vocabSize: number
  constructor(readonly model: LlamaModel) {
    const tokens = (model.fileInfo.metadata as unknown as {tokenizer?: {ggml?: {tokens?: unknown}}}).tokenizer?.ggml?.tokens
    this.vocabSize = Array.isArray(tokens) ? tokens.length : 0
  }

  tokenize(text: string, addBos = this.model.tokens.shouldPrependBosToken): number[] {
    const bos = this.model.tokens.bos
    const tokens = this.model.tokenize(text, false) as number[]
    return addBos && bos !== null ? [bos, ...tokens] : [...tokens]
  }

  renderChat(messages: readonly ChatMessage[]): number[] {
    if (messages.length === 0) throw new UserError('messages is empty.', {code: 'BAD_PROMPT'})
    const history: ChatHistoryItem[] = messages.map((m) =>
      m.role === 'system' ? {type: 'system', text: m.content} : m.role === 'user' ? {type: 'user', text: m.content} : {type: 'model', response: [m.content]},
    )
    history.push({type: 'model', response: []})
    const {contextText} = resolveChatWrapper(this.model).generateContextState({chatHistory: history})
    return contextText.tokenize(this.model.tokenizer) as number[]
  }

  preparePrompt(prompt: string | readonly number[]): number[] {
    const tokens = typeof prompt === 'string' ? this.tokenize(prompt) : [...prompt]
    if (typeof prompt !== 'string') this.assertTokenIds(tokens, 'prompt')
    if (tokens.length === 0) throw new UserError('The prompt is empty.', {code: 'BAD_PROMPT'})
    return tokens
  }

  assertTokenIds(tokens: readonly number[], what: string): void {
    const bad = tokens.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= this.vocabSize)
    if (bad >= 0) throw new UserError(`${what} token #${bad} (${tokens[bad]}) is not a token id of this model (vocabulary of ${this.vocabSize}).`, {code: 'BAD_TOKEN_ID'})
  }

  isEndOfGeneration(token: number): boolean {
    return this.model.isEogToken(token as Token)
  }

  detokenize(tokens: readonly number[], context: readonly number[] = []): string {
    const visible = (tokens as Token[]).filter((t) => !this.model.isEogToken(t))
    return this.model.detokenize(visible, false, context.slice(-8) as Token[])
  }

  /** The end-of-generation token the model ends a turn with. */
  endToken(): number | undefined {
    const eot = this.model.tokens.eot ?? this.model.tokens.eos
    return eot === null ? undefined : (eot as number)
  }
}

export async function endpointBackend(options: {
  name: string
  sha256: string
  /** The local GGUF (its tokenizer only is loaded). */
  modelPath: string
  /** The endpoint: an OpenAI-compatible base URL (…/v1) or a TGI/HF Inference Endpoint URL. */
  url: string
  accessToken?: string
  /** Largest prompt + completion. Defaults to 4096. */
  contextSize?: number
}): Promise<StreamBackend> {
  const lease = await acquireLlama('cpu')
  let model: LlamaModel
  try {
    model = await lease.llama.loadModel({modelPath: options.modelPath, vocabOnly: true})
  } catch (error) {
    await lease.release()
    throw new ExternalError(`Cannot load the tokenizer of ${options.modelPath}: ${(error as Error).message}`, {code: 'MODEL_LOAD_FAILED', cause: error})
  }
  const tokenizer = new VocabTokenizer(model)
  const client = new InferenceClient(options.accessToken)
  return {
    kind: 'endpoint',
    name: options.name,
    sha256: options.sha256,
    tokenizer,
    contextSize: options.contextSize ?? 4096,
    rawPrompts: false,
    async generate(input) {
      if (!input.messages) throw new UserError('The endpoint backend serves chat completions only.', {code: 'BAD_PROMPT'})
      const tokens: number[] = []
      let received = ''
      let finish: string | undefined
      let shown = ''
      // Text arrives in pieces that need not end on token boundaries: the whole text so far is tokenized again, the
      // last token (which may still merge with what comes next) is held back, and a token goes out once the
      // tokenization of the text before it is stable. Its text is what it adds to the decoded whole.
      const emit = (final: boolean) => {
        const ids = tokenizer.tokenize(received, false)
        const stable = final ? ids : ids.slice(0, -1)
        if (stable.length <= tokens.length || !tokens.every((t, i) => stable[i] === t)) {
          if (!final) return
        }
        for (let i = tokens.length; i < stable.length; i++) {
          const token = stable[i]!
          const upTo = tokenizer.detokenize(stable.slice(0, i + 1))
          const piece = upTo.startsWith(shown) ? upTo.slice(shown.length) : tokenizer.detokenize([token], stable.slice(0, i))
          shown = upTo
          tokens.push(token)
          input.onToken({token, text: piece, isEnd: false} satisfies BackendToken)
        }
      }
      try {
        const stream = client.chatCompletionStream(
          {endpointUrl: options.url, model: options.name, messages: input.messages.map((m) => ({role: m.role, content: m.content})), max_tokens: input.maxTokens, temperature: 0, stream: true},
          {signal: input.signal, retry_on_error: false},
        )
        for await (const chunk of stream) {
          const choice = chunk.choices?.[0]
          if (choice?.delta?.content) {
            received += choice.delta.content
            emit(false)
          }
          if (choice?.finish_reason) finish = choice.finish_reason
        }
      } catch (error) {
        if (input.signal.aborted) throw error
        throw new ExternalError(`The endpoint ${options.url} failed: ${(error as Error).message}`, {code: 'ENDPOINT_FAILED', cause: error})
      }
      emit(true)
      const end = tokenizer.endToken()
      if (finish === 'stop' && end !== undefined && tokens.length < input.maxTokens) {
        tokens.push(end)
        input.onToken({token: end, text: '', isEnd: true})
        return {tokens, finishReason: 'eos'}
      }
      return {tokens, finishReason: 'length'}
    },
    async dispose() {
      await model.dispose().catch(() => {})
      await lease.release()
    },
  }
}
