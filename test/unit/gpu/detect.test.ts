import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {UserError} from '../../../src/errors/index.js'
import {detectGpu, parseNvidiaSmi, queryNvidiaSmi, type GpuReport} from '../../../src/gpu/detect.js'
import {parseGpuChoice} from '../../../src/gpu/llama.js'
import {tempDir} from './helpers.js'

const SMI_CSV = '0, NVIDIA GeForce RTX 4090, 550.54.15, 24564, 1024, 37, 45\n1, NVIDIA A100-SXM4-80GB, 550.54.15, 81920, 0, 0, 30\n'
const SMI_BANNER = '| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |\n'

// Detected while the file is collected, so that a test can be skipped (and reported as skipped) on what it finds.
const report: GpuReport = await detectGpu()
/** A backend this machine lacks (none where every backend works). */
const missing = report.backends.find((b) => !b.available)

describe('GPU detection', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeAll(() => {
    tmp = tempDir()
  })
  afterAll(() => tmp.cleanup())

  it('lists every backend with its availability and selects an available one', () => {
    expect(report.backends.map((b) => b.backend)).toEqual(['cuda', 'vulkan', 'metal', 'cpu'])
    expect(report.backends.find((b) => b.backend === 'cpu')).toEqual({backend: 'cpu', available: true})
    for (const b of report.backends.filter((x) => !x.available)) expect(b.reason).toBeTruthy()
    expect(report.backends.find((b) => b.backend === report.selected)?.available).toBe(true)
    expect(report.cpu.cores).toBeGreaterThan(0)
    expect(report.cpu.mathCores).toBeGreaterThan(0)
    expect(report.ram.totalBytes).toBeGreaterThan(report.ram.freeBytes)
    expect(report.llamaCpp.release).toMatch(/\w/)
    if (report.selected === 'cpu') expect(report.vram).toBeUndefined()
  })

  it('uses a forced backend', async () => {
    expect((await detectGpu({gpu: 'cpu'})).selected).toBe('cpu')
  }, 60_000)

  it.skipIf(!missing)('refuses an unavailable backend with a UserError and a hint (skipped where every backend works)', async () => {
    const err = await detectGpu({gpu: missing!.backend}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect(err).toMatchObject({code: 'GPU_NOT_AVAILABLE', details: {backend: missing!.backend}})
    expect((err as UserError).hint).toContain('cpu')
  }, 60_000)

  it('parses the backend flag', () => {
    expect(parseGpuChoice('cuda')).toBe('cuda')
    expect(() => parseGpuChoice('tpu')).toThrow(UserError)
  })

  it('reads nvidia-smi when present and skips it cleanly when absent', async () => {
    expect(await queryNvidiaSmi({path: join(tmp.dir, 'no-such-nvidia-smi')})).toBeUndefined()
    const fake = join(tmp.dir, 'nvidia-smi')
    writeFileSync(fake, `#!/bin/sh\nif [ -n "$1" ]; then printf '${SMI_CSV.replaceAll('\n', '\\n')}'; else printf '${SMI_BANNER.replaceAll('\n', '\\n')}'; fi\n`)
    chmodSync(fake, 0o755)
    const info = await queryNvidiaSmi({path: fake})
    expect(info).toEqual(parseNvidiaSmi(SMI_CSV, SMI_BANNER))
    expect(info).toEqual({
      driverVersion: '550.54.15',
      cudaVersion: '12.4',
      gpus: [
        {index: 0, name: 'NVIDIA GeForce RTX 4090', memoryTotalBytes: 24564 * 1048576, memoryUsedBytes: 1024 * 1048576, utilizationPercent: 37, temperatureC: 45},
        {index: 1, name: 'NVIDIA A100-SXM4-80GB', memoryTotalBytes: 81920 * 1048576, memoryUsedBytes: 0, utilizationPercent: 0, temperatureC: 30},
      ],
    })
    expect(parseNvidiaSmi('', '')).toBeUndefined()
  })
})
