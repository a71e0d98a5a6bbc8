import {describe, expect, it} from 'vitest'

import {waitFor} from '../../helpers/cli.js'
import {Daemon} from '../../helpers/daemon.js'

// The e2e daemon harness against tiny node programs standing in for a daemon.
const home = {env: process.env}
const program = (source: string) => new Daemon(home, 'fake', 'fake', ['-e', source])
const READY = JSON.stringify({event: 'ready', address: '0xabc', url: 'http://127.0.0.1:1', localUrl: 'http://127.0.0.1:1', port: 1, pid: 1, network: {name: 'devnet', chainId: 1}, strategy: 'cost-plus', models: []})

describe('Daemon (the e2e harness)', () => {
  it('resolves on the ready line, not on log lines (JSON logs with a level, text, partial writes)', async () => {
    const daemon = program(`
      console.log('2025-01-01T00:00:00.000Z INFO  start  Provider serving at http://127.0.0.1:9')
      console.log(JSON.stringify({time: 'now', level: 'info', event: 'ready', msg: 'a log line', localUrl: 'http://127.0.0.1:9'}))
      const line = ${JSON.stringify(READY)} + '\\n'
      process.stdout.write(line.slice(0, 10), () => setTimeout(() => process.stdout.write(line.slice(10)), 20))
      process.on('SIGTERM', () => { console.error(JSON.stringify({level: 'info', event: 'stop', msg: 'Stopped'})); process.exit(0) })
      setInterval(() => {}, 1000)`)
    await daemon.ready({readyTimeoutMs: 10_000})
    expect(daemon.localUrl).toBe('http://127.0.0.1:1')
    expect(daemon.address).toBe('0xabc')
    expect(daemon.info).toEqual(JSON.parse(READY))
    expect(await daemon.stop()).toBe(0)
    expect(daemon.logs().map((l) => l.event)).toEqual(['ready', 'stop']) // the log lines; the ready line is not one
  })

  it('rejects with the captured output when the process exits before it is ready', async () => {
    const daemon = program(`console.error('Error: is not registered as a provider'); process.exit(2)`)
    await expect(daemon.ready({readyTimeoutMs: 10_000})).rejects.toThrow(/fake daemon exited \(2\) before it was ready:\nError: is not registered as a provider/)
    expect(await daemon.exit).toBe(2)
  })

  it('rejects on the timeout with the output so far; dispose() kills a process that ignores SIGTERM', async () => {
    const daemon = program(`process.on('SIGTERM', () => {}); console.log('loading'); setInterval(() => {}, 1000)`)
    await waitFor(() => daemon.output.includes('loading'), 'the program to start')
    await expect(daemon.ready({readyTimeoutMs: 300})).rejects.toThrow(/Timed out after 300 ms waiting for fake daemon to be ready:\nloading/)
    expect(await daemon.dispose(200)).toBe(-1)
    expect(() => daemon.localUrl).toThrow(/not ready/)
  })
})
