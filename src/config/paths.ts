import {homedir} from 'node:os'
import {join} from 'node:path'

/**
 * Where ogpu keeps its files. Services take these as plain values; this is the one place that reads the
 * environment for them.
 *
 * - config dir: settings, network files, wallet keystores. `OGPU_CONFIG_DIR` overrides it.
 *   Defaults to `$XDG_CONFIG_HOME/ogpu` or `~/.config/ogpu` (the same place oclif uses).
 * - data dir: models, provider state, devnet state and logs. `OGPU_DATA_DIR` overrides it.
 *   Defaults to `<OGPU_CONFIG_DIR>/data` when only the config dir is overridden, else `$XDG_DATA_HOME/ogpu` or
 *   `~/.local/share/ogpu`.
 */
export interface OgpuPaths {
  configDir: string
  dataDir: string
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): OgpuPaths {
  const home = homedir()
  const configDir = env.OGPU_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(home, '.config'), 'ogpu')
  const dataDir =
    env.OGPU_DATA_DIR ||
    (env.OGPU_CONFIG_DIR ? join(env.OGPU_CONFIG_DIR, 'data') : join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'ogpu'))
  return {configDir, dataDir}
}

export const networksDir = (paths: OgpuPaths): string => join(paths.configDir, 'networks')
export const keystoresDir = (paths: OgpuPaths): string => join(paths.configDir, 'keystores')
export const devnetDir = (paths: OgpuPaths): string => join(paths.dataDir, 'devnet')
