/** Shared helpers of the src/gpu tests. */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const PROMPTS = ['Hello world', 'The GPU', 'a b c d', 'what is there', 'all of them', 'token model', 'one gpu for all', 'hello there model']

/** A temp dir removed by the returned function. */
export function tempDir(prefix = 'ogpu-gpu-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}
