import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {basename, join} from 'node:path'

import {HDNodeWallet, Mnemonic, Wallet, getAddress, isHexString} from 'ethers'

import {keystoresDir, type OgpuPaths} from '../config/paths.js'
import {SettingsStore} from '../config/settings.js'
import {UserError} from '../errors/index.js'
import {writeFileDurable} from '../storage/index.js'
import {decryptKeystore, encryptKeystore, type KeystoreV3} from './keystore.js'

/**
 * The password of the devnet's dev wallets. Their keys are anvil's public test keys, so this protects nothing;
 * it only keeps every key on disk in the same keystore format.
 */
export const DEV_PASSWORD = 'ogpu-devnet-insecure'
/** Dev keys are public: a cheap scrypt keeps dev commands fast. */
const DEV_SCRYPT_N = 1024

export const MIN_PASSWORD_LENGTH = 8

export interface WalletInfo {
  name: string
  address: string
  /** A devnet wallet with a well-known key: never use it on a real chain. */
  dev: boolean
  active: boolean
  createdAt: string
  file: string
}

/** How a wallet is imported: exactly one of these. */
export type ImportSource =
  | {privateKey: string}
  | {mnemonic: string; /** Derivation path. Defaults to m/44'/60'/0'/0/0. */ path?: string}
  | {keystore: string; /** The password of the keystore being imported. */ keystorePassword: string}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/

export function validateWalletName(name: string): string {
  if (!NAME.test(name))
    throw new UserError(`"${name}" is not a valid wallet name.`, {
      code: 'INVALID_NAME',
      hint: 'Use letters, digits, dash and underscore (at most 64), starting with a letter or digit.',
    })
  return name
}

export function validateNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new UserError(`The password is too short (${password.length} characters).`, {
      code: 'WEAK_PASSWORD',
      hint: `Use at least ${MIN_PASSWORD_LENGTH} characters.`,
    })
}

/** Encrypted Web3 keystores, one file per wallet (mode 0600) under `<config dir>/keystores`. */
export class WalletStore {
  readonly dir: string
  private readonly settings: SettingsStore

  constructor(paths: OgpuPaths) {
    this.dir = keystoresDir(paths)
    this.settings = new SettingsStore(paths)
  }

  private fileOf(name: string): string {
    return join(this.dir, `${validateWalletName(name)}.json`)
  }

  private readKeystore(name: string): KeystoreV3 {
    const file = this.fileOf(name)
    if (!existsSync(file)) {
      const known = this.list().map((w) => w.name)
      throw new UserError(`No wallet named "${name}".`, {
        code: 'WALLET_NOT_FOUND',
        hint: known.length > 0 ? `Known wallets: ${known.join(', ')}.` : 'Create one with `ogpu wallet create NAME`, or start the devnet for dev wallets.',
      })
    }
    return JSON.parse(readFileSync(file, 'utf8')) as KeystoreV3
  }

  private info(name: string, keystore: KeystoreV3): WalletInfo {
    return {
      name,
      address: getAddress(`0x${keystore.address.replace(/^0x/, '')}`),
      dev: keystore['x-ogpu']?.dev === true,
      active: this.activeName() === name,
      createdAt: keystore['x-ogpu']?.createdAt ?? '',
      file: this.fileOf(name),
    }
  }

