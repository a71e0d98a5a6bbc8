import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {ExternalError, UserError} from '../../../src/errors/index.js'
import {resolveModelUri} from '../../../src/gpu/download.js'
import {ModelStore, type AddProgress} from '../../../src/gpu/model-store.js'
import {ensureModel} from '../../fixtures/gguf-writer.js'
import {tempDir} from './helpers.js'

const body = readFileSync(ensureModel('tiny'))
const sha = createHash('sha256').update(body).digest('hex')
const ETAG = `"${sha.slice(0, 16)}"`

/** A local HTTP server with Range support; `mode` decides how the next requests fail. */
interface Behaviour {
  mode: 'ok' | 'cut' | 'stall' | 'not-gguf' | '404'
  /** For `cut` and `stall`: bytes sent before the connection is cut or stalls. */
  after?: number
}

describe('model downloads (local HTTP server)', () => {
  let server: Server
  let base: string
  let behaviour: Behaviour
  const requests: Array<{range?: string; ifRange?: string}> = []
  let tmp: ReturnType<typeof tempDir>
  let store: ModelStore

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push({range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined})
      if (behaviour.mode === '404') {
        res.writeHead(404).end('not found')
        return
      }
      const content = behaviour.mode === 'not-gguf' ? Buffer.from('<html>not a model</html>') : body
      let start = 0
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
      if (range && req.headers['if-range'] === ETAG) start = Number(range[1])
      const headers = {'content-length': String(content.length - start), etag: ETAG, 'accept-ranges': 'bytes'}
      if (start > 0) res.writeHead(206, {...headers, 'content-range': `bytes ${start}-${content.length - 1}/${content.length}`})
      else res.writeHead(200, headers)
      const slice = content.subarray(start)
      if (behaviour.mode === 'cut') {
        res.write(slice.subarray(0, behaviour.after), () => res.socket?.end()) // FIN before content-length is reached
        behaviour = {mode: 'ok'}
      } else if (behaviour.mode === 'stall') {
        res.write(slice.subarray(0, behaviour.after)) // then nothing: the client must give up
        behaviour = {mode: 'ok'}
      } else res.end(slice)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  beforeEach(() => {
    behaviour = {mode: 'ok'}
    requests.length = 0
    tmp = tempDir()
    store = new ModelStore({dataDir: tmp.dir})
  })
  afterEach(() => tmp.cleanup())

  const modelsDir = () => join(tmp.dir, 'models')
  const partials = () => (existsSync(join(modelsDir(), '.partial')) ? readdirSync(join(modelsDir(), '.partial')) : [])

  it('downloads a model with progress, verifies and stores it', async () => {
    const progress: AddProgress[] = []
    const result = await store.add({source: `${base}/models/tiny.gguf`, onProgress: (p) => progress.push(p)})
    expect(result).toMatchObject({downloaded: true, alreadyPresent: false, model: {name: 'tiny', sha256: sha, source: `${base}/models/tiny.gguf`}})
    expect(readFileSync(result.model.path).equals(body)).toBe(true)
    const last = progress.filter((p) => p.phase === 'download').at(-1)
    expect(last).toMatchObject({downloadedBytes: body.length, totalBytes: body.length, resumedFromBytes: 0})
    expect(progress.at(-1)).toEqual({phase: 'verify'})
    expect(partials()).toEqual([])
  })

  it('resumes an interrupted download with a Range request', async () => {
    behaviour = {mode: 'cut', after: 200_000}
    const err = await store.add({source: `${base}/tiny.gguf`, sha256: sha}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ExternalError)
    expect(err).toMatchObject({code: 'DOWNLOAD_FAILED', details: {url: `${base}/tiny.gguf`}})
    expect((err as ExternalError).message).toContain(`${base}/tiny.gguf`)
    expect(await store.list()).toEqual([])
    const partial = partials().find((f) => f.endsWith('.gguf'))!
    const kept = statSync(join(modelsDir(), '.partial', partial)).size // what arrived before the connection was cut
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThanOrEqual(200_000)

    const progress: AddProgress[] = []
    const result = await store.add({source: `${base}/tiny.gguf`, sha256: sha, onProgress: (p) => progress.push(p)})
    expect(requests.at(-1)).toEqual({range: `bytes=${kept}-`, ifRange: ETAG})
    expect(progress.find((p) => p.phase === 'download')).toMatchObject({resumedFromBytes: kept})
    expect(result.model.sha256).toBe(sha)
    expect(readFileSync(result.model.path).equals(body)).toBe(true)
    expect(partials()).toEqual([])
  })

  it('gives up on a stalled download with an ExternalError, keeping the partial file', async () => {
    behaviour = {mode: 'stall', after: 50_000}
    await expect(store.add({source: `${base}/stall.gguf`, stallTimeoutMs: 300})).rejects.toMatchObject({code: 'DOWNLOAD_FAILED', kind: 'external'})
    expect(partials().length).toBeGreaterThan(0)
    server.closeAllConnections()
  })

  it('fails cleanly on HTTP errors, non-GGUF content and a wrong sha256, leaving nothing behind', async () => {
    behaviour = {mode: '404'}
    await expect(store.add({source: `${base}/missing.gguf`})).rejects.toMatchObject({code: 'DOWNLOAD_FAILED', kind: 'external', details: {status: 404}})
    behaviour = {mode: 'not-gguf'}
    await expect(store.add({source: `${base}/page.gguf`})).rejects.toMatchObject({code: 'NOT_GGUF', kind: 'user'})
    expect(partials()).toEqual([])
    behaviour = {mode: 'ok'}
    await expect(store.add({source: `${base}/tiny.gguf`, sha256: 'b'.repeat(64)})).rejects.toMatchObject({code: 'HASH_MISMATCH'})
    expect(partials()).toEqual([])
    expect(await store.list()).toEqual([])
    expect(readdirSync(modelsDir()).filter((f) => f.endsWith('.gguf'))).toEqual([])
  })

  it('fails with an ExternalError naming the URL when the host is unreachable', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const url = `http://127.0.0.1:${port}/model.gguf`
    const err = await store.add({source: url}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ExternalError)
    expect((err as ExternalError).message).toContain(url)
    expect((err as ExternalError).message).toContain('ECONNREFUSED')

    const dns = await store.add({source: 'https://models.example.invalid/model.gguf'}).catch((e: unknown) => e)
    expect(dns).toBeInstanceOf(ExternalError)
    expect((dns as ExternalError).message).toContain('https://models.example.invalid/model.gguf')
  })

  it('resolves hf: URIs and rejects other schemes', () => {
    expect(resolveModelUri('hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf')).toEqual({
      url: 'https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf',
      fileName: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf',
    })
    expect(resolveModelUri('hf:user/repo/sub/dir/model.gguf#v2').url).toBe('https://huggingface.co/user/repo/resolve/v2/sub/dir/model.gguf')
    expect(() => resolveModelUri('hf:user/repo')).toThrow(UserError)
    expect(() => resolveModelUri('hf:user/repo/readme.md')).toThrow(UserError)
    expect(() => resolveModelUri('ftp://host/model.gguf')).toThrow(UserError)
  })
})
