import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {Wallet} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createHome, type OgpuHome, startDevnet, stopDevnet} from '../helpers/cli.js'

const PASSWORD = 'sup3r-secret-pw'
const KEY = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'

describe('ogpu wallet', () => {
  let home: OgpuHome
  const withPw = {env: {OGPU_PASSWORD: PASSWORD}}

  beforeAll(() => {
    home = createHome()
  })
  afterAll(() => home.dispose())

  it('creates an encrypted keystore with mode 0600 and makes the first wallet active', async () => {
    const {code, data} = await home.json(['wallet', 'create', 'alice'], withPw)
    expect(code).toBe(0)
    expect(data.name).toBe('alice')
    expect(data.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(data.active).toBe(true)
    expect(statSync(data.file).mode & 0o777).toBe(0o600)
    const keystore = JSON.parse(readFileSync(data.file, 'utf8'))
    expect(keystore.crypto.kdf).toBe('scrypt')
    // The keystore opens with the password in ethers too (standard Web3 keystore).
    const wallet = await Wallet.fromEncryptedJson(readFileSync(data.file, 'utf8'), PASSWORD)
    expect(wallet.address).toBe(data.address)
  })

  it('never prints the private key except on export', async () => {
    const created = await home.run(['wallet', 'create', 'bob'], withPw)
    expect(created.code).toBe(0)
    const listed = await home.json(['wallet', 'list'])
    const bob = listed.data.wallets.find((w: any) => w.name === 'bob')
    expect(bob.active).toBe(false)
    const exported = await home.json(['wallet', 'export', 'bob'], withPw)
    expect(exported.code).toBe(0)
    const key: string = exported.data.privateKey
    expect(new Wallet(key).address).toBe(bob.address)
    for (const out of [created.stdout, created.stderr, listed.stdout, listed.stderr]) expect(out).not.toContain(key.slice(2))
  })

  it('reads the password from --password-file', async () => {
    const file = join(home.dir, 'pw.txt')
    writeFileSync(file, `${PASSWORD}\n`)
    const {code, data} = await home.json(['wallet', 'create', 'carol', '--password-file', file])
    expect(code).toBe(0)
    const exported = await home.json(['wallet', 'export', 'carol', '--password-file', file])
    expect(new Wallet(exported.data.privateKey).address).toBe(data.address)
  })

  it('refuses a wrong password, exit 2, and changes nothing', async () => {
    const {code, data} = await home.json(['wallet', 'export', 'alice'], {env: {OGPU_PASSWORD: 'not-the-password'}})
    expect(code).toBe(2)
    expect(data.error.code).toBe('WRONG_PASSWORD')
    expect(data.error.message).toMatch(/Wrong password for wallet "alice"/)
  })

  it('refuses an unknown wallet and names the known ones', async () => {
    const {code, data} = await home.json(['wallet', 'use', 'mallory'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('WALLET_NOT_FOUND')
    expect(data.error.hint).toMatch(/alice/)
  })

  it('refuses to overwrite an existing wallet, before asking for a password', async () => {
    const before = readFileSync(join(home.env.OGPU_CONFIG_DIR!, 'keystores', 'alice.json'), 'utf8')
    const {code, data} = await home.json(['wallet', 'create', 'alice'])
    expect(code).toBe(2)
    expect(data.error.code).toBe('WALLET_EXISTS')
    expect(readFileSync(join(home.env.OGPU_CONFIG_DIR!, 'keystores', 'alice.json'), 'utf8')).toBe(before)
  })

  it('refuses a short password and a bad name', async () => {
    const short = await home.json(['wallet', 'create', 'dave'], {env: {OGPU_PASSWORD: 'short'}})
    expect(short.code).toBe(2)
    expect(short.data.error.code).toBe('WEAK_PASSWORD')
    const badName = await home.json(['wallet', 'create', '../etc/passwd'], withPw)
    expect(badName.code).toBe(2)
    expect(badName.data.error.code).toBe('INVALID_NAME')
    const listed = await home.json(['wallet', 'list'])
    expect(listed.data.wallets.map((w: any) => w.name)).not.toContain('dave')
  })

  it('asks for a password it cannot prompt for with a clear error', async () => {
    const {code, stderr} = await home.run(['wallet', 'create', 'erin'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/OGPU_PASSWORD/)
  })

  it('imports a private key, a mnemonic and a keystore', async () => {
    const keyFile = join(home.dir, 'key.txt')
    writeFileSync(keyFile, `${KEY}\n`)
    const byKey = await home.json(['wallet', 'import', 'imported-key', '--private-key-file', keyFile], withPw)
    expect(byKey.code).toBe(0)
    expect(byKey.data.address).toBe(new Wallet(KEY).address)

    const words = 'test test test test test test test test test test test junk'
    const wordsFile = join(home.dir, 'words.txt')
    writeFileSync(wordsFile, words)
    const byWords = await home.json(['wallet', 'import', 'imported-words', '--mnemonic-file', wordsFile, '--path', "m/44'/60'/0'/0/3"], withPw)
    expect(byWords.data.address).toBe('0x90F79bf6EB2c4f870365E785982E1f101E93b906')

    const ksFile = join(home.dir, 'ks.json')
    const ethersKs = await new Wallet('0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6').encrypt('old-password-1')
    writeFileSync(ksFile, ethersKs)
    const oldPw = join(home.dir, 'old.txt')
    writeFileSync(oldPw, 'old-password-1')
    const byKs = await home.json(['wallet', 'import', 'imported-ks', '--keystore', ksFile, '--keystore-password-file', oldPw], withPw)
    expect(byKs.code).toBe(0)
    expect(byKs.data.address).toBe('0x90F79bf6EB2c4f870365E785982E1f101E93b906')
  })

  it('refuses a malformed private key and names the problem', async () => {
    const keyFile = join(home.dir, 'bad.txt')
    writeFileSync(keyFile, 'nothex')
    const {code, data} = await home.json(['wallet', 'import', 'bad', '--private-key-file', keyFile], withPw)
    expect(code).toBe(2)
    expect(data.error.code).toBe('INVALID_PRIVATE_KEY')
  })

  describe('on the devnet', () => {
    beforeAll(async () => {
      await startDevnet(home)
    })
    afterAll(async () => {
      await stopDevnet(home)
    })

    it('shows balances and stake; funds on the devnet', async () => {
      const before = await home.json(['wallet', 'show', 'alice'])
      expect(before.code).toBe(0)
      expect(before.data.eth.value).toBe('0')
      expect(before.data.ogpu.value).toBe('0')
      const funded = await home.json(['wallet', 'fund', 'alice', '--eth', '2.5', '--ogpu', '1234.5'])
      expect(funded.code).toBe(0)
      const after = await home.json(['wallet', 'show', 'alice'])
      expect(after.data.eth.value).toBe('2.5')
      expect(after.data.ogpu.value).toBe('1234.5')
      expect(after.data.stake.staked.value).toBe('0')
    })

    it('lists the dev wallets dev0..dev9 with anvil\'s public accounts', async () => {
      const {data} = await home.json(['wallet', 'list'])
      const dev = data.wallets.filter((w: any) => w.dev)
      expect(dev.map((w: any) => w.name)).toEqual(['dev0', 'dev1', 'dev2', 'dev3', 'dev4', 'dev5', 'dev6', 'dev7', 'dev8', 'dev9'])
      expect(dev[0].address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
      const shown = await home.json(['wallet', 'show', 'dev3'])
      expect(shown.data.ogpu.value).toBe('100000')
    })
  })
})
