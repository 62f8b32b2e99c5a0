/** The embedded ulogd2 configuration is the shipped one, and is rewritten per host for the lab. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SHIPPED_ULOGD_CONFIG, ulogdConfig } from '../../src/audit/ulogd-config.ts';

test('the embedded configuration is examples/audit/ulogd.conf', () => {
  assert.equal(SHIPPED_ULOGD_CONFIG, readFileSync(new URL('../../examples/audit/ulogd.conf', import.meta.url), 'utf8'));
});

test('per host: its own files and the log group asked for', () => {
  const text = ulogdConfig('/run/palisade-lab/shop-audit/pal-shop-3', 9);
  assert.match(text, /^file="\/run\/palisade-lab\/shop-audit\/pal-shop-3\.json"$/m);
  assert.match(text, /^logfile="\/run\/palisade-lab\/shop-audit\/pal-shop-3\.log"$/m);
  assert.match(text, /^group=9$/m);
  assert.doesNotMatch(text, /\/var\/log\/ulog/);
});