  list(): WalletInfo[] {
    if (!existsSync(this.dir)) return []
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && NAME.test(f.slice(0, -5)))
      .sort((a, b) => a.localeCompare(b, 'en', {numeric: true}))
      .map((f) => f.slice(0, -5))
      .map((name) => this.info(name, this.readKeystore(name)))
  }

  has(name: string): boolean {
    return existsSync(this.fileOf(name))
  }

  get(name: string): WalletInfo {
    return this.info(name, this.readKeystore(name))
  }

  isDev(name: string): boolean {
    return this.readKeystore(name)['x-ogpu']?.dev === true
  }

  activeName(): string | undefined {
    return this.settings.get('wallet') || undefined
  }

  /** The wallet to use: the one named, else the active one. */
  resolveName(name?: string): string {
    const resolved = name ?? this.activeName()
    if (!resolved)
      throw new UserError('No wallet selected.', {
        code: 'NO_WALLET',
        hint: 'Pass --wallet NAME, or pick a default with `ogpu wallet use NAME` (`ogpu wallet list` shows them).',
      })
    this.readKeystore(resolved)
    return resolved
  }

  use(name: string): WalletInfo {
    this.readKeystore(name)
    this.settings.set('wallet', name)
    return this.get(name)
  }

  /** Creates a wallet with a fresh random key. The first wallet becomes the active one. */
  async create(name: string, password: string): Promise<WalletInfo> {
    this.assertFree(name)
    validateNewPassword(password)
    return this.save(name, Wallet.createRandom().privateKey, password)
  }

  async import(name: string, source: ImportSource, password: string): Promise<WalletInfo> {
    this.assertFree(name)
    validateNewPassword(password)
    return this.save(name, await privateKeyOf(source), password)
  }

  /** Decrypts a wallet. Dev wallets open without asking (their keys are public). */
  async unlock(name: string, password?: string): Promise<Wallet> {
    const keystore = this.readKeystore(name)
    const dev = keystore['x-ogpu']?.dev === true
    if (password === undefined && !dev) throw new UserError(`A password is needed to unlock "${name}".`, {code: 'NO_PASSWORD'})
    const privateKey = await decryptKeystore(keystore, dev ? DEV_PASSWORD : (password ?? ''), `wallet "${name}"`)
    return new Wallet(privateKey)
  }

  /** Writes the devnet's well-known accounts as dev wallets `dev0`..`devN`, replacing older dev wallets. */
  async writeDevWallets(privateKeys: string[]): Promise<WalletInfo[]> {
    const infos: WalletInfo[] = []
    for (const [i, key] of privateKeys.entries()) {
      const name = `dev${i}`
      if (this.has(name) && !this.isDev(name))
        throw new UserError(`A wallet named "${name}" exists and is not a dev wallet; it is left untouched.`, {
          code: 'WALLET_EXISTS',
          hint: `Rename ${this.fileOf(name)} to free the name.`,
        })
      infos.push(await this.save(name, key, DEV_PASSWORD, {dev: true, scryptN: DEV_SCRYPT_N, overwrite: true}))
    }
    if (!this.activeName()) this.settings.set('wallet', 'dev0')
    return infos.map((info) => ({...info, active: this.activeName() === info.name}))
  }

  remove(name: string): WalletInfo {
    const info = this.get(name)
    rmSync(info.file)
    if (this.activeName() === name) this.settings.unset('wallet')
    return info
  }

  /** Throws WALLET_EXISTS when the name is taken (call before asking for a password). */
  assertFree(name: string): void {
    if (this.has(name))
      throw new UserError(`A wallet named "${name}" already exists.`, {
        code: 'WALLET_EXISTS',
        hint: 'Choose another name; `ogpu wallet list` shows the existing ones.',
      })
  }

  private async save(
    name: string,
    privateKey: string,
    password: string,
    options: {dev?: boolean; scryptN?: number; overwrite?: boolean} = {},
  ): Promise<WalletInfo> {
    const keystore = await encryptKeystore(privateKey, password, {scryptN: options.scryptN})
    keystore['x-ogpu'] = {name, createdAt: new Date().toISOString(), ...(options.dev ? {dev: true} : {})}
    mkdirSync(this.dir, {recursive: true, mode: 0o700})
    chmodSync(this.dir, 0o700)
    const file = this.fileOf(name)
    if (!options.overwrite && existsSync(file)) this.assertFree(name)
    // The only copy of the private key: durable before we say it is saved.
    writeFileDurable(this.dir, basename(file), `${JSON.stringify(keystore, null, 2)}\n`, {mode: 0o600})
    if (!this.activeName()) this.settings.set('wallet', name)
    return this.info(name, keystore)
  }
}

async function privateKeyOf(source: ImportSource): Promise<string> {
  if ('privateKey' in source) {
    const key = source.privateKey.trim()
    const hex = key.startsWith('0x') ? key : `0x${key}`
    if (!isHexString(hex, 32))
      throw new UserError('The private key is not 32 bytes of hex.', {code: 'INVALID_PRIVATE_KEY', hint: 'Expected 64 hex characters, with or without 0x.'})
    try {
      return new Wallet(hex).privateKey
    } catch {
      throw new UserError('The private key is out of range for secp256k1.', {code: 'INVALID_PRIVATE_KEY'})
    }
  }
  if ('mnemonic' in source) {
    const phrase = source.mnemonic.trim().split(/\s+/).join(' ')
    if (!Mnemonic.isValidMnemonic(phrase))
      throw new UserError('The mnemonic is not a valid BIP-39 phrase.', {code: 'INVALID_MNEMONIC', hint: 'Check the words and their order.'})
    return HDNodeWallet.fromPhrase(phrase, undefined, source.path ?? "m/44'/60'/0'/0/0").privateKey
  }
  let parsed: KeystoreV3
  try {
    parsed = JSON.parse(source.keystore) as KeystoreV3
  } catch {
    throw new UserError('The keystore file is not JSON.', {code: 'INVALID_KEYSTORE'})
  }
  if (parsed.version !== 3 || !(parsed.crypto ?? (parsed as {Crypto?: unknown}).Crypto))
    throw new UserError('The keystore file is not a Web3 v3 keystore.', {code: 'INVALID_KEYSTORE'})
  return decryptKeystore(parsed, source.keystorePassword, 'the keystore being imported')
}
