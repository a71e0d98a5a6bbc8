/**
 * Resumable model downloads over HTTP(S), and `hf:` URIs.
 *
 * Why not node-llama-cpp's `createModelDownloader`: it retries network errors without end (offline, `ogpu model
 * add https://...` hung for minutes with no output) and cannot be aborted while it resolves the file. This is a
 * small fetch loop that fails fast with an ExternalError naming the URL, detects stalls, and resumes with an HTTP
 * Range request (guarded by If-Range on the ETag) from the partial file a previous attempt left.
 */
import {mkdir, open, rm, stat} from 'node:fs/promises'
import {basename, dirname} from 'node:path'

import {CancelledError, ExternalError, UserError} from '../errors/index.js'
import {readJson, writeJsonAtomic} from './files.js'

export interface ResolvedModelUri {
  /** The URL to fetch. */
  url: string
  /** The file name the URI points at (e.g. `model-Q4_K_M.gguf`). */
  fileName: string
}

/**
 * Resolves a model source URI to an HTTP(S) URL: `hf:USER/REPO/PATH/FILE.gguf[#BRANCH]` becomes
 * `https://huggingface.co/USER/REPO/resolve/BRANCH/PATH/FILE.gguf` (branch defaults to `main`); `https://` and
 * `http://` URLs are used as they are. Anything else is a UserError.
 */
