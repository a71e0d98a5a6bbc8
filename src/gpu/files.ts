/** File helpers of the model store: streamed sha256 with a size+mtime cache, atomic JSON writes, a lock file. */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {basename, dirname, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import {ExternalError} from '../errors/index.js'
import {writeFileDurableAsync} from '../storage/index.js'

/** Streams a file through sha256 (never loads it whole). Returns lowercase hex. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path, {highWaterMark: 1 << 20}), hash, {signal})
  return hash.digest('hex')
}

/** Writes JSON over `path` atomically and durably (see src/storage), creating its directory. */
export async function writeJsonAtomic(path: string, data: unknown): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  await writeFileDurableAsync(dirname(path), basename(path), `${JSON.stringify(data, null, 2)}\n`, {mode: 'umask'})
}

/** Reads a JSON file; `fallback` when it does not exist. */
export async function readJson<T>(path: string, fallback: T): Promise<T> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback
    throw err
  }
  return JSON.parse(text) as T
}

/**
 * A cross-process lock: an exclusive-create lock file holding the owner's pid. A lock whose owner is gone, or older
 * than `staleMs`, is broken.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, {timeoutMs = 30_000, staleMs = 10 * 60_000} = {}): Promise<T> {
  await mkdir(dirname(lockPath), {recursive: true})
  const deadline = Date.now() + timeoutMs
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      await writeFile(lockPath, String(process.pid), {flag: 'wx'})
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (await isStaleLock(lockPath, staleMs)) {
        await rm(lockPath, {force: true})
        continue
      }
      if (Date.now() > deadline)
        throw new ExternalError(`Timed out waiting for the lock ${lockPath}.`, {
          code: 'LOCK_TIMEOUT',
          hint: 'Another ogpu process is changing the model store. Wait for it, or delete the lock file if no ogpu process is running.',
        })
      await sleep(delay)
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lockPath, {force: true})
  }
}

async function isStaleLock(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)])
    if (Date.now() - info.mtimeMs > staleMs) return true
    const pid = Number(text)
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 1000
    try {
      process.kill(pid, 0)
      return false
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH'
    }
  } catch {
    return false
  }
}

interface HashCacheEntry {
  size: number
  mtimeMs: number
  sha256: string
}

/**
 * sha256 of files, cached by absolute path + size + mtime in a JSON file: a model's identity is computed once, and
 * recomputed only when the file changes.
 */
export class HashCache {
  constructor(private readonly cachePath: string) {}

  /** The cached hash when the file's size and mtime still match, else undefined. */
  async lookup(path: string): Promise<string | undefined> {
    const abs = resolve(path)
    const info = await stat(abs)
    const entries = await readJson<Record<string, HashCacheEntry>>(this.cachePath, {})
    const hit = entries[abs]
    return hit && hit.size === info.size && hit.mtimeMs === info.mtimeMs ? hit.sha256 : undefined
  }

  /** The file's sha256, from the cache or computed (streamed) and cached. */
  async hash(path: string, signal?: AbortSignal): Promise<{sha256: string; cached: boolean}> {
    const abs = resolve(path)
    const cached = await this.lookup(abs)
    if (cached) return {sha256: cached, cached: true}
    const before = await stat(abs)
    const sha256 = await sha256File(abs, signal)
    const after = await stat(abs)
    // Only cache when the file did not change while it was read.
    if (before.size === after.size && before.mtimeMs === after.mtimeMs) await this.remember(abs, {size: after.size, mtimeMs: after.mtimeMs, sha256})
    return {sha256, cached: false}
  }

  /** Records a known hash for a file (e.g. one hashed while it was copied). */
  async remember(path: string, entry: HashCacheEntry): Promise<void> {
    const abs = resolve(path)
    await withFileLock(`${this.cachePath}.lock`, async () => {
      const entries = await readJson<Record<string, HashCacheEntry>>(this.cachePath, {})
      entries[abs] = entry
      await writeJsonAtomic(this.cachePath, entries)
    })
  }

  async forget(path: string): Promise<void> {
    const abs = resolve(path)
    await withFileLock(`${this.cachePath}.lock`, async () => {
      const entries = await readJson<Record<string, HashCacheEntry>>(this.cachePath, {})
      if (!(abs in entries)) return
      delete entries[abs]
      await writeJsonAtomic(this.cachePath, entries)
    })
  }
}
