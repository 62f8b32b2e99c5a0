/** The one counters reader (status and lab logs): nft JSON and iptables-save -c, drops and rejects, log prefixes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { iptablesCounters, nftCounters } from '../../src/kernel/counters.ts';

describe('kernel counters', () => {
  it('reads log, drop and reject counters from nft -j', () => {
    const items = [
      { metainfo: { version: '1.0.6' } },
      { rule: { chain: 'input', expr: [{ counter: { packets: 7, bytes: 400 } }, { limit: {} }, { log: { prefix: 'DROP_PAL_INPUT ' } }] } },
      { rule: { chain: 'input', expr: [{ counter: { packets: 7, bytes: 400 } }, { drop: null }] } },
      { rule: { chain: 'input', expr: [{ counter: { packets: 3, bytes: 100 } }, { accept: null }] } },
      { rule: { chain: 'input', expr: [{ counter: { packets: 5, bytes: 300 } }, { log: { prefix: 'LOG_PAL_Mail ' } }] } },
      { rule: { chain: 'input', expr: [{ counter: { packets: 2, bytes: 120 } }, { reject: { type: 'icmpx', expr: 'admin-prohibited' } }] } },
      { rule: { chain: 'user_www-data', expr: [{ counter: { packets: 2, bytes: 100 } }, { drop: null }] } },
    ];
    assert.deepEqual(nftCounters(items), [
      { chain: 'input', prefix: 'DROP_PAL_INPUT', logged: 7, packets: 7, bytes: 400, rejected: 2, rejectedBytes: 120 },
      { chain: 'user_www-data', prefix: null, logged: 0, packets: 2, bytes: 100, rejected: 0, rejectedBytes: 0 },
    ]);
  });

  it("sums iptables-save -c of both families, palisade's chains only, rejects apart from drops", () => {
    const v4 = `*filter
:INPUT ACCEPT [0:0]
:PALISADE-INPUT - [0:0]
[62:3282] -A INPUT -j PALISADE-INPUT
[9:500] -A INPUT -j DROP
[0:0] -A PALISADE-INPUT -m conntrack --ctstate INVALID -j DROP
[8:800] -A PALISADE-INPUT -p tcp -m comment --comment "x -j DROP \\" -j REJECT" -j ACCEPT
[37:1914] -A PALISADE-INPUT -m limit --limit 10/second --limit-burst 20 -j LOG --log-prefix "DROP_PAL_INPUT "
[4:240] -A PALISADE-INPUT -p tcp -m tcp --dport 25 -m comment --comment "-j DROP" -j REJECT --reject-with icmp-port-unreachable
[37:1914] -A PALISADE-INPUT -j DROP
[3:180] -A PALISADE-U-app -m limit --limit 10/second --limit-burst 20 -j NFLOG --nflog-prefix "AUDIT_PAL_OUT_app" --nflog-group 5
COMMIT
`;
    const v6 = `*filter
[5:2148] -A PALISADE-INPUT -m limit --limit 10/second --limit-burst 20 -j LOG --log-prefix "DROP_PAL_INPUT "
[6:2148] -A PALISADE-INPUT -j DROP
COMMIT
`;
    assert.deepEqual(iptablesCounters(`${v4}\n${v6}`), [
      { chain: 'PALISADE-INPUT', prefix: 'DROP_PAL_INPUT', logged: 42, packets: 43, bytes: 4062, rejected: 4, rejectedBytes: 240 },
      { chain: 'PALISADE-U-app', prefix: 'AUDIT_PAL_OUT_app', logged: 3, packets: 0, bytes: 0, rejected: 0, rejectedBytes: 0 },
    ]);
  });
});
