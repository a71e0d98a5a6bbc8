/**
 * The gateway's model ids (issue 13, "Models"): the stream's model under the name its published terms give it, and
 * `ogpu-stream-N` as an alias (always there: the terms may be unreadable), plus its sha256. GET /v1/models lists
 * them, GET /v1/models/{id} answers one, and a request naming any other model is refused 404 model_not_found.
 */
import {specInfoOf} from '../protocol/published-spec.js'
import {fetchDataUri} from '../protocol/task-data.js'
import {gatewayError} from './caller.js'

/** One entry of OpenAI's model list. */
export interface ModelEntry {
  id: string
  object: 'model'
  created: number
  owned_by: string
  /** sha256 of the GGUF (ogpu's extension). */
  sha256: string
  /** The ids of the same model (ogpu's extension). */
  aliases: string[]
}

export class GatewayModels {
  readonly entries: ModelEntry[]

  constructor(stream: {id: bigint; modelHash: string; createdAt: number; client: string}, specName: string | null) {
    const sha256 = stream.modelHash.replace(/^0x/, '').toLowerCase()
    const alias = `ogpu-stream-${stream.id}`
    const ids = [...new Set([...(specName ? [specName] : []), alias])]
    this.entries = ids.map((id) => ({id, object: 'model', created: stream.createdAt, owned_by: stream.client, sha256, aliases: ids.filter((other) => other !== id)}))
    this.sha256 = sha256
  }

  private readonly sha256: string

  /** The entry a caller's `model` names (the sha256 counts too, with or without 0x), or undefined. */
  find(id: string): ModelEntry | undefined {
    const key = id.toLowerCase().replace(/^0x/, '')
    return this.entries.find((e) => e.id === id) ?? (key === this.sha256 ? this.entries[0] : undefined)
  }

  /** The model a request runs on: its own `model` if it names this stream's model, the first id when absent; 404 model_not_found otherwise. */
  resolve(model: unknown): string {
    if (model === undefined || model === null) return this.entries[0]!.id
    if (typeof model !== 'string') throw gatewayError(400, 'invalid_request', 'model must be a string.')
    if (this.find(model)) return model
    throw gatewayError(404, 'model_not_found', `The model '${model}' does not exist on this gateway: it serves ${this.entries.map((e) => `'${e.id}'`).join(' and ')} (GET /v1/models).`)
  }
}

/** The model name of the stream's published terms, or null when they cannot be read or do not match their hash. */
export async function specModelName(specUri: string, specHash: string, timeoutMs = 5000): Promise<string | null> {
  try {
    const info = specInfoOf(await fetchDataUri(specUri, {maxBytes: 1 << 20, timeoutMs}), specHash)
    return info.state === 'ok' ? info.modelName : null
  } catch {
    return null
  }
}
