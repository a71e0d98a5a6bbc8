#!/usr/bin/env node
// Offline stand-in for a native `solc` binary, backed by solc-js (node_modules/solc).
//
// forge is run with `--offline --use scripts/solc-wrapper.mjs`, so it never downloads a
// compiler. forge talks to this script exactly as it talks to native solc:
//
//   <wrapper> --version
//   <wrapper> --allow-paths <a,b,...> --base-path <dir> [--include-path <dir>]... --standard-json
//
// with the Standard JSON input on stdin. forge already inlines every source it resolved
// (remappings applied), but an import callback still reads anything missing, relative to
// the base path, the include paths and the working directory, in that order.
// Any other flag is accepted and ignored.

import { readFileSync, readSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Parses the flags forge passes; unknown flags are ignored. */
function parseArgs(argv) {
  const opts = { version: false, basePath: undefined, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--version':
      case '-v':
        opts.version = true;
        break;
      case '--base-path':
        opts.basePath = value();
        break;
      case '--include-path':
        opts.includePaths.push(value());
        break;
      case '--allow-paths':
        opts.allowPaths.push(...String(value()).split(',').filter(Boolean));
        break;
      default:
        break; // --standard-json and anything else
    }
  }
  return opts;
}

function loadSolc() {
  try {
    return require('solc');
  } catch (err) {
    process.stderr.write(`solc-wrapper: cannot load solc-js from node_modules/solc: ${err.message}\n`);
    process.exit(1);
  }
}

/** solc-js reports "0.8.30+commit.73712a01.Emscripten.clang"; native solc says "...Linux.g++". */
function nativeVersionString(solc) {
  const m = /^(\d+\.\d+\.\d+(?:-[^+]*)?\+commit\.[0-9a-f]+)/.exec(solc.version());
  return `${m ? m[1] : solc.version()}.Linux.g++`;
}

function readStdin() {
  const chunks = [];
  const buf = Buffer.alloc(1 << 20);
  for (;;) {
    let n;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if (err.code === 'EAGAIN') continue; // non-blocking stdin: retry
      if (err.code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function makeImportCallback(opts) {
  const roots = [opts.basePath, ...opts.includePaths, process.cwd()].filter(Boolean);
  return (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.resolve(root, importPath));
    for (const file of candidates) {
      try {
        if (existsSync(file) && statSync(file).isFile()) return { contents: readFileSync(file, 'utf8') };
      } catch {
        // try the next root
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

const opts = parseArgs(process.argv.slice(2));
const solc = loadSolc();

if (opts.version) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${nativeVersionString(solc)}\n`);
} else {
  const input = readStdin();
  const output = solc.compile(input, { import: makeImportCallback(opts) });
  // Let stdout drain before the process ends (large outputs go through a pipe).
  process.stdout.write(output);
}