export function resolveModelUri(source: string): ResolvedModelUri {
  if (source.startsWith('hf:')) {
    const [spec = '', branch = 'main'] = source.slice(3).replace(/^\/+/, '').split('#')
    const parts = spec.split('/').filter(Boolean)
    if (parts.length < 3 || !parts.at(-1)!.toLowerCase().endsWith('.gguf'))
      throw new UserError(`Unsupported Hugging Face URI "${source}".`, {
        code: 'BAD_MODEL_URI',
        hint: 'Use hf:USER/REPO/FILE.gguf (optionally #BRANCH), e.g. hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf',
      })
    const [user, repo, ...path] = parts
    const url = `https://huggingface.co/${encodeURIComponent(user!)}/${encodeURIComponent(repo!)}/resolve/${encodeURIComponent(branch)}/${path.map(encodeURIComponent).join('/')}`
    return {url, fileName: path.at(-1)!}
  }
  let parsed: URL
  try {
    parsed = new URL(source)
  } catch {
    throw new UserError(`"${source}" is neither a file, an hf: URI nor an http(s) URL.`, {code: 'BAD_MODEL_URI', hint: 'Give a path to a .gguf file, hf:USER/REPO/FILE.gguf, or https://.../FILE.gguf.'})
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new UserError(`Unsupported URL scheme "${parsed.protocol}" in ${source}.`, {code: 'BAD_MODEL_URI', hint: 'Use an https:// URL or hf:USER/REPO/FILE.gguf.'})
  const fileName = decodeURIComponent(basename(parsed.pathname)) || 'model.gguf'
  return {url: parsed.toString(), fileName}
}

export interface DownloadProgress {
  downloadedBytes: number
  /** Total size when the server says it. */
  totalBytes?: number
  /** Average speed of this attempt. */
  bytesPerSecond: number
  /** Bytes that were already there from an earlier attempt. */
  resumedFromBytes: number
}

export interface DownloadOptions {
  url: string
  /** Where the partial file lives (and stays on failure, for resuming); a `.json` sidecar sits next to it. */
  partialPath: string
  /** Called as bytes arrive (at most ~10 times a second). Defaults to none. */
  onProgress?: (progress: DownloadProgress) => void
  /** Aborts the download (the partial file is kept for resuming). Defaults to none. */
  signal?: AbortSignal
  /** Give up when no byte arrives for this long, in milliseconds. Defaults to 30000. */
  stallTimeoutMs?: number
  /** Extra request headers (e.g. `Authorization` for gated Hugging Face repos). Defaults to none. */
  headers?: Record<string, string>
}

interface PartialMeta {
  url: string
  etag?: string
  lastModified?: string
  totalBytes?: number
}

const fail = (url: string, message: string, extra: {hint?: string; cause?: unknown; details?: Record<string, unknown>} = {}) =>
  new ExternalError(`Download of ${url} failed: ${message}`, {
    code: 'DOWNLOAD_FAILED',
    hint: extra.hint ?? 'Check the network connection and the URL, then run the same command again (the download resumes where it stopped).',
    details: {url, ...extra.details},
    cause: extra.cause,
  })

function describeFetchError(err: unknown): string {
  const cause = (err as {cause?: {code?: string; message?: string}}).cause
  if (cause?.code) return cause.message?.includes(cause.code) ? cause.message : `${cause.code}${cause.message ? ` (${cause.message})` : ''}`
  return cause?.message ?? (err as Error).message ?? String(err)
}

/**
 * Downloads `url` into `partialPath`, resuming a previous partial download of the same URL when the server supports
 * ranges (and the file did not change: If-Range on the ETag or Last-Modified). Returns when the file is complete.
 * Network and HTTP failures are ExternalErrors naming the URL; an abort is a CancelledError. The partial file is
 * kept on failure so the next attempt resumes.
 */
export async function downloadResumable(options: DownloadOptions): Promise<{bytes: number; resumedFromBytes: number}> {
  const {url, partialPath} = options
  const metaPath = `${partialPath}.json`
  await mkdir(dirname(partialPath), {recursive: true})
  let meta = await readJson<PartialMeta | undefined>(metaPath, undefined)
  let existing = 0
  if (meta?.url === url) existing = await stat(partialPath).then((s) => s.size, () => 0)
  else {
    await rm(partialPath, {force: true})
    meta = {url}
  }

  for (let attempt = 0; attempt < 2; attempt++) {
    const stall = new AbortController()
    const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal
    const stallMs = options.stallTimeoutMs ?? 30_000
    let stallTimer = setTimeout(() => stall.abort(), stallMs)
    const resetStall = () => {
      clearTimeout(stallTimer)
      stallTimer = setTimeout(() => stall.abort(), stallMs)
    }
    const aborted = (err: unknown) => {
      if (options.signal?.aborted) return new CancelledError('Download cancelled (run the same command again to resume).', {details: {url}})
      if (stall.signal.aborted) return fail(url, `no data received for ${Math.round(stallMs / 1000)} s`, {cause: err})
      return undefined
    }
    try {
      const headers: Record<string, string> = {'user-agent': 'ogpu', ...options.headers}
      if (existing > 0) {
        headers.range = `bytes=${existing}-`
        const validator = meta.etag ?? meta.lastModified
        if (validator) headers['if-range'] = validator
      }
      let res: Response
      try {
        res = await fetch(url, {headers, signal, redirect: 'follow'})
      } catch (err) {
        throw aborted(err) ?? fail(url, describeFetchError(err), {cause: err})
      }
      resetStall()
      if (res.status === 416 && existing > 0) {
        const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1])
        await res.body?.cancel()
        if (total === existing) return {bytes: existing, resumedFromBytes: existing}
        existing = 0 // the partial file does not match the remote file: start over
        await rm(partialPath, {force: true})
        continue
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel()
        const hint =
          res.status === 401 || res.status === 403
            ? 'The file needs authorization (gated Hugging Face repos need an access token), or the URL is wrong.'
            : res.status === 404
              ? 'Check the URI: user, repository, branch and file name.'
              : undefined
        throw fail(url, `HTTP ${res.status} ${res.statusText}`.trim(), {hint, details: {status: res.status}})
      }
      let offset = 0
      if (res.status === 206) {
        const start = Number(/bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1])
        if (start !== existing) {
          await res.body?.cancel()
          existing = 0
          await rm(partialPath, {force: true})
          continue
        }
        offset = existing
      }
      const length = Number(res.headers.get('content-length'))
      const totalBytes = Number.isFinite(length) && res.headers.has('content-length') ? offset + length : undefined
      meta = {
        url,
        ...(res.headers.get('etag') ? {etag: res.headers.get('etag')!} : {}),
        ...(res.headers.get('last-modified') ? {lastModified: res.headers.get('last-modified')!} : {}),
        ...(totalBytes === undefined ? {} : {totalBytes}),
      }
      await writeJsonAtomic(metaPath, meta)
      const handle = await open(partialPath, offset > 0 ? 'r+' : 'w')
      const started = Date.now()
      let received = 0
      let lastReport = 0
      const report = (force = false) => {
        const now = Date.now()
        if (!options.onProgress || (!force && now - lastReport < 100)) return
        lastReport = now
        options.onProgress({
          downloadedBytes: offset + received,
          ...(totalBytes === undefined ? {} : {totalBytes}),
          bytesPerSecond: received / Math.max(0.001, (now - started) / 1000),
          resumedFromBytes: offset,
        })
      }
      try {
        report(true)
        if (res.body) {
          for await (const chunk of res.body) {
            resetStall()
            const bytes = chunk as Uint8Array
            await handle.write(bytes, 0, bytes.length, offset + received)
            received += bytes.length
            report()
          }
        }
        await handle.sync()
      } catch (err) {
        throw aborted(err) ?? fail(url, `connection lost after ${offset + received} bytes: ${describeFetchError(err)}`, {cause: err})
      } finally {
        await handle.close()
      }
      report(true)
      if (totalBytes !== undefined && offset + received !== totalBytes)
        throw fail(url, `received ${offset + received} of ${totalBytes} bytes`)
      return {bytes: offset + received, resumedFromBytes: offset}
    } finally {
      clearTimeout(stallTimer)
    }
  }
  throw fail(url, 'the server does not serve consistent ranges of the file')
}

/** Removes a partial download and its sidecar. */
export async function removePartial(partialPath: string): Promise<void> {
  await Promise.all([rm(partialPath, {force: true}), rm(`${partialPath}.json`, {force: true})])
}
