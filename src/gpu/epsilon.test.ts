import {describe, expect, it} from 'vitest'

import {effectiveEpsilon, epsilonFloor, GREEDY_EPSILON} from './verifier.js'

describe('epsilon floor', () => {
  it('sampled output: keeps a tight tolerance for float models and a wider one for quantized models', () => {
    expect(epsilonFloor('F32')).toBe(0.05)
    expect(epsilonFloor('BF16')).toBe(0.05)
    expect(epsilonFloor('Q8_0')).toBe(0.5)
    expect(epsilonFloor('MOSTLY_Q4_K_M')).toBe(0.5)
  })

  it('never lowers what the task asks for', () => {
    expect(effectiveEpsilon(0.1, 'F32', 'sampled')).toBe(0.1)
    expect(effectiveEpsilon(0.1, 'Q8_0', 'sampled')).toBe(0.5)
    expect(effectiveEpsilon(1, 'Q8_0', 'sampled')).toBe(1)
    expect(effectiveEpsilon(0.1, 'Q8_0', 'greedy')).toBe(0.1)
  })

  it('greedy output (prefill-consistent): 0.01 whatever the quantization, and never less', () => {
    expect(GREEDY_EPSILON).toBe(0.01)
    expect(effectiveEpsilon(0.01, 'Q8_0', 'greedy')).toBe(0.01)
    expect(effectiveEpsilon(0.01, 'F32', 'greedy')).toBe(0.01)
    expect(effectiveEpsilon(0, 'Q8_0', 'greedy')).toBe(0.01)
  })
})
