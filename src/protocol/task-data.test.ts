import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {UserError} from '../errors/index.js'
import {verifyProof} from './merkle.js'
import {commitToItems, fetchDataUri, loadTaskData, parseItems} from './task-data.js'

const dir = mkdtempSync(join(tmpdir(), 'ogpu-data-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const jsonl = '{"id": 1, "prompt": "Hello"}\n{"id": "b", "messages": [{"role": "user", "content": "Hi"}]}\n\n'

describe('task data', () => {
  it('parses prompt and chat items', () => {
    expect(parseItems(jsonl)).toEqual([
      {id: '1', prompt: 'Hello'},
      {id: 'b', messages: [{role: 'user', content: 'Hi'}]},
    ])
  })

  it.each([
    ['{"id": 1}', /exactly one of "prompt" or "messages"/],
    ['{"id": 1, "prompt": "a"}\n{"id": 1, "prompt": "b"}', /data:2: id "1" repeats line 1/],
    ['{"id": 1, "prompt": "a", "temperature": 2}', /unknown field "temperature"/],
    ['{"id": 1, "prompt": "a"}\nnot json', /data:2: not valid JSON/],
    ['[1,2]', /JSON object/],
    ['{"id": 1, "messages": [{"role": "robot", "content": "x"}]}', /messages\[0\]/],
    ['\n\n', /no items/],
  ])('refuses %j naming the line', (text, message) => {
    expect(() => parseItems(text)).toThrow(UserError)
    expect(() => parseItems(text)).toThrow(message)
  })

  it('commits to items with a Merkle root whose proofs verify', () => {
    const c = commitToItems(parseItems(jsonl))
    expect(c.root).toMatch(/^0x[0-9a-f]{64}$/)
    c.itemHashes.forEach((h, i) => expect(verifyProof(c.root, i, h, c.tree.proof(i))).toBe(true))
  })

  it('reads files relative to the spec, file: URIs and data: URIs alike', async () => {
    writeFileSync(join(dir, 'items.jsonl'), jsonl)
    const relative = await fetchDataUri('./items.jsonl', {baseDir: dir})
    const file = await fetchDataUri(`file://${join(dir, 'items.jsonl')}`)
    const data = await fetchDataUri(`data:application/jsonl;base64,${Buffer.from(jsonl).toString('base64')}`)
    expect(relative).toBe(jsonl)
    expect(file).toBe(jsonl)
    expect(data).toBe(jsonl)
  })

  it('checks the item count and root', async () => {
    writeFileSync(join(dir, 'items.jsonl'), jsonl)
    const ok = await loadTaskData('./items.jsonl', {items: 2}, {baseDir: dir})
    await expect(loadTaskData('./items.jsonl', {items: 3}, {baseDir: dir})).rejects.toThrow(/2 items but 3 were expected/)
    await expect(loadTaskData('./items.jsonl', {root: `0x${'0'.repeat(64)}`}, {baseDir: dir})).rejects.toThrow(/does not match/)
    expect((await loadTaskData('./items.jsonl', {root: ok.root}, {baseDir: dir})).root).toBe(ok.root)
  })

  it('refuses data over the size limit and missing files', async () => {
    writeFileSync(join(dir, 'big.jsonl'), 'x'.repeat(2000))
    await expect(fetchDataUri('./big.jsonl', {baseDir: dir, maxBytes: 1000})).rejects.toThrow(/more than the limit/)
    await expect(fetchDataUri('./nope.jsonl', {baseDir: dir})).rejects.toThrow(/does not exist/)
  })

  it('reports an unreachable URL as an external failure', async () => {
    await expect(fetchDataUri('http://127.0.0.1:1/items.jsonl', {timeoutMs: 2000})).rejects.toMatchObject({exitCode: 3, code: 'DATA_DOWNLOAD_FAILED'})
  })
})
