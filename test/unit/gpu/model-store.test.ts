import {createHash} from 'node:crypto'
import {copyFileSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {UserError} from '../../../src/errors/index.js'
import {readGgufSummary} from '../../../src/gpu/gguf.js'
import {ModelStore, defaultModelName} from '../../../src/gpu/model-store.js'
import {HashCache} from '../../../src/gpu/files.js'
import {ensureModel, parameterCount, PRESETS} from '../../fixtures/gguf-writer.js'
import {tempDir} from './helpers.js'

const tiny = ensureModel('tiny')
const tinySha = createHash('sha256').update(readFileSync(tiny)).digest('hex')

describe('ModelStore', () => {
  let tmp: ReturnType<typeof tempDir>
  let store: ModelStore
  let modelsDir: string

  beforeEach(() => {
    tmp = tempDir()
    store = new ModelStore({dataDir: join(tmp.dir, 'data')})
    modelsDir = join(tmp.dir, 'data', 'models')
  })
  afterEach(() => tmp.cleanup())

  /** The store's visible state: index plus every file in the models dir (no temp files may remain). */
  const snapshot = () => ({
    files: readdirSync(modelsDir).filter((f) => f !== '.partial' && f !== 'hash-cache.json').sort(),
    index: readFileSync(join(modelsDir, 'index.json'), 'utf8'),
  })

  it('adds a local GGUF file (a copy named by its sha256), lists, inspects and removes it', async () => {
    const {model, alreadyPresent, downloaded} = await store.add({source: tiny})
    expect(alreadyPresent).toBe(false)
    expect(downloaded).toBe(false)
    expect(model).toMatchObject({
      name: 'tiny-v4',
      sha256: tinySha,
      sizeBytes: statSync(tiny).size,
      architecture: 'llama',
      parameters: parameterCount(PRESETS.tiny),
      fileType: 'F32',
      contextLength: 1024,
      path: join(modelsDir, `${tinySha}.gguf`),
    })
    expect(statSync(model.path).ino).not.toBe(statSync(tiny).ino) // copied, not hard-linked
    expect(readFileSync(model.path).equals(readFileSync(tiny))).toBe(true)

    expect(await store.list()).toEqual([model])
    expect(await store.find('tiny-v4')).toEqual(model)
    expect(await store.find(tinySha.slice(0, 10))).toEqual(model)
    expect(await store.find(`sha256:${tinySha}`)).toEqual(model)

    const byName = await store.inspect('tiny-v4')
    expect(byName).toMatchObject({sha256: tinySha, model: {name: 'tiny-v4'}})
    expect(byName.gguf).toMatchObject({
      ggufVersion: 3,
      architecture: 'llama',
      name: 'ogpu-tiny',
      parameters: parameterCount(PRESETS.tiny),
      fileType: 'F32',
      contextLength: 1024,
      layers: 2,
      embeddingSize: 64,
      feedForwardSize: 128,
      headCount: 4,
      headCountKv: 4,
      vocabSize: 512,
      tokenizer: 'llama',
      bosTokenId: 1,
      eosTokenId: 2,
      hasChatTemplate: false,
    })
    // by path, for a file that is not (or is) in the store
    expect(await store.inspect(tiny)).toMatchObject({sha256: tinySha, path: tiny, model: {name: 'tiny-v4'}})

    const removed = await store.remove('tiny-v4')
    expect(removed.sha256).toBe(tinySha)
    expect(await store.list()).toEqual([])
    expect(readdirSync(modelsDir).filter((f) => f.endsWith('.gguf'))).toEqual([])
    await expect(store.remove('tiny-v4')).rejects.toMatchObject({code: 'MODEL_NOT_FOUND', kind: 'user'})
  })

  it('adding the same file again returns the stored model; another name for other content is refused', async () => {
    await store.add({source: tiny, name: 'tiny'})
    const again = await store.add({source: tiny, name: 'other-name'})
    expect(again).toMatchObject({alreadyPresent: true, model: {name: 'tiny'}})
    expect(await store.list()).toHaveLength(1)

    const variant = join(tmp.dir, 'variant.gguf')
    copyFileSync(tiny, variant)
    const bytes = readFileSync(variant)
    bytes[bytes.length - 1] ^= 0xff // same header, different weights: another model
    writeFileSync(variant, bytes)
    const before = snapshot()
    await expect(store.add({source: variant, name: 'tiny'})).rejects.toMatchObject({code: 'MODEL_NAME_TAKEN', kind: 'user'})
    expect(snapshot()).toEqual(before)
    const second = await store.add({source: variant})
    expect(second.model.name).toBe('variant')
    expect(second.model.sha256).not.toBe(tinySha)
  })

  it('hashes a file once and reuses the hash while size and mtime are unchanged', async () => {
    const cache = new HashCache(join(tmp.dir, 'hash-cache.json'))
    const copy = join(tmp.dir, 'copy.gguf')
    copyFileSync(tiny, copy)
    expect(await cache.hash(copy)).toEqual({sha256: tinySha, cached: false})
    expect(await cache.hash(copy)).toEqual({sha256: tinySha, cached: true})
    // same size, new mtime: recomputed
    const bytes = readFileSync(copy)
    bytes[bytes.length - 1] ^= 0xff
    writeFileSync(copy, bytes)
    utimesSync(copy, new Date(), new Date(Date.now() + 5000))
    const changed = await cache.hash(copy)
    expect(changed.cached).toBe(false)
    expect(changed.sha256).not.toBe(tinySha)

    // the store caches the source's hash while copying: a repeated add does not copy again
    await store.add({source: tiny})
    const progress: string[] = []
    const again = await store.add({source: tiny, onProgress: (p) => progress.push(p.phase)})
    expect(again.alreadyPresent).toBe(true)
    expect(progress).toEqual([])
  })

  it('checks an expected sha256: a mismatch adds nothing', async () => {
    const before = (await store.add({source: tiny, name: 'keep'}), snapshot())
    const other = join(tmp.dir, 'other.gguf')
    const bytes = readFileSync(tiny)
    bytes[bytes.length - 1] ^= 0xff
    writeFileSync(other, bytes)
    const wrong = 'a'.repeat(64)
    await expect(store.add({source: other, sha256: wrong})).rejects.toMatchObject({code: 'HASH_MISMATCH', kind: 'user', details: {expected: wrong}})
    expect(snapshot()).toEqual(before)
    await expect(store.add({source: other, sha256: 'xyz'})).rejects.toMatchObject({code: 'BAD_SHA256'})
    // the right hash is accepted
    const sha = createHash('sha256').update(bytes).digest('hex')
    expect((await store.add({source: other, sha256: sha.toUpperCase()})).model.sha256).toBe(sha)
  })

  it('refuses bad inputs with UserErrors and leaves nothing half-written', async () => {
    await store.add({source: tiny, name: 'keep'})
    const before = snapshot()
    const notGguf = join(tmp.dir, 'notes.gguf')
    writeFileSync(notGguf, 'this is not a model\n')
    const empty = join(tmp.dir, 'empty.gguf')
    writeFileSync(empty, '')
    const truncated = join(tmp.dir, 'truncated.gguf')
    copyFileSync(tiny, truncated)
    truncateSync(truncated, statSync(tiny).size - 1000) // header intact, tensor data short
    const badHeader = join(tmp.dir, 'bad-header.gguf') // absurd tensor count
    writeFileSync(badHeader, Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(16, 0xff)]))
    const shortHeader = join(tmp.dir, 'short-header.gguf') // counts that fit, but the header stops
    writeFileSync(shortHeader, Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(40)]))

    const cases: Array<[string, string]> = [
      [join(tmp.dir, 'missing.gguf'), 'FILE_NOT_FOUND'],
      [tmp.dir, 'NOT_GGUF'],
      [notGguf, 'NOT_GGUF'],
      [empty, 'NOT_GGUF'],
      [truncated, 'BAD_GGUF'],
      [badHeader, 'BAD_GGUF'],
      [shortHeader, 'BAD_GGUF'],
    ]
    for (const [source, code] of cases) {
      const err = await store.add({source}).catch((e: unknown) => e)
      expect(err, source).toBeInstanceOf(UserError)
      expect(err, source).toMatchObject({code})
      expect((err as UserError).hint).toBeTruthy()
      expect(snapshot()).toEqual(before)
    }
    await expect(store.add({source: tiny, name: '../escape'})).rejects.toMatchObject({code: 'BAD_MODEL_NAME'})
    await expect(store.inspect('no-such-model')).rejects.toMatchObject({code: 'MODEL_NOT_FOUND'})
    await expect(store.inspect(notGguf)).rejects.toMatchObject({code: 'NOT_GGUF'})
    await expect(readGgufSummary(truncated)).rejects.toMatchObject({code: 'BAD_GGUF'})
    await expect(store.add({source: 'ftp://example.com/x.gguf'})).rejects.toMatchObject({code: 'BAD_MODEL_URI'})
    await expect(store.add({source: 'hf:user/repo'})).rejects.toMatchObject({code: 'BAD_MODEL_URI'})
    expect(snapshot()).toEqual(before)
  })

  it('resolves sha256 prefixes only when unique and long enough', async () => {
    const a = await store.add({source: tiny})
    expect(await store.find(a.model.sha256.slice(0, 7))).toBeUndefined() // too short
    expect(await store.find('zzzzzzzz')).toBeUndefined()
    expect((await store.locate('tiny-v4')).path).toBe(a.model.path)
    expect((await store.locate(tiny)).sha256).toBe(tinySha)
  })

  it('derives default names from file names', () => {
    expect(defaultModelName('Llama-3.2-1B-Instruct-Q4_K_M.gguf')).toBe('Llama-3.2-1B-Instruct-Q4_K_M')
    expect(defaultModelName('my model (v2).GGUF')).toBe('my-model-v2-')
    expect(defaultModelName('.gguf')).toBe('model')
  })
})
