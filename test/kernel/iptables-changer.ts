/**
 * Child process for the iptables kill test: waits for its stdin to close (the test has noted its pid by
 * then), then makes one change in the namespace: `load FILE` loads the ruleset in FILE, `update BEFORE AFTER`
 * applies a membership-only change. The test kills it at a chosen kernel tool call.
 */
import { readFileSync } from 'node:fs';
import type { Ruleset } from '../../src/compile/ir.ts';
import { IptablesBackend } from '../../src/kernel/iptables.ts';

const [netns, verb, ...files] = process.argv.slice(2) as [string, string, ...string[]];
const ruleset = (file: string | undefined): Ruleset => JSON.parse(readFileSync(file as string, 'utf8')) as Ruleset;
for await (const chunk of process.stdin) void chunk;
const backend = new IptablesBackend({ netns });
if (verb === 'load') await backend.load(ruleset(files[0]));
else await backend.updateMembership(ruleset(files[0]), ruleset(files[1]));
