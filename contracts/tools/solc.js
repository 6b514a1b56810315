#!/usr/bin/env node
// forge's `solc`: the npm (solc-js) compiler behind the solc command-line contract forge expects.
// forge runs `solc --version`, then `solc --allow-paths .. --base-path .. --standard-json` with the
// standard-JSON input on stdin and parses stdout as JSON, so stdout must carry nothing else.
'use strict';

const fs = require('fs');
const path = require('path');

const projectRoot = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const solc = require(path.join(projectRoot, 'node_modules', 'solc'));

if (args.includes('--version')) {
  // Same shape as the native binary; forge reads the version from the second line.
  const version = solc.version().replace('.Emscripten.clang', '');
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}\n`);
  process.exit(0);
}

// Options that take a value; the rest of forge's flags (--standard-json, ...) are plain switches.
const valued = new Set(['--allow-paths', '--base-path', '--include-path']);
const roots = [projectRoot];
for (let i = 0; i < args.length; i += 1) {
  if (valued.has(args[i])) {
    const value = args[i + 1] || '';
    if (args[i] !== '--allow-paths' && value) roots.push(path.resolve(value));
    i += 1;
  }
}
roots.push(path.join(projectRoot, 'node_modules'));

// forge normally inlines every source; this reader only serves imports it left out.
function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8');
  const output = solc.compile(input, { import: findImports });
  process.stdout.write(output);
});
