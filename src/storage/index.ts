/**
 * Durable atomic file writes: the one home for "replace a file so that a crash leaves the old or the new content,
 * never a mix, and the new content survives a power loss once the call returns".
 *
 * The steps: write a temp file in the same directory, fsync it, rename it over the target, fsync the directory (the
 * rename lives in the directory; without its fsync a power loss can bring the old name back). write-file-atomic does
 * the first three (and removes its temp file when a step fails, or when the process exits on a signal mid-write);
 * this module adds the directory fsync and ogpu's default mode.
 *
 * Used by everything that costs money or keys when lost: keystores, the provider journal, voucher books, evidence.
 */
import {closeSync, fsyncSync, openSync, readdirSync, realpathSync, renameSync, rmSync} from 'node:fs'
import {open, realpath, rename} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import writeFileAtomic from 'write-file-atomic'

export interface DurableWriteOptions {
  /**
   * Permission bits of the file, set exactly (whatever the umask). `'umask'`: what `fs.writeFileSync` would give,
   * the mode of the file replaced, or 0o666 less the umask for a new one (for files the user owns: results, caches).
   * Defaults to 0o600 (owner only): most of what ogpu stores is private (keys, vouchers, salts).
   */
  mode?: number | 'umask'
}

/** Replaces `dir/name` with `data`, atomically and durably (see the module comment). Throws the fs error as is. */
export function writeFileDurable(dir: string, name: string, data: string | Buffer, options: DurableWriteOptions = {}): void {
  const target = realTarget(join(dir, name))
  writeFileAtomic.sync(target, data, atomicOptions(options))
  fsyncDir(dirname(target))
}

/** The async form of {@link writeFileDurable}: the fsyncs do not block the event loop. */
export async function writeFileDurableAsync(dir: string, name: string, data: string | Buffer, options: DurableWriteOptions = {}): Promise<void> {
  const path = join(dir, name)
  const target = await realpath(path).catch(() => path)
  await writeFileAtomic(target, data, atomicOptions(options))
  await fsyncDirAsync(dirname(target))
}

/**
 * Moves a finished file (written by a streaming writer, a download) into place durably: fsync of the file, rename,
 * fsync of the directory. `from` and `to` must be on one filesystem (keep the temp file in the target's directory).
 */
export function renameDurable(from: string, to: string): void {
  const fd = openSync(from, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(from, to)
  fsyncDir(dirname(to))
}

/** The async form of {@link renameDurable}. */
export async function renameDurableAsync(from: string, to: string): Promise<void> {
  const handle = await open(from, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(from, to)
  await fsyncDirAsync(dirname(to))
}

/**
 * Removes the temp files a killed writer (kill -9, power loss) left next to `dir/name`: write-file-atomic's
 * `<name>.<number>` and the older `<name>.tmp` / `<name>.<pid>.tmp`. Only for a directory one process owns: another
 * process may be writing a temp file right now.
 */
export function removeLeftoverTemps(dir: string, name: string): void {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return
  }
  const prefix = `${name}.`
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue
    if (/^(\d+|tmp|\d+\.tmp)$/.test(entry.slice(prefix.length))) rmSync(join(dir, entry), {force: true})
  }
}

function atomicOptions(options: DurableWriteOptions): writeFileAtomic.Options {
  const mode = options.mode ?? 0o600
  return mode === 'umask' ? {} : {mode}
}

// write-file-atomic writes through a symlink to its target: the directory to fsync is the target's.
function realTarget(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

// Directories that cannot be opened or fsynced (Windows; some network and FUSE filesystems) make the rename as
// durable as they allow; a real I/O error on the directory is thrown.
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF'])

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    if (!DIR_FSYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error
  }
}

async function fsyncDirAsync(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (error) {
    if (!DIR_FSYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error
  }
}
