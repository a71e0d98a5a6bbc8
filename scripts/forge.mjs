#!/usr/bin/env node
// Runs the forge binary shipped in node_modules against the contracts/ project, offline,
// with solc-js (scripts/solc-wrapper.mjs) as the compiler.
//
//   node scripts/forge.mjs test [forge args...]
//   node scripts/forge.mjs snapshot [--check]
//
// For commands that compile, it appends `--root contracts --offline --use <wrapper>`.
// `snapshot` also leaves out the invariant tests (their call sequences make gas
// nondeterministic), rewrites the gas-section snapshots under contracts/snapshots/ and, with
// --check, compares them instead (FORGE_SNAPSHOT_CHECK). Exits with forge's exit code.
//
// npm 11 does not run @foundry-rs/forge's postinstall, so the platform package is located
// here directly: @foundry-rs/forge-<platform>-<arch>/bin/forge.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');
export const contractsRoot = path.join(repoRoot, 'contracts');
export const solcWrapper = path.join(here, 'solc-wrapper.mjs');

/** Test names excluded from gas snapshots: invariant campaigns and fuzz averages are not gas-deterministic, and the fixed campaigns that show a handler reaches every path move with any contract change (the dedicated gas tests and vm.snapshotGas figures track the hot paths). */
export const SNAPSHOT_EXCLUDE_TESTS = '^(invariant|statefulFuzz|testFuzz|test_handlerReachesEveryPath|test_adversaryReachesEveryPath)';

const PLATFORM_PACKAGES = {
  linux: { x64: 'forge-linux-amd64', arm64: 'forge-linux-arm64' },
  darwin: { x64: 'forge-darwin-amd64', arm64: 'forge-darwin-arm64' },
  win32: { x64: 'forge-win32-amd64' },
};

/** Subcommands (and aliases) that compile, so they take --root/--offline/--use. */
const COMPILING = new Set(['build', 'b', 'compile', 'test', 't', 'snapshot', 's', 'coverage', 'inspect', 'in', 'script']);

export function forgeBinary() {
  const pkg = PLATFORM_PACKAGES[process.platform]?.[process.arch];
  if (!pkg) {
    throw new Error(`forge: no @foundry-rs/forge binary package for ${process.platform}/${process.arch}`);
  }
  const exe = process.platform === 'win32' ? 'forge.exe' : 'forge';
  const require = createRequire(import.meta.url);
  let bin;
  try {
    bin = require.resolve(`@foundry-rs/${pkg}/bin/${exe}`, { paths: [repoRoot] });
  } catch {
    bin = path.join(repoRoot, 'node_modules', '@foundry-rs', pkg, 'bin', exe);
  }
  if (!existsSync(bin)) {
    throw new Error(
      `forge: ${bin} is missing. Install dependencies (npm ci) so that the optional package ` +
        `@foundry-rs/${pkg} is present for ${process.platform}/${process.arch}.`,
    );
  }
  return bin;
}

/** Builds the argument list and environment forge is run with. */
export function forgeInvocation(args) {
  const [cmd, ...rest] = args;
  const env = { ...process.env };
  if (!cmd || !COMPILING.has(cmd)) return { args, env, cwd: contractsRoot };
  const extra = ['--root', contractsRoot, '--offline', '--use', solcWrapper];
  if (cmd === 'snapshot' || cmd === 's') {
    if (!rest.some((a) => a === '--nmt' || a === '--no-match-test' || a.startsWith('--no-match-test='))) {
      extra.push('--no-match-test', SNAPSHOT_EXCLUDE_TESTS);
    }
    // Fuzz inputs come from the fixed seed alone. forge 1.x also seeds its fuzz dictionary with
    // literals collected from the sources by a background thread; how many are in before the
    // first runs depends on timing (e.g. whether forge just compiled), which would make the
    // fuzz gas means drift between runs. With dictionary weight 0 they are never sampled.
    env.FOUNDRY_FUZZ_DICTIONARY_WEIGHT = '0';
    // The vm.snapshotGas* figures in contracts/snapshots/: `forge test` leaves them alone
    // (gas_snapshot_emit = false); `snapshot` rewrites them, `snapshot --check` compares them.
    if (rest.some((a) => a === '--check' || a.startsWith('--check='))) env.FORGE_SNAPSHOT_CHECK = 'true';
    else env.FORGE_SNAPSHOT_EMIT = 'true';
  }
  // cwd = contracts/ too: forge resolves some paths (e.g. cache/invariant failures) from it.
  return { args: [cmd, ...rest, ...extra], env, cwd: contractsRoot };
}

/** Runs forge; resolves with its exit code. */
export function runForge(args, { stdio = 'inherit' } = {}) {
  const inv = forgeInvocation(args);
  return new Promise((resolve, reject) => {
    const child = spawn(forgeBinary(), inv.args, { stdio, env: inv.env, cwd: inv.cwd });
    const forward = (sig) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? 128 + (os.constants.signals[signal] ?? 0));
    });
  });
}

/** Runs forge with its output captured; resolves with { code, output } (stdout + stderr). */
export function captureForge(args) {
  const inv = forgeInvocation(args);
  return new Promise((resolve, reject) => {
    const child = spawn(forgeBinary(), inv.args, { stdio: ['ignore', 'pipe', 'pipe'], env: inv.env, cwd: inv.cwd });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (os.constants.signals[signal] ?? 0), output }));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await runForge(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}
