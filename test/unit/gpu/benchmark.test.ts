import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {afterAll, describe, expect, it} from 'vitest'

import {listBenchmarks, loadBenchmark, runBenchmark, saveBenchmark} from '../../../src/gpu/benchmark.js'
import {ensureModel} from '../../fixtures/gguf-writer.js'
import {tempDir} from './helpers.js'

describe('provider benchmark', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('measures prompt processing, generation, concurrent generation and verification, and stores the result by sha256 + backend', async () => {
    const modelPath = ensureModel('tiny')
    const sha256 = createHash('sha256').update(readFileSync(modelPath)).digest('hex')
    const phases: string[] = []
    const result = await runBenchmark({modelPath, sha256, gpu: 'cpu', threads: 1, promptTokens: 64, generateTokens: 16, streams: [2], onPhase: (p) => phases.push(p)})
    expect(phases).toEqual(['load', 'prompt', 'generate', 'concurrent', 'verify'])
    expect(result).toMatchObject({version: 1, sha256, backend: 'cpu', threads: 1, model: {architecture: 'llama', fileType: 'F32'}})
    expect(result.promptProcessing.tokens).toBe(64)
    expect(result.promptProcessing.tokensPerSecond).toBeGreaterThan(0)
    expect(result.generation.tokens).toBeGreaterThanOrEqual(15)
    expect(result.generation.tokensPerSecond).toBeGreaterThan(0)
    expect(result.concurrent).toEqual([expect.objectContaining({streams: 2})])
    expect(result.verification).toMatchObject({accepted: true})
    expect(result.verification.tokensPerSecond).toBeGreaterThan(0)
    expect(result.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024)

    expect(await loadBenchmark(tmp.dir, {sha256, backend: 'cpu'})).toBeUndefined()
    const file = await saveBenchmark(tmp.dir, result)
    expect(file).toContain(`${sha256}-cpu.json`)
    expect(await loadBenchmark(tmp.dir, {sha256: sha256.toUpperCase(), backend: 'cpu'})).toEqual(result)
    expect(await loadBenchmark(tmp.dir, {sha256, backend: 'cuda'})).toBeUndefined()
    expect(await listBenchmarks(tmp.dir)).toEqual([result])
  }, 60_000)
})
