/**
 * The model store: GGUF files a provider holds, under `<dataDir>/models/`.
 *
 * A model's identity is the sha256 of its GGUF file (what task prescriptions name). Layout:
 *
 *     <dataDir>/models/index.json        name → sha256, size, source, header facts (written atomically)
 *     <dataDir>/models/<sha256>.gguf     the files, content-addressed
 *     <dataDir>/models/hash-cache.json   sha256 of files by path + size + mtime (computed once)
 *     <dataDir>/models/.partial/         interrupted downloads, kept so the next attempt resumes
 *
 * Adding a local file COPIES it (a streamed copy that hashes in the same pass); it does not hard-link, because a
 * hard link shares the inode, so editing or re-downloading the original in place would silently change a stored
 * model behind its recorded hash. Nothing half-written is ever visible: files are written under a temporary name,
 * checked (GGUF magic, header, every tensor's data present), hashed (and compared with the expected sha256 when one
 * is given), and only then renamed into place and added to the index.
 */
import {createHash, randomBytes} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {mkdir, rm, stat, utimes} from 'node:fs/promises'
import {basename, isAbsolute, join, resolve, sep} from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {CancelledError, ExternalError, UserError} from '../errors/index.js'
import {renameDurableAsync} from '../storage/index.js'
import {downloadResumable, removePartial, resolveModelUri, type DownloadProgress} from './download.js'
import {HashCache, readJson, withFileLock, writeJsonAtomic} from './files.js'
import {assertGgufMagic, readGgufSummary, type GgufSummary} from './gguf.js'

/** A model in the store. */
export interface ModelEntry {
  /** Local name (unique in the store). */
  name: string
  /** sha256 of the GGUF file, lowercase hex: the model's identity. */
  sha256: string
  /** Absolute path of the stored file. */
  path: string
  sizeBytes: number
  /** Where it came from: the original path, the hf: URI, or the URL. */
  source: string
  /** ISO time it was added. */
  addedAt: string
  architecture: string
  parameters: number
  /** Quantization, e.g. `Q4_K_M`. */
  fileType: string
  contextLength?: number
  /** Set when the stored file has gone missing from disk. */
  missing?: true
}

export type AddProgress =
  | ({phase: 'download'} & DownloadProgress)
  | {phase: 'copy'; copiedBytes: number; totalBytes: number}
  | {phase: 'verify'}

export interface AddModelOptions {
  /** A path to a .gguf file, `hf:USER/REPO/FILE.gguf[#BRANCH]`, or an `https://` URL. */
  source: string
  /** Local name. Defaults to the file name without `.gguf`. */
  name?: string
  /** The sha256 the file must have; a mismatch fails and leaves nothing behind. Defaults to accepting any. */
  sha256?: string
  /** Progress of the download or copy. Defaults to none. */
  onProgress?: (progress: AddProgress) => void
  /** Cancels the add (a partial download is kept for resuming). Defaults to none. */
  signal?: AbortSignal
  /** Give up a download when no byte arrives for this long, in milliseconds. Defaults to 30000. */
  stallTimeoutMs?: number
  /** Extra HTTP headers for downloads (e.g. `Authorization: Bearer <HF token>`). Defaults to none. */
  headers?: Record<string, string>
}

export interface AddModelResult {
  model: ModelEntry
  /** The same file (same sha256) was already in the store: nothing was copied. */
  alreadyPresent: boolean
  /** The file was downloaded (hf: or https source). */
  downloaded: boolean
}

export interface ModelInspection {
  path: string
  sha256: string
  /** The store entry with this sha256, when the file is in the store. */
  model?: ModelEntry
  gguf: GgufSummary
}

export interface ModelStoreOptions {
  /** ogpu's data dir (from `resolvePaths()`); models live in `<dataDir>/models`. */
  dataDir: string
}

/** A model as index.json records it: the entry without what is known only on disk, its file by name in the store. */
interface IndexEntry extends Omit<ModelEntry, 'path' | 'missing'> {
  /** The stored file: its name in the store's directory (or an absolute path). */
  file: string
}

interface IndexFile {
  version: 1
  models: IndexEntry[]
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const SHA_RE = /^[0-9a-f]{64}$/

/** A default model name from a file name: without `.gguf`, unsafe characters replaced. */
export function defaultModelName(fileName: string): string {
  const base = fileName.replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '')
  return (base || 'model').slice(0, 128)
}

