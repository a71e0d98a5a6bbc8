import {existsSync, readFileSync} from 'node:fs'
import {isAbsolute, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {ExternalError, UserError} from '../errors/index.js'
import {canonicalHash} from './canonical.js'
import {MerkleTree} from './merkle.js'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

/** One data item of a batch task: a prompt, or a chat. */
export interface TaskItem {
  id: string
  prompt?: string
  messages?: ChatMessage[]
}

export interface DataCommitment {
  items: TaskItem[]
  /** keccak256 of each item's canonical JSON, in order. */
  itemHashes: string[]
  tree: MerkleTree
  /** Merkle root over the items: what goes on chain. */
  root: string
}

export interface FetchOptions {
  /** Directory that relative paths and file: URIs resolve against. Defaults to the working directory. */
  baseDir?: string
  /** IPFS HTTP gateway for ipfs:// URIs. Defaults to https://ipfs.io/ipfs/. */
  ipfsGateway?: string
  /** Refuse data larger than this many bytes. Defaults to 64 MiB. */
  maxBytes?: number
  /** Milliseconds to wait for a download. Defaults to 60000. */
  timeoutMs?: number
}

/** Reads a data URI: a path, file:, data:, http(s): or ipfs:. */
export async function fetchDataUri(uri: string, options: FetchOptions = {}): Promise<string> {
  const maxBytes = options.maxBytes ?? 64 * 2 ** 20
  const tooBig = (size: number) =>
    new UserError(`The data at ${uri} is ${size} bytes, more than the limit of ${maxBytes}.`, {code: 'DATA_TOO_LARGE'})
  if (uri.startsWith('data:')) {
    const comma = uri.indexOf(',')
    if (comma < 0) throw new UserError(`The data: URI is malformed (no comma).`, {code: 'INVALID_DATA_URI'})
    const meta = uri.slice(5, comma)
    const body = uri.slice(comma + 1)
    const text = meta.endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body)
    if (Buffer.byteLength(text) > maxBytes) throw tooBig(Buffer.byteLength(text))
    return text
  }
  if (/^https?:\/\//.test(uri) || uri.startsWith('ipfs://')) {
    const url = uri.startsWith('ipfs://') ? `${(options.ipfsGateway ?? 'https://ipfs.io/ipfs/').replace(/\/?$/, '/')}${uri.slice(7)}` : uri
    let response: Response
    try {
      response = await fetch(url, {signal: AbortSignal.timeout(options.timeoutMs ?? 60_000)})
    } catch (error) {
      throw new ExternalError(`Cannot download the task data from ${url}: ${(error as {cause?: {code?: string}}).cause?.code ?? (error as Error).message}.`, {
        code: 'DATA_DOWNLOAD_FAILED',
        cause: error,
      })
    }
    if (!response.ok) throw new ExternalError(`Downloading ${url} failed: HTTP ${response.status}.`, {code: 'DATA_DOWNLOAD_FAILED'})
    const length = Number(response.headers.get('content-length') ?? 0)
    if (length > maxBytes) throw tooBig(length)
    const text = await response.text()
    if (Buffer.byteLength(text) > maxBytes) throw tooBig(Buffer.byteLength(text))
    return text
  }
  const path = uri.startsWith('file:') ? fileURLToPath(uri.startsWith('file://') ? uri : `file://${resolve(options.baseDir ?? '.', uri.slice(5))}`) : uri
  const full = isAbsolute(path) ? path : resolve(options.baseDir ?? process.cwd(), path)
  if (!existsSync(full)) throw new UserError(`The task data file ${full} does not exist.`, {code: 'FILE_NOT_FOUND', hint: 'data.uri is relative to the spec file.'})
  const text = readFileSync(full, 'utf8')
  if (Buffer.byteLength(text) > maxBytes) throw tooBig(Buffer.byteLength(text))
  return text
}

const ROLES = new Set(['system', 'user', 'assistant'])

/** Parses JSONL items; every error names the line. */
export function parseItems(jsonl: string, label = 'data'): TaskItem[] {
  const items: TaskItem[] = []
  const ids = new Map<string, number>()
  const lines = jsonl.split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (!line) continue
    const where = `${label}:${i + 1}`
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new UserError(`${where}: not valid JSON (${(error as Error).message}).`, {code: 'INVALID_DATA'})
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UserError(`${where}: each line must be a JSON object.`, {code: 'INVALID_DATA'})
    const v = value as Record<string, unknown>
    const extra = Object.keys(v).filter((k) => !['id', 'prompt', 'messages'].includes(k))
    if (extra.length > 0) throw new UserError(`${where}: unknown field "${extra[0]}" (items have id and prompt or messages).`, {code: 'INVALID_DATA'})
    if (typeof v.id !== 'string' && typeof v.id !== 'number') throw new UserError(`${where}: "id" must be a string or a number.`, {code: 'INVALID_DATA'})
    const id = String(v.id)
    if (ids.has(id)) throw new UserError(`${where}: id "${id}" repeats line ${ids.get(id)}.`, {code: 'INVALID_DATA'})
    ids.set(id, i + 1)
    if ((v.prompt === undefined) === (v.messages === undefined))
      throw new UserError(`${where}: give exactly one of "prompt" or "messages".`, {code: 'INVALID_DATA'})
    if (v.prompt !== undefined) {
      if (typeof v.prompt !== 'string' || v.prompt.length === 0) throw new UserError(`${where}: "prompt" must be a non-empty string.`, {code: 'INVALID_DATA'})
      items.push({id, prompt: v.prompt})
      continue
    }
    if (!Array.isArray(v.messages) || v.messages.length === 0) throw new UserError(`${where}: "messages" must be a non-empty array.`, {code: 'INVALID_DATA'})
    const messages = v.messages.map((m, j) => {
      const msg = m as Record<string, unknown>
      if (!msg || typeof msg !== 'object' || !ROLES.has(String(msg.role)) || typeof msg.content !== 'string')
        throw new UserError(`${where}: messages[${j}] needs a role (system, user or assistant) and a string content.`, {code: 'INVALID_DATA'})
      return {role: msg.role as ChatMessage['role'], content: msg.content}
    })
    items.push({id, messages})
  }
  if (items.length === 0) throw new UserError(`${label}: no items.`, {code: 'INVALID_DATA', hint: 'One JSON object per line: {"id": 1, "prompt": "..."}'})
  return items
}

export function itemHash(item: TaskItem): string {
  return canonicalHash(item)
}

export function commitToItems(items: TaskItem[]): DataCommitment {
  const itemHashes = items.map(itemHash)
  const tree = new MerkleTree(itemHashes)
  return {items, itemHashes, tree, root: tree.root}
}

/** Loads a task's data and checks it against what the spec (or the chain) says: item count and root. */
export async function loadTaskData(
  uri: string,
  expected: {items?: number; root?: string},
  options: FetchOptions = {},
): Promise<DataCommitment> {
  const commitment = commitToItems(parseItems(await fetchDataUri(uri, options), uri.startsWith('data:') ? 'data' : uri))
  if (expected.items !== undefined && expected.items !== commitment.items.length)
    throw new UserError(`The data has ${commitment.items.length} items but ${expected.items} were expected.`, {code: 'DATA_MISMATCH'})
  if (expected.root !== undefined && expected.root.toLowerCase() !== commitment.root.toLowerCase())
    throw new UserError(`The data's Merkle root ${commitment.root} does not match the expected ${expected.root}.`, {
      code: 'DATA_ROOT_MISMATCH',
      hint: 'The data changed since the root was computed. Remove data.root from the spec to use the data as it is now.',
    })
  return commitment
}
