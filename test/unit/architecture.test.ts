/**
 * The layering of src/ (docs/architecture.md), enforced: each folder may import only the folders its layer allows,
 * core never imports ink or react, the generated contract bindings are reached only through src/chain, and no code
 * outside the generated layer calls a contract by name (`getFunction`).
 */
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')

/** What each top-level folder of src/ may import (besides itself). Keep in step with docs/architecture.md. */
const ALLOWED: Record<string, readonly string[]> = {
  // foundations: no domain knowledge
  errors: [],
  units: ['errors'],
  config: ['errors'],
  storage: ['errors'],
  http: ['errors'],
  indexer: ['errors'],
  protocol: ['errors', 'units'],
  // the chain: typed contracts, transactions, networks
  chain: ['errors', 'units', 'config', 'storage', 'protocol'],
  // single-purpose services
  gpu: ['errors', 'storage'],
  wallet: ['errors', 'config', 'storage', 'chain'],
  devnet: ['errors', 'config', 'chain', 'wallet'],
  staking: ['errors', 'chain'],
  market: ['errors', 'units', 'config', 'storage', 'indexer', 'protocol', 'chain'],
  stream: ['errors', 'units', 'protocol', 'chain', 'gpu'],
  // long-running services and views
  provider: ['errors', 'units', 'config', 'storage', 'http', 'indexer', 'protocol', 'chain', 'gpu', 'market'],
  gateway: ['errors', 'units', 'storage', 'http', 'protocol', 'chain', 'stream'],
  dashboard: ['errors', 'units', 'config', 'indexer', 'protocol', 'chain', 'wallet', 'market', 'stream'],
  // front ends
  tui: ['dashboard'],
  cli: ['errors', 'units', 'config', 'chain', 'wallet', 'market', 'stream'],
  demo: ['errors', 'units', 'config', 'storage', 'protocol', 'chain', 'gpu', 'wallet', 'devnet', 'staking', 'market', 'stream', 'provider', 'cli'],
  commands: ['*'],
}

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(p)
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : []
  })
}

const files = sources(src).map((path) => ({path, rel: relative(src, path), text: readFileSync(path, 'utf8')}))
const folderOf = (rel: string) => rel.split('/')[0]!
const imports = (text: string) => [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]!)

describe('architecture', () => {
  it('every top-level folder of src/ has a layer', () => {
    const folders = new Set(files.filter((f) => f.rel.includes('/')).map((f) => folderOf(f.rel)))
    expect([...folders].filter((f) => !(f in ALLOWED))).toEqual([])
  })

  it('folders import only what their layer allows', () => {
    const violations: string[] = []
    for (const f of files) {
      if (!f.rel.includes('/')) continue
      const from = folderOf(f.rel)
      const allowed = ALLOWED[from]!
      if (allowed.includes('*')) continue
      for (const spec of imports(f.text)) {
        if (!spec.startsWith('.')) continue
        const target = relative(src, normalize(join(dirname(f.path), spec)))
        if (target.startsWith('..') || !target.includes('/')) continue
        const to = folderOf(target)
        if (to !== from && !allowed.includes(to)) violations.push(`${f.rel} imports ${target} (${from} may not import ${to})`)
      }
    }
    expect(violations).toEqual([])
  })

  it('core never imports ink or react: only src/tui (and the command that starts it, lazily) do', () => {
    const ui = files.filter((f) => imports(f.text).some((s) => /^(ink|react|ink-[\w-]+|react\/.*)$/.test(s)))
    expect(ui.map((f) => f.rel).filter((rel) => !rel.startsWith('tui/'))).toEqual([])
  })

  it('the generated contract bindings are reached only through src/chain', () => {
    const direct = files.filter((f) => !f.rel.startsWith('chain/') && imports(f.text).some((s) => s.includes('contracts/generated')))
    expect(direct.map((f) => f.rel)).toEqual([])
  })

  it('no code calls a contract function by name outside the generated layer', () => {
    expect(files.filter((f) => f.text.includes('getFunction(')).map((f) => f.rel)).toEqual([])
  })

  it('services never call process.exit (only the command that owns the process does)', () => {
    const exits = files.filter((f) => !f.rel.startsWith('commands/') && /process\.exit\(/.test(f.text))
    expect(exits.map((f) => f.rel)).toEqual([])
  })
})
