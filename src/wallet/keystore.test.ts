import {Wallet, encryptKeystoreJson} from 'ethers'
import {describe, expect, it} from 'vitest'

import {UserError} from '../errors/index.js'
import {decryptKeystore, encryptKeystore} from './keystore.js'

const key = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

describe('keystore', () => {
  it('round-trips a key with the password', async () => {
    const ks = await encryptKeystore(key, 'correct horse', {scryptN: 1024})
    expect(ks.version).toBe(3)
    expect(ks.crypto.kdf).toBe('scrypt')
    expect(JSON.stringify(ks)).not.toContain(key.slice(2))
    expect(await decryptKeystore(ks, 'correct horse')).toBe(key)
  })

  it('writes keystores that ethers (and so geth/MetaMask tooling) can open', async () => {
    const ks = await encryptKeystore(key, 'correct horse', {scryptN: 1024})
    const wallet = await Wallet.fromEncryptedJson(JSON.stringify(ks), 'correct horse')
    expect(wallet.privateKey).toBe(key)
  })

  it('opens keystores written by ethers', async () => {
    const json = await encryptKeystoreJson({address: new Wallet(key).address, privateKey: key}, 'pw-from-ethers', {scrypt: {N: 1024}})
    expect(await decryptKeystore(JSON.parse(json), 'pw-from-ethers')).toBe(key)
  })

  it('refuses a wrong password with a user error', async () => {
    const ks = await encryptKeystore(key, 'correct horse', {scryptN: 1024})
    await expect(decryptKeystore(ks, 'wrong horse', 'wallet "a"')).rejects.toThrow(UserError)
    await expect(decryptKeystore(ks, 'wrong horse', 'wallet "a"')).rejects.toThrow('Wrong password for wallet "a"')
  })
})
