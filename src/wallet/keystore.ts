import {createCipheriv, createDecipheriv, pbkdf2, randomBytes, randomUUID, scrypt, timingSafeEqual} from 'node:crypto'
import {promisify} from 'node:util'

import {computeAddress, getAddress, keccak256, toUtf8Bytes} from 'ethers'

import {UserError} from '../errors/index.js'

const scryptAsync = promisify(scrypt) as (pw: Uint8Array, salt: Uint8Array, len: number, opts: object) => Promise<Buffer>
const pbkdf2Async = promisify(pbkdf2)

/** A Web3 Secret Storage (v3) keystore, as written by geth, ethers and MetaMask. */
export interface KeystoreV3 {
  version: 3
  id: string
  address: string
  crypto: {
    cipher: 'aes-128-ctr'
    cipherparams: {iv: string}
    ciphertext: string
    kdf: 'scrypt' | 'pbkdf2'
    kdfparams: {dklen: number; salt: string; n?: number; r?: number; p?: number; c?: number; prf?: string}
    mac: string
  }
  /** ogpu's own metadata; other tools ignore it. */
  'x-ogpu'?: {name: string; createdAt: string; dev?: boolean}
}

export interface EncryptOptions {
  /** scrypt cost parameter N (a power of two). Defaults to 131072, geth's "standard" strength. */
  scryptN?: number
}

const passwordBytes = (password: string): Buffer => Buffer.from(toUtf8Bytes(password.normalize('NFKC')))

async function deriveKey(password: string, params: KeystoreV3['crypto']['kdfparams'], kdf: string): Promise<Buffer> {
  const salt = Buffer.from(params.salt, 'hex')
  if (kdf === 'scrypt') {
    const {n = 0, r = 8, p = 1, dklen} = params
    return scryptAsync(passwordBytes(password), salt, dklen, {N: n, r, p, maxmem: 256 * n * r * p + 1024 * 1024})
  }
  if (kdf === 'pbkdf2') {
    if (params.prf !== 'hmac-sha256') throw new UserError(`Unsupported keystore PRF ${params.prf}.`, {code: 'KEYSTORE_UNSUPPORTED'})
    return pbkdf2Async(passwordBytes(password), salt, params.c ?? 262_144, params.dklen, 'sha256')
  }
  throw new UserError(`Unsupported keystore KDF "${kdf}".`, {code: 'KEYSTORE_UNSUPPORTED'})
}

const macOf = (derived: Buffer, ciphertext: Buffer): Buffer =>
  Buffer.from(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2), 'hex')

/** Encrypts a private key with scrypt + AES-128-CTR (node's native scrypt: ~0.4 s at the standard strength). */
export async function encryptKeystore(privateKey: string, password: string, options: EncryptOptions = {}): Promise<KeystoreV3> {
  const n = options.scryptN ?? 131_072
  const salt = randomBytes(32)
  const iv = randomBytes(16)
  const kdfparams = {dklen: 32, n, p: 1, r: 8, salt: salt.toString('hex')}
  const derived = await deriveKey(password, kdfparams, 'scrypt')
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv)
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(privateKey.replace(/^0x/, ''), 'hex')), cipher.final()])
  return {
    version: 3,
    id: randomUUID(),
    address: computeAddress(privateKey).slice(2).toLowerCase(),
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: {iv: iv.toString('hex')},
      ciphertext: ciphertext.toString('hex'),
      kdf: 'scrypt',
      kdfparams,
      mac: macOf(derived, ciphertext).toString('hex'),
    },
  }
}

/** Decrypts a v3 keystore. A wrong password is a user error; nothing else is revealed. */
export async function decryptKeystore(keystore: KeystoreV3, password: string, label = 'the wallet'): Promise<string> {
  // geth and ethers write "Crypto"; the spec says "crypto". Accept both.
  const crypto = keystore.crypto ?? (keystore as unknown as {Crypto?: KeystoreV3['crypto']}).Crypto
  if (!crypto || crypto.cipher !== 'aes-128-ctr')
    throw new UserError(`The keystore of ${label} uses an unsupported cipher.`, {code: 'KEYSTORE_UNSUPPORTED'})
  const derived = await deriveKey(password, crypto.kdfparams, crypto.kdf)
  const ciphertext = Buffer.from(crypto.ciphertext, 'hex')
  const expected = Buffer.from(crypto.mac, 'hex')
  const actual = macOf(derived, ciphertext)
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    throw new UserError(`Wrong password for ${label}.`, {
      code: 'WRONG_PASSWORD',
      hint: 'Type the password again, or check OGPU_PASSWORD / --password-file.',
    })
  const decipher = createDecipheriv('aes-128-ctr', derived.subarray(0, 16), Buffer.from(crypto.cipherparams.iv, 'hex'))
  const privateKey = `0x${Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('hex')}`
  if (keystore.address && getAddress(`0x${keystore.address.replace(/^0x/, '')}`) !== computeAddress(privateKey))
    throw new UserError(`The keystore of ${label} is corrupt: its key does not match its address.`, {code: 'KEYSTORE_CORRUPT'})
  return privateKey
}
