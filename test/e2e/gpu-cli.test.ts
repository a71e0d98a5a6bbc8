import {createHash} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ensureModel} from '../fixtures/gguf-writer.js'
import {createHome, type OgpuHome, repoRoot} from '../helpers/cli.js'

// Runs the real binary on dist/ (`npm run build` first).
describe('ogpu model and ogpu provider gpu|benchmark (real binary)', () => {
  let home: OgpuHome
  const tiny = ensureModel('tiny')
  const sha = createHash('sha256').update(readFileSync(tiny)).digest('hex')

  beforeAll(() => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8'))
    if (!existsSync(join(repoRoot, 'dist/commands/model/add.js')) || !manifest.commands['model:add'])
      throw new Error('dist/ or oclif.manifest.json is stale: run `npm run build` first')
    home = createHome('ogpu-gpu-e2e-')
  })
  afterAll(() => home?.dispose())

  it('adds, lists, inspects and removes a model with --json', async () => {
    const added = await home.json(['model', 'add', tiny, '--name', 'tiny'])
    expect(added.code).toBe(0)
    expect(added.data).toMatchObject({alreadyPresent: false, downloaded: false, model: {name: 'tiny', sha256: sha, architecture: 'llama', fileType: 'F32'}})
    expect(added.data.model.path).toBe(join(home.dir, 'data', 'models', `${sha}.gguf`))

    const again = await home.json(['model', 'add', tiny])
    expect(again.data).toMatchObject({alreadyPresent: true, model: {name: 'tiny'}})

    const listed = await home.json(['model', 'list'])
    expect(listed.code).toBe(0)
    expect(listed.data.models).toEqual([added.data.model])

    const inspected = await home.json(['model', 'inspect', 'tiny'])
    expect(inspected.data).toMatchObject({
      sha256: sha,
      gguf: {architecture: 'llama', parameters: 147_776, fileType: 'F32', contextLength: 1024, layers: 2, embeddingSize: 64, vocabSize: 512},
    })
    const byPath = await home.json(['model', 'inspect', tiny])
    expect(byPath.data).toMatchObject({sha256: sha, path: tiny, model: {name: 'tiny'}})

    const human = await home.run(['model', 'list'])
    expect(human.stdout).toMatch(/^tiny\s+[0-9a-f]{12}\s+590 KiB\s+147\.8k\s+F32\s+llama\s+1024$/m)

    const removed = await home.json(['model', 'remove', sha.slice(0, 12)])
    expect(removed.data.removed).toMatchObject({name: 'tiny', sha256: sha})
    expect((await home.json(['model', 'list'])).data.models).toEqual([])
  })

  it('fails with exit 2 for bad input and exit 3 for an unreachable URL, as JSON errors', async () => {
    const notGguf = join(home.dir, 'not-a-model.gguf')
    writeFileSync(notGguf, 'hello\n')
    const cases: Array<[string[], number, string]> = [
      [['model', 'add', join(home.dir, 'missing.gguf')], 2, 'FILE_NOT_FOUND'],
      [['model', 'add', notGguf], 2, 'NOT_GGUF'],
      [['model', 'add', tiny, '--sha256', 'c'.repeat(64)], 2, 'HASH_MISMATCH'],
      [['model', 'add', 'hf:user/repo'], 2, 'BAD_MODEL_URI'],
      [['model', 'inspect', 'nothing-here'], 2, 'MODEL_NOT_FOUND'],
      [['model', 'remove', 'nothing-here'], 2, 'MODEL_NOT_FOUND'],
      [['model', 'add', 'https://models.example.invalid/model.gguf'], 3, 'DOWNLOAD_FAILED'],
    ]
    for (const [args, code, errorCode] of cases) {
      const result = await home.json(args)
      expect(result.code, args.join(' ')).toBe(code)
      expect(result.data.error, args.join(' ')).toMatchObject({code: errorCode})
      expect(result.data.error.hint, args.join(' ')).toBeTruthy()
    }
    const download = await home.json(['model', 'add', 'https://models.example.invalid/model.gguf'])
    expect(download.data.error.message).toContain('https://models.example.invalid/model.gguf')
    expect(download.data.error.details.url).toBe('https://models.example.invalid/model.gguf')
    expect((await home.json(['model', 'list'])).data.models).toEqual([])
  })

  it('shows the compute backends; a forced missing backend is exit 2', async () => {
    const report = await home.json(['provider', 'gpu'])
    expect(report.code).toBe(0)
    expect(report.data.backends.map((b: {backend: string}) => b.backend)).toEqual(['cuda', 'vulkan', 'metal', 'cpu'])
    expect(report.data.backends.find((b: {backend: string}) => b.backend === 'cpu').available).toBe(true)
    expect(report.data.cpu.cores).toBeGreaterThan(0)
    const human = await home.run(['provider', 'gpu', '--gpu', 'cpu'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^Selected:\s+cpu$/m)
    const missing = report.data.backends.find((b: {available: boolean}) => !b.available)
    if (missing) {
      const forced = await home.json(['provider', 'gpu', '--gpu', missing.backend])
      expect(forced.code).toBe(2)
      expect(forced.data.error).toMatchObject({code: 'GPU_NOT_AVAILABLE'})
    }
    const bad = await home.json(['provider', 'gpu', '--gpu', 'tpu'])
    expect(bad.code).toBe(2)
  })

  it('benchmarks a model and stores the result by sha256 and backend', async () => {
    const empty = await home.json(['provider', 'benchmark'])
    expect(empty.code).toBe(2)
    expect(empty.data.error.code).toBe('MODEL_REQUIRED')

    await home.json(['model', 'add', tiny, '--name', 'tiny'])
    const result = await home.json(['provider', 'benchmark', '--gpu', 'cpu', '--threads', '1', '--prompt-tokens', '64', '--tokens', '16', '--streams', '2'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.data).toMatchObject({sha256: sha, backend: 'cpu', threads: 1, verification: {accepted: true}})
    expect(result.data.promptProcessing.tokensPerSecond).toBeGreaterThan(0)
    expect(result.data.generation.tokensPerSecond).toBeGreaterThan(0)
    expect(result.data.file).toBe(join(home.dir, 'data', 'benchmarks', `${sha}-cpu.json`))
    const stored = JSON.parse(readFileSync(result.data.file, 'utf8'))
    const {file: _file, ...withoutFile} = result.data
    expect(stored).toEqual(withoutFile)

    const byPath = await home.json(['provider', 'benchmark', '--model', tiny, '--gpu', 'cpu', '--threads', '1', '--prompt-tokens', '16', '--tokens', '4', '--streams', '1'])
    expect(byPath.code).toBe(0)
    expect(byPath.data.concurrent).toEqual([])
  })
})
