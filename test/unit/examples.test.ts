import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {loadTaskData} from '../../src/protocol/task-data.js'
import {loadTaskSpec} from '../../src/protocol/task-spec.js'
import {loadStreamSpec} from '../../src/stream/spec.js'
import {repoRoot} from '../helpers/cli.js'

const dir = join(repoRoot, 'examples')
const yamls = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
/** Stream specs (kind: stream) have their own schema; every other example is a batch task spec. */
const isStream = (file: string) => /^kind:\s*stream\s*$/m.test(readFileSync(join(dir, file), 'utf8'))
const specs = yamls.filter((f) => !isStream(f))
const streamSpecs = yamls.filter(isStream)

describe('examples/', () => {
  it('has specs', () => expect(specs.length).toBeGreaterThan(1))

  it.each(specs)('%s validates and its data loads', async (file) => {
    const loaded = loadTaskSpec(join(dir, file))
    const data = await loadTaskData(loaded.spec.data.uri, {items: loaded.spec.data.items, root: loaded.spec.data.root}, {baseDir: loaded.baseDir})
    expect(data.items.length).toBeGreaterThanOrEqual(loaded.spec.instructions.checkpoints)
    expect(data.root).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it.each(streamSpecs)('%s validates as a stream spec', (file) => {
    const loaded = loadStreamSpec(join(dir, file))
    expect(loaded.spec.model.sha256 ?? loaded.spec.model.path).toBeTruthy()
    expect(loaded.spec.council.size).toBeGreaterThanOrEqual(1)
  })
})