export class ModelStore {
  /** `<dataDir>/models` */
  readonly dir: string
  private readonly indexPath: string
  private readonly lockPath: string
  private readonly hashes: HashCache

  constructor(options: ModelStoreOptions) {
    this.dir = join(options.dataDir, 'models')
    this.indexPath = join(this.dir, 'index.json')
    this.lockPath = join(this.dir, 'index.lock')
    this.hashes = new HashCache(join(this.dir, 'hash-cache.json'))
  }

  /** Every model in the store, by name. */
  async list(): Promise<ModelEntry[]> {
    const index = await this.readIndex()
    const entries = await Promise.all(index.models.map((e) => this.toEntry(e)))
    return entries.sort((a, b) => a.name.localeCompare(b.name))
  }

  /** The model with this name, full sha256, or unique sha256 prefix (≥ 8 hex digits, `sha256:` optional), if any. */
  async find(ref: string): Promise<ModelEntry | undefined> {
    const index = await this.readIndex()
    const entry = this.match(index, ref)
    return entry ? this.toEntry(entry) : undefined
  }

  /** Like `find`, but a UserError when there is no such model. */
  async get(ref: string): Promise<ModelEntry> {
    const found = await this.find(ref)
    if (!found)
      throw new UserError(`No model "${ref}" in the store.`, {
        code: 'MODEL_NOT_FOUND',
        hint: 'Run `ogpu model list` to see the models, or `ogpu model add PATH|hf:USER/REPO/FILE.gguf` to add one.',
        details: {ref},
      })
    return found
  }

  /**
   * Adds a model from a local path (copied), an `hf:` URI or an https URL (downloaded, resumable). Validates the GGUF
   * header, hashes the file, and records it. Adding a file whose sha256 is already stored returns the existing entry.
   */
  async add(options: AddModelOptions): Promise<AddModelResult> {
    const expected = options.sha256?.toLowerCase().replace(/^sha256:/, '')
    if (expected !== undefined && !SHA_RE.test(expected))
      throw new UserError(`"${options.sha256}" is not a sha256 (64 hex digits).`, {code: 'BAD_SHA256', hint: 'Give the full sha256 of the GGUF file, e.g. from the task prescription.'})
    if (options.name !== undefined && !NAME_RE.test(options.name))
      throw new UserError(`"${options.name}" is not a valid model name.`, {
        code: 'BAD_MODEL_NAME',
        hint: 'Use letters, digits, ".", "_" and "-" (up to 128 characters), starting with a letter or digit.',
      })
    await mkdir(this.dir, {recursive: true})
    const remote = /^(hf:|[a-z][a-z0-9+.-]*:\/\/)/i.test(options.source) // any URL scheme: unsupported ones fail in resolveModelUri
    return remote ? this.addRemote(options, expected) : this.addLocal(options, expected)
  }

