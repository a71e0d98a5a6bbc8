#!/usr/bin/env node
// Compiles contracts/ with forge (offline, solc-js; see scripts/forge.mjs) and writes, for the
// TypeScript side:
//   artifacts/<ContractName>.json  { contractName, abi, bytecode }  for every deployable
//                                  contract under contracts/src (no interfaces, abstract
//                                  contracts, libraries, tests or OpenZeppelin)
//   artifacts/errors.json          every custom error ABI fragment those contracts (and the
//                                  OpenZeppelin code they use) can raise, deduplicated, so any
//                                  revert can be decoded by name
// Prints one summary line on success; forge's output only on failure.

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { captureForge, contractsRoot, repoRoot } from './forge.mjs';

const started = Date.now();
const srcDir = path.join(contractsRoot, 'src');
const outDir = path.join(contractsRoot, 'out');
const artifactsDir = path.join(repoRoot, 'artifacts');

// forge build of contracts/src only (the artifacts need no test; forge test compiles those), output captured: shown only if it fails.
let code;
let output;
try {
  ({ code, output } = await captureForge(['build', '--skip', 'test', '--skip', 'script', '--color', 'never']));
} catch (err) {
  process.stderr.write(`build-contracts: ${err.message}\n`);
  process.exit(1);
}
if (code !== 0) {
  process.stderr.write(output);
  process.stderr.write(`build-contracts: forge build failed (exit ${code})\n`);
  process.exit(code);
}

/** Source files under contracts/src, relative to contracts/ (as forge names them). */
function sourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.name.endsWith('.sol')) files.push(path.relative(contractsRoot, full).split(path.sep).join('/'));
  }
  return files;
}

const LIBRARY_PREFIX = /^0x73[0-9a-f]{40}30/i; // a library's runtime code starts PUSH20 <self> ADDRESS

/** Names declared as `library X` in a source. Via IR, a library with only internal functions
 *  compiles to a bare `revert` without the PUSH20 prefix, so the bytecode alone cannot tell. */
function librariesIn(source) {
  const text = readFileSync(path.join(contractsRoot, source), 'utf8');
  return new Set([...text.matchAll(/^\s*library\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]));
}

const contracts = [];
const errors = new Map(); // signature -> fragment

function addErrors(abi) {
  for (const item of abi) {
    if (item.type !== 'error') continue;
    const sig = `${item.name}(${item.inputs.map(canonicalType).join(',')})`;
    if (!errors.has(sig)) errors.set(sig, item);
  }
}

function canonicalType(input) {
  if (!input.type.startsWith('tuple')) return input.type;
  return `(${input.components.map(canonicalType).join(',')})${input.type.slice('tuple'.length)}`;
}

for (const source of sourceFiles(srcDir)) {
  const dir = path.join(outDir, path.basename(source));
  if (!existsSync(dir)) continue;
  const libraries = librariesIn(source);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const artifact = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const target = artifact.metadata?.settings?.compilationTarget ?? {};
    const name = target[source];
    if (!name) continue; // same basename from another directory, or not this source's contract
    addErrors(artifact.abi);
    const bytecode = artifact.bytecode?.object ?? '0x';
    const runtime = artifact.deployedBytecode?.object ?? '0x';
    const deployable =
      bytecode.length > 2 && !LIBRARY_PREFIX.test(runtime) && !libraries.has(name) && !source.startsWith('src/interfaces/');
    if (!deployable) continue;
    const entry = {
      contractName: name,
      abi: artifact.abi,
      bytecode: bytecode.startsWith('0x') ? bytecode : `0x${bytecode}`,
      viaIR: artifact.metadata?.settings?.viaIR === true,
    };
    const other = contracts.findIndex((c) => c.contractName === name);
    if (other === -1) {
      contracts.push(entry);
    } else if (contracts[other].viaIR !== entry.viaIR) {
      // The source was built by two compiler profiles (foundry.toml's compilation_restrictions
      // build TaskMarket.sol via IR; a legacy build appears only if something imports it): the
      // restricted, via-IR build is the deployable one.
      if (entry.viaIR) contracts[other] = entry;
    } else {
      process.stderr.write(`build-contracts: two deployable contracts named ${name}\n`);
      process.exit(1);
    }
  }
}

if (contracts.length === 0) {
  process.stderr.write('build-contracts: no deployable contract found under contracts/src\n');
  process.exit(1);
}

mkdirSync(artifactsDir, { recursive: true });
for (const f of readdirSync(artifactsDir)) {
  if (f.endsWith('.json')) rmSync(path.join(artifactsDir, f));
}
contracts.sort((a, b) => a.contractName.localeCompare(b.contractName));
for (const { contractName, abi, bytecode } of contracts) {
  writeFileSync(path.join(artifactsDir, `${contractName}.json`), `${JSON.stringify({ contractName, abi, bytecode }, null, 2)}\n`);
}
const errorList = [...errors.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, e]) => e);
writeFileSync(path.join(artifactsDir, 'errors.json'), `${JSON.stringify(errorList, null, 2)}\n`);

const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  `build-contracts: ${contracts.map((c) => c.contractName).join(', ')} + errors.json (${errorList.length} errors) -> artifacts/ in ${secs}s`,
);
