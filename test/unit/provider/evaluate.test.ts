import {parseUnits} from 'ethers'
import {describe, expect, it} from 'vitest'

import type {BenchmarkResult} from '../../../src/gpu/index.js'
import {assessTask, costOf, estimateTask} from '../../../src/provider/evaluate.js'
import {parseTaskSpec} from '../../../src/protocol/task-spec.js'

const spec = (extra = '') =>
  parseTaskSpec(`version: 1
kind: batch
model: {name: m, sha256: ${'ab'.repeat(32)}}
data: {uri: ./d.jsonl}
instructions: {maxTokens: 100, checkpoints: 2, checkpointWindow: 60s${extra}}
payment: {maxPrice: "30"}
`).spec

const benchmark = {
  promptProcessing: {tokens: 256, ms: 100, tokensPerSecond: 1000},
  generation: {tokens: 100, ms: 1000, tokensPerSecond: 100},
  concurrent: [{streams: 4, tokens: 400, ms: 2000, tokensPerSecond: 200}],
} as unknown as BenchmarkResult

describe('task estimate and feasibility', () => {
  it('estimates seconds from the benchmark: prompts at prompt speed, the output budget at aggregate generation speed', () => {
    const estimate = estimateTask({spec: spec(), promptLengths: Array(10).fill(100), checkpoints: 2, benchmark, gpuSecondPrice: parseUnits('0.01', 18)})
    // 1000 prompt tokens / 1000 + 10 × 100 output tokens / 200 = 1 + 5 s; each segment half of it.
    expect(estimate).toMatchObject({promptTokens: 1000, outputTokens: 1000, seconds: 6, segmentSeconds: 3})
    expect(estimate.cost).toBe(parseUnits('0.06', 18))
    expect(costOf(1.5, 10n)).toBe(15n)
  })
  const base = {promptLengths: Array(10).fill(100), checkpoints: 2, checkpointWindow: 60, hardDeadline: 0, benchmark, gpuSecondPrice: 1n, contextSize: 1024, vramGiB: 0}
  it('is feasible when everything fits', () => {
    expect(assessTask({...base, spec: spec()})).toMatchObject({feasible: true})
  })
  it('refuses a prompt that does not fit the context with maxTokens', () => {
    expect(assessTask({...base, spec: spec(), promptLengths: [...base.promptLengths, 950]})).toMatchObject({feasible: false, reason: expect.stringMatching(/exceeds the context of 1024/)})
  })
  it('refuses a spec that asks for more context or VRAM than this provider has', () => {
    expect(assessTask({...base, spec: spec(', contextSize: 4096')}).reason).toMatch(/context of 4096/)
    expect(assessTask({...base, spec: spec(', minVramGiB: 8')}).reason).toMatch(/8 GiB of VRAM/)
  })
  it('refuses a deadline it cannot meet by its own benchmark (with a 1.5× margin)', () => {
    expect(assessTask({...base, spec: spec(), checkpointWindow: 6}).reason).toMatch(/window of 6 s is too short/)
    expect(assessTask({...base, spec: spec(), hardDeadline: 8}).reason).toMatch(/hard deadline is 8 s/)
  })
})
