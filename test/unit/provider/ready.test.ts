import {describe, expect, it} from 'vitest'

import type {DaemonStatus, ProviderDaemonHandle} from '../../../src/provider/daemon.js'
import {formatReadyLine, readyLine} from '../../../src/provider/ready.js'

const handle = {
  address: '0x00000000000000000000000000000000000000aa',
  url: 'https://gpu1.example.com',
  localUrl: 'http://127.0.0.1:7070',
  port: 7070,
  status: () =>
    ({
      network: {name: 'devnet', chainId: 31_337},
      strategy: 'cost-plus',
      models: [{name: 'tiny', sha256: 'ab'.repeat(32), backend: 'cpu', contextSize: 512, sequences: 2, busy: 0, queued: 0, benchmark: {promptTokensPerSecond: 1, generateTokensPerSecond: 1}}],
    }) as unknown as DaemonStatus,
} as unknown as ProviderDaemonHandle

describe('the provider ready line', () => {
  it('names the daemon, where it serves and what it serves, with event "ready"', () => {
    expect(readyLine(handle)).toEqual({
      event: 'ready',
      address: handle.address,
      url: 'https://gpu1.example.com',
      localUrl: 'http://127.0.0.1:7070',
      port: 7070,
      pid: process.pid,
      network: {name: 'devnet', chainId: 31_337},
      strategy: 'cost-plus',
      models: [{name: 'tiny', sha256: 'ab'.repeat(32), backend: 'cpu'}],
    })
  })

  it('is printed as one compact JSON line', () => {
    const text = formatReadyLine(handle)
    expect(text.endsWith('\n')).toBe(true)
    expect(text.trimEnd()).not.toContain('\n')
    expect(JSON.parse(text)).toEqual(readyLine(handle))
  })
})
