import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createHome, type OgpuHome, startDevnet, stopDevnet} from '../helpers/cli.js'

const MODEL = `0x${'cd'.repeat(32)}`
const OTHER = `0x${'ef'.repeat(32)}`

describe('ogpu provider council: join and leave the council pool of a model by hand', () => {
  let home: OgpuHome

  beforeAll(async () => {
    home = createHome('ogpu-council-e2e-')
    await startDevnet(home)
  })
  afterAll(async () => {
    if (home) {
      await stopDevnet(home)
      home.dispose()
    }
  })

  it('refuses an unregistered wallet, then joins, shows and leaves pools with --json', async () => {
    const refused = await home.json(['provider', 'council', 'join', '--model', MODEL, '--wallet', 'dev2'])
    expect(refused.code).toBe(2)
    expect(refused.data.error.code).toBe('NOT_REGISTERED')

    expect((await home.json(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', 'dev2'])).code).toBe(0)
    expect((await home.run(['stake', 'deposit', '100', '--wallet', 'dev2'])).code).toBe(0)
    const joined = await home.json(['provider', 'council', 'join', '--model', MODEL, '--model', OTHER, '--wallet', 'dev2'])
    expect(joined.code, joined.stderr).toBe(0)
    expect(joined.data).toMatchObject({action: 'join', joined: [MODEL, OTHER], skipped: []})
    expect(joined.data.pools.map((p: any) => p.model).sort()).toEqual([MODEL, OTHER].sort())

    const again = await home.json(['provider', 'council', 'join', '--model', MODEL, '--wallet', 'dev2'])
    expect(again.data.joined).toEqual([]) // already in: nothing sent

    const left = await home.json(['provider', 'council', 'leave', '--model', MODEL, '--wallet', 'dev2'])
    expect(left.code, left.stderr).toBe(0)
    expect(left.data.left).toEqual([MODEL])
    const status = await home.json(['provider', 'council', '--wallet', 'dev2'])
    expect(status.data.pools).toEqual([{model: OTHER, members: 1}])
    const provider = await home.json(['provider', 'status', '--wallet', 'dev2'])
    expect(provider.data.councilModels).toEqual([OTHER])
  })
})
