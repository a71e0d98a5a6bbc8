import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startAnvil, stopProcess, type AnvilProcess} from '../../src/devnet/anvil.js'
import {createHome, freePort, type OgpuHome} from '../helpers/cli.js'

// anvil's account #0 on a plain anvil chain (not an ogpu devnet): a "real chain" stand-in.
const DEPLOYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const PASSWORD = 'deployer-password'

describe('ogpu deploy and ogpu network', () => {
  let home: OgpuHome
  let chain: AnvilProcess

  beforeAll(async () => {
    home = createHome()
    chain = await startAnvil({port: await freePort(), blockTime: 0, chainId: 4242, logFile: join(home.dir, 'anvil.log')})
    const keyFile = join(home.dir, 'key.txt')
    writeFileSync(keyFile, DEPLOYER_KEY)
    const imported = await home.run(['wallet', 'import', 'deployer', '--private-key-file', keyFile], {env: {OGPU_PASSWORD: PASSWORD}})
    expect(imported.code).toBe(0)
  })
  afterAll(async () => {
    await stopProcess(chain.pid)
    home.dispose()
  })

  it('deploys to any EVM chain given its RPC URL and writes a network file', async () => {
    const {code, data} = await home.json(['deploy', '--rpc', chain.rpcUrl, '--name', 'testchain', '--unbonding-period', '600'], {env: {OGPU_PASSWORD: PASSWORD}})
    expect(code).toBe(0)
    expect(data).toMatchObject({name: 'testchain', chainId: 4242, rpcUrl: chain.rpcUrl, admin: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'})
    expect(data.contracts.registry).toMatch(/^0x[0-9a-fA-F]{40}$/)

    const again = await home.json(['deploy', '--rpc', chain.rpcUrl, '--name', 'testchain'], {env: {OGPU_PASSWORD: PASSWORD}})
    expect(again.code).toBe(2)
    expect(again.data.error.code).toBe('NETWORK_EXISTS')
  })

  it('switches networks with use, and every command takes --network', async () => {
    const used = await home.json(['network', 'use', 'testchain'])
    expect(used.code).toBe(0)
    const listed = await home.json(['network', 'list'])
    expect(listed.data.active).toBe('testchain')
    const shown = await home.json(['wallet', 'show', 'deployer'])
    expect(shown.code).toBe(0)
    expect(shown.data.network).toBe('testchain')
    expect(shown.data.ogpu.value).toBe('0')
    const missing = await home.json(['network', 'use', 'nowhere'])
    expect(missing.code).toBe(2)
    expect(missing.data.error.code).toBe('NETWORK_NOT_FOUND')
  })

  it('adds a network deployed by someone else, reading the registry and token from the market', async () => {
    const deployed = (await home.json(['network', 'list'])).data.networks.find((n: any) => n.name === 'testchain')
    const added = await home.json(['network', 'add', 'mirror', '--rpc', chain.rpcUrl, '--market', deployed.contracts.taskMarket, '--stream-market', deployed.contracts.streamMarket])
    expect(added.code).toBe(0)
    expect(added.data.contracts).toEqual(deployed.contracts)
    const batchOnly = await home.json(['network', 'add', 'batchonly', '--rpc', chain.rpcUrl, '--market', deployed.contracts.taskMarket])
    expect(batchOnly.code).toBe(0)
    const {streamMarket, ...batchContracts} = deployed.contracts
    expect(streamMarket).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(batchOnly.data.contracts).toEqual(batchContracts)
    const noStreams = await home.json(['stream', 'list', '--network', 'batchonly'])
    expect(noStreams.code).toBe(2)
    expect(noStreams.data.error.code).toBe('NO_STREAM_MARKET')
    const status = await home.json(['stake', 'status', '--wallet', 'deployer', '--network', 'mirror'])
    expect(status.code).toBe(0)

    const notRegistry = await home.json(['network', 'add', 'bogus', '--rpc', chain.rpcUrl, '--market', '0x000000000000000000000000000000000000dEaD'])
    expect(notRegistry.code).toBe(2)
    expect(notRegistry.data.error.code).toBe('CONTRACTS_NOT_FOUND')
  })

  it('refuses faucet funding off the devnet', async () => {
    const {code, data} = await home.json(['wallet', 'fund', 'deployer', '--network', 'testchain'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('NOT_A_DEVNET')
  })

  it('uses --rpc over the file, and checks the chain id', async () => {
    const other = await startAnvil({port: await freePort(), blockTime: 0, chainId: 777, logFile: join(home.dir, 'anvil2.log')})
    try {
      const {code, data} = await home.json(['stake', 'status', '--wallet', 'deployer', '--network', 'testchain', '--rpc', other.rpcUrl])
      expect(code).toBe(2)
      expect(data.error.code).toBe('CHAIN_MISMATCH')
    } finally {
      await stopProcess(other.pid)
    }
  })
})
