import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {binary, createHome, freePort, type OgpuHome, waitFor} from '../helpers/cli.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('ogpu devnet', () => {
  let home: OgpuHome
  beforeAll(() => {
    home = createHome()
  })
  afterAll(async () => {
    await home.run(['devnet', 'stop'])
    home.dispose()
  })

  it('starts in the background, reports status, refuses a second start, and stops', async () => {
    const port = await freePort()
    const started = await home.json(['devnet', 'start', '--detach', '--port', String(port)])
    expect(started.code).toBe(0)
    const info = started.data
    expect(info.rpcUrl).toBe(`http://127.0.0.1:${port}`)
    expect(info.chainId).toBe(31337)
    expect(info.blockTime).toBe(1)
    expect(info.contracts.token).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(info.wallets).toHaveLength(10)
    expect(existsSync(info.networkFile)).toBe(true)

    const networks = await home.json(['network', 'list'])
    expect(networks.data.networks[0]).toMatchObject({name: 'devnet', chainId: 31337, devnet: true, active: true})

    const status = await home.json(['devnet', 'status'])
    expect(status.data.running).toBe(true)
    expect(status.data.record.pid).toBe(info.pid)
    // Interval mining (1 s blocks): the block number grows on its own.
    const first = status.data.blockNumber
    await waitFor(async () => (await home.json(['devnet', 'status'])).data.blockNumber > first, 'a new block', 10_000)

    const again = await home.json(['devnet', 'start', '--detach', '--port', String(port)])
    expect(again.code).toBe(2)
    expect(again.data.error.code).toBe('DEVNET_RUNNING')
    expect(again.data.error.message).toContain(String(info.pid))

    const stopped = await home.json(['devnet', 'stop'])
    expect(stopped.code).toBe(0)
    expect(alive(info.pid)).toBe(false)
    const after = await home.json(['devnet', 'status'])
    expect(after.data.running).toBe(false)
    const stopAgain = await home.json(['devnet', 'stop'])
    expect(stopAgain.code).toBe(2)
    expect(stopAgain.data.error.code).toBe('DEVNET_NOT_RUNNING')
  })

  it('refuses a port another program holds', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as {port: number}).port
    try {
      const {code, data} = await home.json(['devnet', 'start', '--detach', '--port', String(port)])
      expect(code).toBe(2)
      expect(data.error.code).toBe('PORT_IN_USE')
      expect(data.error.message).toContain(String(port))
    } finally {
      server.close()
    }
  })

  it('runs in the foreground until Ctrl-C and leaves no anvil behind', async () => {
    const port = await freePort()
    const child = spawn(process.execPath, [binary, 'devnet', 'start', '--port', String(port), '--json'], {env: home.env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    await waitFor(() => stdout.includes('Running. Press Ctrl-C') || stdout.trimEnd().endsWith('}'), 'the devnet to be ready', 60_000)
    const status = await home.json(['devnet', 'status'])
    expect(status.data.running).toBe(true)
    const anvilPid = status.data.record.pid
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(stderr).toContain('Devnet stopped.')
    expect(alive(anvilPid)).toBe(false)
    expect((await home.json(['devnet', 'status'])).data.running).toBe(false)
  })

  it('keeps the chain across restarts with --state', async () => {
    const port = await freePort()
    const state = join(home.dir, 'chain-state.json')
    const first = await home.json(['devnet', 'start', '--detach', '--port', String(port), '--block-time', '0', '--state', state])
    expect(first.code).toBe(0)
    expect(first.data.resumed).toBe(false)
    const deposit = await home.json(['stake', 'deposit', '42', '--wallet', 'dev4'])
    expect(deposit.code).toBe(0)
    expect((await home.json(['devnet', 'stop'])).code).toBe(0)
    expect(existsSync(state)).toBe(true)

    const second = await home.json(['devnet', 'start', '--detach', '--port', String(port), '--block-time', '0', '--state', state])
    expect(second.code).toBe(0)
    expect(second.data.resumed).toBe(true)
    expect(second.data.contracts).toEqual(first.data.contracts)
    const status = await home.json(['stake', 'status', '--wallet', 'dev4'])
    expect(status.data.stake.staked.value).toBe('42')
    expect((await home.json(['devnet', 'stop'])).code).toBe(0)
  })
})
