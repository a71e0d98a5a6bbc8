import {readdirSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {loadTaskData} from '../../src/protocol/task-data.js'
import {loadTaskSpec} from '../../src/protocol/task-spec.js'
import {repoRoot} from '../helpers/cli.js'

const dir = join(repoRoot, 'examples')
const specs = readdirSync(dir).filter((f) => f.endsWith('.yaml'))

describe('examples/', () => {
  it('has specs', () => expect(specs.length).toBeGreaterThan(1))

  it.each(specs)('%s validates and its data loads', async (file) => {
    const loaded = loadTaskSpec(join(dir, file))
    const data = await loadTaskData(loaded.spec.data.uri, {items: loaded.spec.data.items, root: loaded.spec.data.root}, {baseDir: loaded.baseDir})
    expect(data.items.length).toBeGreaterThanOrEqual(loaded.spec.instructions.checkpoints)
    expect(data.root).toMatch(/^0x[0-9a-f]{64}$/)
  })
})
