#!/usr/bin/env node
// Adds package-lock.json entries for @foundry-rs platform packages that the wrappers list as
// optional dependencies but that are not published (for 1.7.1: most darwin/arm64/win32 builds of
// anvil and cast). `npm install` leaves them out of the lock and `npm ci` then refuses the lock
// ("Missing: ... from lock file"). Each stub carries its os/cpu, so npm skips it without fetching
// on other platforms. Run after changing a @foundry-rs version: `npm install && node tools/lock-stubs.js`.
'use strict';

const fs = require('fs');
const path = require('path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const cpuOf = { amd64: 'x64', arm64: 'arm64' };
let added = 0;

for (const tool of ['anvil', 'cast', 'forge']) {
  const wrapper = lock.packages[`node_modules/@foundry-rs/${tool}`];
  for (const [name, version] of Object.entries(wrapper.optionalDependencies || {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const match = name.match(/-(darwin|linux|win32)-(amd64|arm64)$/);
    if (!match) throw new Error(`unexpected platform package name: ${name}`);
    lock.packages[key] = { version, cpu: [cpuOf[match[2]]], dev: true, optional: true, os: [match[1]] };
    added += 1;
  }
}

const sorted = {};
for (const key of Object.keys(lock.packages).sort()) sorted[key] = lock.packages[key];
lock.packages = sorted;
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} stub entries added`);
