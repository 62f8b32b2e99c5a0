/**
 * Refuses a ruleset that would lock out the SSH session palisade runs in: the peer from SSH_CONNECTION
 * ("client_ip client_port server_ip server_port") must be able to open a new TCP connection to the server
 * port through the new input chain (the established session survives anyway; a reconnect must too).
 */
import ipaddr from 'ipaddr.js';
import type { Ruleset } from '../compile/ir.ts';
import { evaluateChain } from '../explain/evaluate.ts';
import { describeOrigin } from '../compile/origin.ts';

export interface SshPeer {
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
}

/** null when unset, empty or not four fields of addresses and ports (not an SSH session). */
export function parseSshConnection(value: string | undefined): SshPeer | null {
  const fields = value?.trim().split(/\s+/) ?? [];
  if (fields.length !== 4) return null;
  const [clientIp, clientPort, serverIp, serverPort] = fields as [string, string, string, string];
  const port = (p: string): number | null => (/^\d+$/.test(p) && Number(p) <= 65535 ? Number(p) : null);
  const strip = (ip: string): string | null => {
    const bare = ip.replace(/%.*$/, '');
    if (!ipaddr.isValid(bare)) return null;
    const parsed = ipaddr.process(bare);
    return parsed.toString();
  };
  const [cIp, sIp, cPort, sPort] = [strip(clientIp), strip(serverIp), port(clientPort), port(serverPort)];
  if (cIp === null || sIp === null || cPort === null || sPort === null) return null;
  return { clientIp: cIp, clientPort: cPort, serverIp: sIp, serverPort: sPort };
}

export interface GuardVerdict {
  allowed: boolean;
  /** One sentence for the user. */
  reason: string;
}

/** Evaluates the new input chain for the peer's next connection; `iif` is the interface holding serverIp, if known. */
export function checkSshPeer(rs: Ruleset, peer: SshPeer, iif: string | null): GuardVerdict {
  if (!rs.chains.some((c) => c.name === 'input')) return { allowed: true, reason: 'your SSH session stays reachable: the ruleset filters no input' };
  const family = peer.clientIp.includes(':') ? 6 : 4;
  const verdict = evaluateChain(rs, 'input', {
    family,
    saddr: peer.clientIp,
    daddr: peer.serverIp,
    protocol: 'tcp',
    dport: peer.serverPort,
    sport: peer.clientPort,
    iif,
    oif: null,
    uid: null,
  });
  const flow = `tcp ${peer.clientIp} -> ${peer.serverIp}:${peer.serverPort}${iif === null ? '' : ` on ${iif}`}`;
  const by = verdict.rule === null ? 'the chain policy' : describeOrigin(verdict.rule.origin);
  const raw = verdict.unevaluated.length > 0 ? ` (raw rules not evaluated on the way: ${verdict.unevaluated.join(', ')})` : '';
  return verdict.accepted
    ? { allowed: true, reason: `your SSH session (${flow}) stays reachable: accepted by ${by}` }
    : { allowed: false, reason: `this ruleset would cut your SSH session: a new connection ${flow} would be dropped by ${by}${raw}; add a failsafe or a rule for it, or pass --force` };
}