  private async addLocal(options: AddModelOptions, expected: string | undefined): Promise<AddModelResult> {
    const src = resolve(options.source)
    await assertGgufMagic(src, options.source)
    const name = options.name ?? defaultModelName(basename(src))
    // A cached hash of the source lets a repeated add return at once without copying.
    const known = await this.hashes.lookup(src).catch(() => undefined)
    if (known) {
      if (expected && known !== expected) throw hashMismatch(options.source, expected, known)
      const existing = await this.find(known)
      if (existing) return {model: existing, alreadyPresent: true, downloaded: false}
    }
    const tmp = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}.gguf`)
    try {
      const total = (await stat(src)).size
      const hash = createHash('sha256')
      let copied = 0
      let lastReport = 0
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk)
          copied += chunk.length
          const now = Date.now()
          if (options.onProgress && now - lastReport >= 100) {
            lastReport = now
            options.onProgress({phase: 'copy', copiedBytes: copied, totalBytes: total})
          }
          done(null, chunk)
        },
      })
      try {
        await pipeline(createReadStream(src, {highWaterMark: 1 << 20}), meter, createWriteStream(tmp, {flags: 'wx'}), {signal: options.signal})
      } catch (err) {
        if (options.signal?.aborted) throw new CancelledError()
        throw new ExternalError(`Copying ${options.source} into the model store failed: ${(err as Error).message}`, {code: 'COPY_FAILED', hint: 'Check free disk space in the data dir.', cause: err})
      }
      options.onProgress?.({phase: 'copy', copiedBytes: copied, totalBytes: total})
      const sha256 = hash.digest('hex')
      const srcInfo = await stat(src)
      if (srcInfo.size === copied) await this.hashes.remember(src, {size: srcInfo.size, mtimeMs: srcInfo.mtimeMs, sha256}).catch(() => {})
      return await this.commit(tmp, {sha256, expected, name, source: src, label: options.source, onProgress: options.onProgress, downloaded: false})
    } finally {
      await rm(tmp, {force: true})
    }
  }

  private async addRemote(options: AddModelOptions, expected: string | undefined): Promise<AddModelResult> {
    const {url, fileName} = resolveModelUri(options.source)
    const name = options.name ?? defaultModelName(fileName)
    const urlKey = createHash('sha256').update(url).digest('hex').slice(0, 16)
    const partial = join(this.dir, '.partial', `${urlKey}-${defaultModelName(fileName)}.gguf`)
    await downloadResumable({
      url,
      partialPath: partial,
      signal: options.signal,
      stallTimeoutMs: options.stallTimeoutMs,
      headers: options.headers,
      onProgress: options.onProgress && ((p) => options.onProgress!({phase: 'download', ...p})),
    })
    // The download is complete: from here on, any failure discards it (resuming cannot fix a wrong file).
    try {
      const sha256 = (await this.hashes.hash(partial, options.signal)).sha256
      const result = await this.commit(partial, {sha256, expected, name, source: options.source, label: url, onProgress: options.onProgress, downloaded: true})
      await removePartial(partial) // only the sidecar is left: the file was moved into the store
      return result
    } catch (err) {
      if (!(err instanceof CancelledError) && !options.signal?.aborted) await removePartial(partial)
      throw err
    } finally {
      await this.hashes.forget(partial).catch(() => {})
    }
  }

  /** Validates a complete temp file and moves it into the store under the index lock. */
  private async commit(
    tmp: string,
    args: {sha256: string; expected?: string; name: string; source: string; label: string; downloaded: boolean; onProgress?: (p: AddProgress) => void},
  ): Promise<AddModelResult> {
    args.onProgress?.({phase: 'verify'})
    if (args.expected && args.sha256 !== args.expected) throw hashMismatch(args.label, args.expected, args.sha256)
    const gguf = await readGgufSummary(tmp, args.label)
    return withFileLock(this.lockPath, async () => {
      const index = await this.readIndex()
      const same = index.models.find((m) => m.sha256 === args.sha256)
      if (same) {
        await rm(tmp, {force: true})
        return {model: await this.toEntry(same), alreadyPresent: true, downloaded: args.downloaded}
      }
      const taken = index.models.find((m) => m.name === args.name)
      if (taken)
        throw new UserError(`A different model is already stored as "${args.name}" (sha256 ${taken.sha256.slice(0, 12)}…).`, {
          code: 'MODEL_NAME_TAKEN',
          hint: `Choose another name with --name, or remove the old one first: ogpu model remove ${args.name}`,
          details: {name: args.name, existingSha256: taken.sha256},
        })
      const file = `${args.sha256}.gguf`
      const dest = join(this.dir, file)
      await renameDurableAsync(tmp, dest)
      const now = new Date()
      await utimes(dest, now, now)
      const info = await stat(dest)
      await this.hashes.remember(dest, {size: info.size, mtimeMs: info.mtimeMs, sha256: args.sha256})
      const entry: IndexEntry = {
        name: args.name,
        sha256: args.sha256,
        file,
        sizeBytes: info.size,
        source: args.source,
        addedAt: now.toISOString(),
        architecture: gguf.architecture,
        parameters: gguf.parameters,
        fileType: gguf.fileType,
        ...(gguf.contextLength === undefined ? {} : {contextLength: gguf.contextLength}),
      }
      index.models.push(entry)
      await writeJsonAtomic(this.indexPath, index)
      return {model: await this.toEntry(entry), alreadyPresent: false, downloaded: args.downloaded}
    })
  }

  /** Removes a model (index entry first, then the file). */
  async remove(ref: string): Promise<ModelEntry> {
    return withFileLock(this.lockPath, async () => {
      const index = await this.readIndex()
      const entry = this.match(index, ref)
      if (!entry) {
        await this.get(ref) // throws the not-found UserError
        throw new Error('unreachable')
      }
      const model = await this.toEntry(entry)
      index.models = index.models.filter((m) => m !== entry)
      await writeJsonAtomic(this.indexPath, index)
      await rm(model.path, {force: true})
      await this.hashes.forget(model.path).catch(() => {})
      return model
    })
  }

  /**
   * Where a model is and what its sha256 is, for a store ref (name / sha256 / prefix) or a path to a GGUF file
   * (hashed, with the cache).
   */
  async locate(refOrPath: string, signal?: AbortSignal): Promise<{path: string; sha256: string; model?: ModelEntry}> {
    const looksLikePath = refOrPath.includes('/') || refOrPath.includes(sep) || /\.gguf$/i.test(refOrPath)
    if (!looksLikePath) {
      const model = await this.find(refOrPath)
      if (model) return {path: model.path, sha256: model.sha256, model}
    }
    const isFile = await stat(refOrPath).then((s) => s.isFile(), () => false)
    if (!isFile) {
      if (looksLikePath) await assertGgufMagic(refOrPath) // the not-found / not-a-file UserError
      await this.get(refOrPath) // the not-found UserError
    }
    await assertGgufMagic(refOrPath)
    const path = resolve(refOrPath)
    const {sha256} = await this.hashes.hash(path, signal)
    const model = await this.find(sha256)
    return {path, sha256, ...(model ? {model} : {})}
  }

  /** The GGUF header facts of a stored model (by name / sha256) or of any GGUF file (by path). */
  async inspect(refOrPath: string, signal?: AbortSignal): Promise<ModelInspection> {
    const located = await this.locate(refOrPath, signal)
    const gguf = await readGgufSummary(located.path, refOrPath)
    return {path: located.path, sha256: located.sha256, ...(located.model ? {model: located.model} : {}), gguf}
  }

  private match(index: IndexFile, ref: string): IndexEntry | undefined {
    const byName = index.models.find((m) => m.name === ref)
    if (byName) return byName
    const hex = ref.toLowerCase().replace(/^sha256:/, '')
    if (!/^[0-9a-f]{8,64}$/.test(hex)) return undefined
    const hits = index.models.filter((m) => m.sha256.startsWith(hex))
    if (hits.length > 1)
      throw new UserError(`"${ref}" matches ${hits.length} models.`, {code: 'AMBIGUOUS_MODEL', hint: 'Give more digits of the sha256, or the model name.', details: {matches: hits.map((h) => h.name)}})
    return hits[0]
  }

  private async toEntry(e: IndexEntry): Promise<ModelEntry> {
    const path = isAbsolute(e.file) ? e.file : join(this.dir, e.file)
    const exists = await stat(path).then(() => true, () => false)
    const {file: _file, ...rest} = e
    return {...rest, path, ...(exists ? {} : {missing: true as const})}
  }

  private async readIndex(): Promise<IndexFile> {
    let index: IndexFile
    try {
      index = await readJson<IndexFile>(this.indexPath, {version: 1, models: []})
    } catch (err) {
      throw new ExternalError(`The model index ${this.indexPath} is unreadable: ${(err as Error).message}`, {
        code: 'MODEL_INDEX_CORRUPT',
        hint: 'Move the file away; `ogpu model add` rebuilds it (the .gguf files next to it are named by their sha256).',
        cause: err,
      })
    }
    if (index.version !== 1 || !Array.isArray(index.models))
      throw new ExternalError(`The model index ${this.indexPath} has an unknown format.`, {code: 'MODEL_INDEX_CORRUPT', hint: 'Upgrade ogpu, or move the file away.'})
    return index
  }
}

function hashMismatch(label: string, expected: string, actual: string): UserError {
  return new UserError(`${label} does not have the expected sha256: expected ${expected}, got ${actual}.`, {
    code: 'HASH_MISMATCH',
    hint: 'The file is a different model (or a different quantization) than the one asked for, or it is damaged: get the exact file named by the task.',
    details: {expected, actual},
  })
}
