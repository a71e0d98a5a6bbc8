/**
 * A chat session through the gateway's machinery, in-process (what `ogpu client chat` drives): the history of the
 * session goes with every request, replies stream as they are released, and a cancelled reply leaves the history as
 * it was.
 */
import {UserError} from '../errors/index.js'
import type {CompletionOutcome, StreamGateway} from './gateway.js'

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatSessionOptions {
  /** A system message first in the history. Defaults to none. */
  system?: string
  /** max_tokens of each reply. Defaults to the provider's default. */
  maxTokens?: number
}

/** A stream id from user input: a positive integer (`what` names the input in the error, e.g. "--stream"). */
export function parseStreamId(value: string, what = 'The stream id'): bigint {
  const text = value.trim()
  if (!/^\d+$/.test(text) || BigInt(text) === 0n)
    throw new UserError(`${what} ${value} is not a stream id (a positive integer).`, {code: 'INVALID_ARGUMENTS', hint: 'List streams with `ogpu stream list`.'})
  return BigInt(text)
}

export class ChatSession {
  readonly history: ChatTurn[] = []

  constructor(
    private readonly gateway: StreamGateway,
    private readonly options: ChatSessionOptions = {},
  ) {
    if (options.maxTokens !== undefined && (!Number.isInteger(options.maxTokens) || options.maxTokens < 1))
      throw new UserError(`max tokens must be a positive integer (got ${options.maxTokens}).`, {code: 'INVALID_ARGUMENTS'})
    if (options.system) this.history.push({role: 'system', content: options.system})
  }

  /** Sends `prompt` with the history; `onText` gets the reply as it is released. The turn is kept only when it completes. */
  async ask(prompt: string, options: {onText?: (text: string) => void; signal?: AbortSignal} = {}): Promise<CompletionOutcome> {
    if (prompt.trim() === '') throw new UserError('The prompt is empty.', {code: 'EMPTY_PROMPT'})
    const messages = [...this.history, {role: 'user' as const, content: prompt}]
    const body: Record<string, unknown> = {messages, ...(this.options.maxTokens ? {max_tokens: this.options.maxTokens} : {})}
    const outcome = await this.gateway.complete('chat', body, {onText: (text) => options.onText?.(text)}, options.signal)
    this.history.push({role: 'user', content: prompt}, {role: 'assistant', content: outcome.text})
    return outcome
  }
}
