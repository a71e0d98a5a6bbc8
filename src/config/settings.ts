import Conf from 'conf'

import {UserError} from '../errors/index.js'
import type {OgpuPaths} from './paths.js'

/** Every setting ogpu knows, with its description and validation. Unknown keys are refused. */
export const SETTINGS = {
  network: {description: 'Active network name (a file under <config dir>/networks).', default: 'devnet'},
  wallet: {description: 'Active wallet name.', default: ''},
  'rpc.timeoutMs': {description: 'Milliseconds to wait for a JSON-RPC answer before giving up.', default: '15000', pattern: /^\d+$/},
  'tx.confirmTimeoutMs': {description: 'Milliseconds to wait for a transaction receipt.', default: '120000', pattern: /^\d+$/},
  'log.format': {description: 'Log format of long-running commands: text or json.', default: 'text', pattern: /^(text|json)$/},
} as const satisfies Record<string, {description: string; default: string; pattern?: RegExp}>

export type SettingKey = keyof typeof SETTINGS
export type Settings = {[K in SettingKey]: string}

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key)
}

/** The settings file (`<config dir>/config.json`), read and written through `conf`. */
export class SettingsStore {
  private readonly conf: Conf<Record<string, string>>

  constructor(paths: OgpuPaths) {
    this.conf = new Conf<Record<string, string>>({cwd: paths.configDir, configName: 'config', projectName: 'ogpu'})
  }

  get path(): string {
    return this.conf.path
  }

  get<K extends SettingKey>(key: K): string {
    const value = this.conf.get(key)
    return typeof value === 'string' ? value : SETTINGS[key].default
  }

  /** All settings with their effective values and whether each was set explicitly. */
  list(): Array<{key: SettingKey; value: string; isDefault: boolean; description: string}> {
    return (Object.keys(SETTINGS) as SettingKey[]).map((key) => ({
      key,
      value: this.get(key),
      isDefault: typeof this.conf.get(key) !== 'string',
      description: SETTINGS[key].description,
    }))
  }

  set(key: string, value: string): void {
    const known = requireKey(key)
    const spec = SETTINGS[known] as {pattern?: RegExp}
    if (spec.pattern && !spec.pattern.test(value))
      throw new UserError(`"${value}" is not a valid value for ${known}.`, {
        code: 'INVALID_SETTING',
        hint: `${known}: ${SETTINGS[known].description}`,
      })
    this.conf.set(known, value)
  }

  unset(key: string): void {
    this.conf.delete(requireKey(key))
  }
}

function requireKey(key: string): SettingKey {
  if (!isSettingKey(key))
    throw new UserError(`Unknown setting "${key}".`, {
      code: 'UNKNOWN_SETTING',
      hint: `Known settings: ${Object.keys(SETTINGS).join(', ')}.`,
    })
  return key
}
