import {describe, expect, it} from 'vitest'

import {ReleaseGate, requiredApprovals, responseMethodOf} from '../../../src/gateway/release.js'

describe('requiredApprovals', () => {
  it('optimistic needs only the generator, unanimous all c, weighted ceil(w·c)', () => {
    expect(requiredApprovals('optimistic', 3, 0)).toBe(1)
    expect(requiredApprovals('unanimous', 3, 0)).toBe(3)
    expect(requiredApprovals('weighted', 3, 5000)).toBe(2) // ceil(1.5)
    expect(requiredApprovals('weighted', 3, 6667)).toBe(3) // ceil(2.0001)
    expect(requiredApprovals('weighted', 3, 6666)).toBe(2) // ceil(1.9998)
    expect(requiredApprovals('weighted', 4, 5000)).toBe(2) // exactly 2
    expect(requiredApprovals('weighted', 5, 1)).toBe(1)
    expect(requiredApprovals('weighted', 5, 10_000)).toBe(5)
  })

  it('refuses bad terms', () => {
    expect(() => requiredApprovals('weighted', 3, 0)).toThrow(/Weight/)
    expect(() => requiredApprovals('unanimous', 0, 0)).toThrow(/Council size/)
    expect(() => responseMethodOf(3)).toThrow(/Unknown response method/)
    expect(responseMethodOf(2n)).toBe('unanimous')
  })
})

describe('ReleaseGate', () => {
  it('optimistic releases at once', () => {
    expect(new ReleaseGate('optimistic', 3, 0).decision()).toBe('release')
  })

  it('weighted 2 of 3 releases at the first approval, and a rejection does not block it', () => {
    const gate = new ReleaseGate('weighted', 3, 5000)
    expect(gate.decision()).toBe('wait')
    expect(gate.reject()).toBe('wait')
    expect(gate.approve()).toBe('release')
    expect(gate.settled).toBe(true)
  })

  it('weighted fails once the approvals are out of reach', () => {
    const gate = new ReleaseGate('weighted', 3, 5000)
    expect(gate.reject()).toBe('wait')
    expect(gate.abstain()).toBe('fail')
  })

  it('unanimous waits for all c and fails at the first rejection', () => {
    const gate = new ReleaseGate('unanimous', 3, 0)
    expect(gate.approve()).toBe('wait')
    expect(gate.approve()).toBe('release')
    const other = new ReleaseGate('unanimous', 3, 0)
    expect(other.approve()).toBe('wait')
    expect(other.reject()).toBe('fail')
    const silent = new ReleaseGate('unanimous', 3, 0)
    expect(silent.abstain()).toBe('fail')
  })

  it('a council of one releases on the receipt alone whatever the method', () => {
    expect(new ReleaseGate('unanimous', 1, 0).decision()).toBe('release')
    expect(new ReleaseGate('weighted', 1, 10_000).decision()).toBe('release')
  })
})
