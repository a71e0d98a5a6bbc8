import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createHome, type OgpuHome, startDevnet, stopDevnet, waitFor} from '../helpers/cli.js'

describe('ogpu stake and provider on the devnet', () => {
  let home: OgpuHome
  let devnet: any

  beforeAll(async () => {
    home = createHome()
    // A short unbonding period so the test can claim without waiting minutes.
    devnet = await startDevnet(home, ['--unbonding-period', '3'])
  })
  afterAll(async () => {
    await stopDevnet(home)
    home.dispose()
  })

  it('deposits with a permit in one transaction', async () => {
    const {code, data} = await home.json(['stake', 'deposit', '1000', '--wallet', 'dev1'])
    expect(code).toBe(0)
    expect(data.method).toBe('permit')
    expect(data.txHashes).toHaveLength(1)
    expect(data.stake.staked.value).toBe('1000')
    expect(data.stake.free.value).toBe('1000')
    const shown = await home.json(['wallet', 'show', 'dev1'])
    expect(shown.data.ogpu.value).toBe('99000')
  })

  it.each([
    ['1,5', 'comma'],
    ['-3', 'negative'],
    ['abc', 'not a number'],
  ])('refuses the amount %j and moves nothing', async (amount, message) => {
    const {code, data} = await home.json(['stake', 'deposit', amount, '--wallet', 'dev1'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('INVALID_AMOUNT')
    expect(data.error.message).toContain(message)
    const status = await home.json(['stake', 'status', '--wallet', 'dev1'])
    expect(status.data.stake.staked.value).toBe('1000')
  })

  it('refuses to stake more than the balance', async () => {
    const {code, data} = await home.json(['stake', 'deposit', '100000', '--wallet', 'dev1'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('INSUFFICIENT_BALANCE')
    expect(data.error.message).toContain('99000')
  })

  it('refuses to unstake more than the free stake', async () => {
    const {code, data} = await home.json(['stake', 'withdraw', '1000.5', '--wallet', 'dev1'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('INSUFFICIENT_FREE_STAKE')
    expect(data.error.message).toContain('only 1000 oGPU is free')
  })

  it('refuses to claim when nothing unbonds', async () => {
    const {code, data} = await home.json(['stake', 'claim', '--wallet', 'dev1'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('NOTHING_TO_CLAIM')
  })

  it('unbonds, refuses an early claim, then claims after the period', async () => {
    const withdrawn = await home.json(['stake', 'withdraw', '400', '--wallet', 'dev1'])
    expect(withdrawn.code).toBe(0)
    expect(withdrawn.data.stake.staked.value).toBe('600')
    expect(withdrawn.data.stake.unbonding.value).toBe('400')
    expect(withdrawn.data.stake.unbondingEnd).toMatch(/^\d{4}-/)

    const early = await home.json(['stake', 'claim', '--wallet', 'dev1'])
    expect(early.code).toBe(2)
    expect(early.data.error.code).toBe('UNBONDING_NOT_OVER')
    expect(early.data.error.message).toContain(withdrawn.data.stake.unbondingEnd)

    // Automine: the chain's clock moves with blocks. Mine by sending a funding tx until the period is over.
    await waitFor(async () => {
      const status = await home.json(['wallet', 'fund', 'dev9', '--eth', '0.001', '--ogpu', '0'])
      expect(status.code).toBe(0)
      const s = await home.json(['stake', 'status', '--wallet', 'dev1'])
      return s.data.stake.claimable
    }, 'the unbonding period to end', 30_000)

    const claimed = await home.json(['stake', 'claim', '--wallet', 'dev1'])
    expect(claimed.code).toBe(0)
    expect(claimed.data.claimed).toBe('400')
    expect(claimed.data.stake.unbonding.value).toBe('0')
    const again = await home.json(['stake', 'claim', '--wallet', 'dev1'])
    expect(again.data.error.code).toBe('NOTHING_TO_CLAIM')
    const shown = await home.json(['wallet', 'show', 'dev1'])
    expect(shown.data.ogpu.value).toBe('99400')
  })

  it('registers a provider, shows it, and updates the endpoint', async () => {
    const before = await home.json(['provider', 'status', '--wallet', 'dev2'])
    expect(before.data.registered).toBe(false)
    const registered = await home.json(['provider', 'register', '--endpoint', 'http://127.0.0.1:7070', '--wallet', 'dev2'])
    expect(registered.code).toBe(0)
    expect(registered.data.action).toBe('registered')
    expect(registered.data.infoHash).toMatch(/^0x[0-9a-f]{64}$/)
    const status = await home.json(['provider', 'status', '--wallet', 'dev2'])
    expect(status.data).toMatchObject({registered: true, endpoint: 'http://127.0.0.1:7070'})
    const updated = await home.json(['provider', 'register', '--endpoint', 'https://gpu.example.com', '--wallet', 'dev2'])
    expect(updated.data.action).toBe('updated')
    expect(updated.data.endpoint).toBe('https://gpu.example.com')
  })

  it('refuses a malformed endpoint', async () => {
    const {code, data} = await home.json(['provider', 'register', '--endpoint', 'not a url', '--wallet', 'dev3'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('INVALID_ENDPOINT')
  })

  it('says when the RPC is unreachable, with the URL, exit 3', async () => {
    const {code, data} = await home.json(['stake', 'status', '--wallet', 'dev1', '--rpc', 'http://127.0.0.1:1'])
    expect(code).toBe(3)
    expect(data.error.code).toBe('RPC_UNREACHABLE')
    expect(data.error.message).toContain('http://127.0.0.1:1')
  })

  it('tells the user how to get a network file when it is missing', async () => {
    const {code, data} = await home.json(['stake', 'status', '--wallet', 'dev1', '--network', 'nowhere'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('NETWORK_NOT_FOUND')
    expect(data.error.hint).toMatch(/ogpu deploy/)
    const fresh = createHome()
    try {
      await fresh.run(['wallet', 'create', 'x'], {env: {OGPU_PASSWORD: 'password123'}})
      const missing = await fresh.json(['wallet', 'show'])
      expect(missing.code).toBe(2)
      expect(missing.data.error.hint).toMatch(/ogpu devnet start/)
    } finally {
      fresh.dispose()
    }
  })

  it('decodes contract reverts by name into a sentence with advice', async () => {
    // Go around the CLI's own pre-checks and let the contract refuse, as it would in a race.
    const {JsonRpcProvider, Wallet} = await import('ethers')
    const {registryAt} = await import('../../src/chain/contracts/registry.js')
    const {fromChainError} = await import('../../src/chain/errors.js')
    const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, {staticNetwork: true})
    const dev5 = new Wallet('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba', provider)
    const registry = registryAt(devnet.contracts.registry, dev5)
    try {
      let caught: unknown
      await registry.requestUnstake(10n ** 18n).catch((error: unknown) => (caught = error))
      const converted = fromChainError(caught)
      expect(converted?.exitCode).toBe(2)
      expect(converted?.code).toBe('REVERT_ProviderRegistryInsufficientFreeStake')
      expect(converted?.message).toBe(`Not enough free stake: ${dev5.address} asked for 1 oGPU but only 0 oGPU is free (the rest is locked as collateral or unbonding).`)
      expect(converted?.hint).toMatch(/ogpu stake deposit/)
    } finally {
      provider.destroy()
    }
  })
})
