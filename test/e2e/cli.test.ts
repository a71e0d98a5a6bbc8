import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createHome, type OgpuHome, repoRoot} from '../helpers/cli.js'

describe('the ogpu binary', () => {
  let home: OgpuHome
  beforeAll(() => {
    home = createHome()
  })
  afterAll(() => home.dispose())

  it('lists the topics in --help', async () => {
    const {code, stdout} = await home.run(['--help'])
    expect(code).toBe(0)
    for (const topic of ['config', 'devnet', 'network', 'provider', 'stake', 'wallet']) expect(stdout).toMatch(new RegExp(`^\\s+${topic}\\s+\\S`, 'm'))
    expect(stdout).toMatch(/^\s+deploy\s+Deploy the ogpu contracts/m)
  })

  it('documents every command: summary, examples, and a description for every flag', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8'))
    const commands = Object.values(manifest.commands) as any[]
    expect(commands.length).toBeGreaterThan(15)
    for (const command of commands) {
      expect(command.summary, `${command.id} summary`).toBeTruthy()
      expect(command.examples?.length, `${command.id} examples`).toBeGreaterThan(0)
      for (const [name, flag] of Object.entries<any>(command.flags)) expect(flag.description ?? flag.summary, `${command.id} --${name}`).toBeTruthy()
      for (const [name, arg] of Object.entries<any>(command.args ?? {})) expect(arg.description, `${command.id} ${name}`).toBeTruthy()
      expect(command.enableJsonFlag, `${command.id} --json`).toBe(true)
    }
  })

  it('gets, sets, lists and resets settings', async () => {
    const set = await home.json(['config', 'set', 'rpc.timeoutMs', '30000'])
    expect(set.data).toEqual({key: 'rpc.timeoutMs', value: '30000'})
    const got = await home.json(['config', 'get', 'rpc.timeoutMs'])
    expect(got.data.value).toBe('30000')
    const listed = await home.json(['config', 'list'])
    expect(listed.data.settings.find((s: any) => s.key === 'rpc.timeoutMs')).toMatchObject({value: '30000', isDefault: false})
    const unset = await home.json(['config', 'set', 'rpc.timeoutMs', '--unset'])
    expect(unset.data.value).toBe('15000')
  })

  it('refuses unknown settings and bad values, naming what is wrong, and keeps the old value', async () => {
    await home.json(['config', 'set', 'log.format', 'json'])
    const bad = await home.json(['config', 'set', 'log.format', 'xml'])
    expect(bad.code).toBe(2)
    expect(bad.data.error).toMatchObject({code: 'INVALID_SETTING', message: '"xml" is not a valid value for log.format.'})
    expect((await home.json(['config', 'get', 'log.format'])).data.value).toBe('json')
    const unknown = await home.json(['config', 'get', 'colour'])
    expect(unknown.code).toBe(2)
    expect(unknown.data.error.code).toBe('UNKNOWN_SETTING')
  })

  it('prints a small JSON error (no config dump, no stack) and exit 2 for bad flags', async () => {
    const {code, stdout} = await home.run(['config', 'list', '--bogus', '--json'])
    expect(code).toBe(2)
    expect(stdout.length).toBeLessThan(1000)
    const parsed = JSON.parse(stdout)
    expect(parsed.error.kind).toBe('user')
    expect(parsed.error.message).toMatch(/--bogus/)
    expect(stdout).not.toMatch(/at .*\.js:\d+/)
  })

  it('prints human errors on stderr with a hint', async () => {
    const {code, stdout, stderr} = await home.run(['wallet', 'use', 'ghost'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^Error: No wallet named "ghost"\./m)
    expect(stderr).toMatch(/^Hint: /m)
  })
})
