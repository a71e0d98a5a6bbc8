#!/usr/bin/env node
// Development entry point: builds TypeScript first (fast, incremental), then runs the CLI.
import {execFileSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {stdio: 'inherit'})
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
