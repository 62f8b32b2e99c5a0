#!/usr/bin/env node
// Runs every test file under test/ with node's test runner (Node 20 has no --test globs), two files at a time:
// every test names its namespaces, labs, tables, etcd members and temp dirs uniquely per run, so test files
// (and two copies of the suite) run side by side; most of an end-to-end test's time is spent waiting on the
// kernel, etcd or a timeout, not on a core.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : find('test').sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
