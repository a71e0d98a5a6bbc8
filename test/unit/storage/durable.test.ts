import {chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'
import writeFileAtomic from 'write-file-atomic'

import {removeLeftoverTemps, renameDurable, renameDurableAsync, writeFileDurable, writeFileDurableAsync} from '../../../src/storage/index.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ogpu-storage-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

const modeOf = (path: string): number => statSync(path).mode & 0o777

/** Reads what an fd opened before a write still sees: the old inode when the file was replaced, not rewritten. */
function readFd(fd: number): string {
  const buffer = Buffer.alloc(256)
  const n = readSync(fd, buffer, 0, buffer.length, 0)
  return buffer.subarray(0, n).toString('utf8')
}

describe.each([
  ['writeFileDurable', async (dir: string, name: string, data: string, options?: Parameters<typeof writeFileDurable>[3]) => writeFileDurable(dir, name, data, options)],
  ['writeFileDurableAsync', writeFileDurableAsync],
] as const)('%s', (_name, write) => {
  it('creates the file owner-only (0600) by default, whatever the umask', async () => {
    const dir = tempDir()
    await write(dir, 'key.json', '{"secret":1}\n')
    expect(readFileSync(join(dir, 'key.json'), 'utf8')).toBe('{"secret":1}\n')
    expect(modeOf(join(dir, 'key.json'))).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['key.json'])
  })

  it('keeps an explicit mode, also when it replaces a file of another mode', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'network.json'), 'old', {mode: 0o600})
    await write(dir, 'network.json', 'new', {mode: 0o644})
    expect(modeOf(join(dir, 'network.json'))).toBe(0o644)
    await write(dir, 'network.json', 'newer', {mode: 0o600})
    expect(modeOf(join(dir, 'network.json'))).toBe(0o600)
  })

  it("'umask' keeps the mode of the file it replaces, like writeFileSync", async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'results.jsonl'), 'old')
    chmodSync(join(dir, 'results.jsonl'), 0o640)
    await write(dir, 'results.jsonl', 'new', {mode: 'umask'})
    expect(modeOf(join(dir, 'results.jsonl'))).toBe(0o640)
    expect(readFileSync(join(dir, 'results.jsonl'), 'utf8')).toBe('new')
  })

  it('replaces the content atomically: a reader that opened the old file keeps reading the old content', async () => {
    const dir = tempDir()
    const path = join(dir, 'daemon.json')
    await write(dir, 'daemon.json', 'old content')
    const before = statSync(path).ino
    const fd = openSync(path, 'r')
    try {
      await write(dir, 'daemon.json', 'new content, longer than the old one')
      expect(readFd(fd)).toBe('old content') // never truncated or rewritten in place
    } finally {
      closeSync(fd)
    }
    expect(readFileSync(path, 'utf8')).toBe('new content, longer than the old one')
    expect(statSync(path).ino).not.toBe(before)
    expect(readdirSync(dir)).toEqual(['daemon.json'])
  })

  it('leaves no temp file behind when the write fails, and throws the fs error', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'taken')) // a directory where the file should go: the final rename fails
    writeFileSync(join(dir, 'taken', 'inside'), 'x')
    await expect(write(dir, 'taken', 'data')).rejects.toThrow()
    expect(readdirSync(dir)).toEqual(['taken'])
    expect(readFileSync(join(dir, 'taken', 'inside'), 'utf8')).toBe('x')
  })

  it('throws when the directory does not exist, creating nothing', async () => {
    const dir = tempDir()
    await expect(write(join(dir, 'missing'), 'a.json', 'data')).rejects.toMatchObject({code: 'ENOENT'})
    expect(readdirSync(dir)).toEqual([])
  })
})

describe.each([
  ['renameDurable', async (from: string, to: string) => renameDurable(from, to)],
  ['renameDurableAsync', renameDurableAsync],
] as const)('%s', (_name, move) => {
  it('moves a finished file into place, replacing the old one', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, '.tmp-model'), 'weights')
    writeFileSync(join(dir, 'model.gguf'), 'old')
    await move(join(dir, '.tmp-model'), join(dir, 'model.gguf'))
    expect(readFileSync(join(dir, 'model.gguf'), 'utf8')).toBe('weights')
    expect(readdirSync(dir)).toEqual(['model.gguf'])
  })

  it('throws when the source is missing', async () => {
    const dir = tempDir()
    await expect(move(join(dir, 'nothing'), join(dir, 'model.gguf'))).rejects.toMatchObject({code: 'ENOENT'})
  })
})

describe('removeLeftoverTemps', () => {
  it("removes the temp files a killed writer leaves (write-file-atomic's names and the older .tmp names), nothing else", () => {
    const dir = tempDir()
    const target = join(dir, 'snapshot.json')
    // The name write-file-atomic gives its temp file: pins the naming this cleanup relies on.
    const wfaTemp = (writeFileAtomic as unknown as {_getTmpname(file: string): string})._getTmpname(target)
    for (const path of [target, wfaTemp, `${target}.tmp`, `${target}.4242.tmp`, join(dir, 'journal.jsonl.17'), join(dir, 'snapshot.json.bak')]) writeFileSync(path, 'x')
    removeLeftoverTemps(dir, 'snapshot.json')
    expect(readdirSync(dir).sort()).toEqual(['journal.jsonl.17', 'snapshot.json', 'snapshot.json.bak'])
  })

  it('does nothing for a directory that does not exist', () => {
    expect(() => removeLeftoverTemps(join(tempDir(), 'missing'), 'a.json')).not.toThrow()
  })
})
