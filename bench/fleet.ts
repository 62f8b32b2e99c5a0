/** A generated fleet and policy for benchmarks: deterministic (seeded), sized by the caller. */

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export const ENVIRONMENTS = ['production', 'staging', 'qa', 'dev'];
const ROLES = Array.from({ length: 50 }, (_, i) => `role${i}`);
const TAGS = Array.from({ length: 20 }, (_, i) => `team${i}`);
const USERS: Record<string, number> = { root: 0, 'www-data': 33, app: 1001, backup: 34, prometheus: 110 };

/** The IPv4 address of generated host number i (10.100.0.0 onwards): every fleet benchmark's hosts are numbered the same way. */
export const hostAddress = (i: number): string => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

export interface GeneratedHost {
  name: string;
  environment: string;
  roles: string[];
  tags: string[];
  interfaces: Record<string, string[]>;
  lan: string;
  users: Record<string, number>;
  attributes: Record<string, string>;
}

export function generateInventory(count: number, seed = 1): { hosts: GeneratedHost[] } {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const hosts = Array.from({ length: count }, (_, i): GeneratedHost => {
    const roles = [...new Set([pick(ROLES), ...(random() < 0.3 ? [pick(ROLES)] : [])])];
    const tags = [...new Set([pick(TAGS), ...(random() < 0.2 ? [pick(TAGS)] : [])])];
    return {
      name: `host-${String(i).padStart(5, '0')}`,
      environment: ENVIRONMENTS[i % ENVIRONMENTS.length] as string,
      roles,
      tags,
      interfaces: { eth0: [hostAddress(i), `2001:db8:${(i >> 8).toString(16)}::${(i & 255).toString(16)}`] },
      lan: 'eth0',
      users: USERS,
      attributes: { rack: `r${i % 40}` },
    };
  });
  return { hosts };
}

export interface GeneratedRule {
  on: string;
  direction: 'in' | 'out';
  protocol: 'tcp' | 'udp';
  user?: string;
  source?: string[];
  destination?: string[];
  dport: number | string;
  options?: string[];
}

export function generatePolicy(ruleCount: number, seed = 2): { settings: Record<string, unknown>; rules: Record<string, GeneratedRule> } {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const rules: Record<string, GeneratedRule> = {};
  for (let i = 0; i < ruleCount; i++) {
    const peer = random() < 0.4 ? `roles:${pick(ROLES)} AND SAMETAG` : random() < 0.9 ? `roles:${pick(ROLES)} OR roles:${pick(ROLES)}` : `10.${i % 200}.0.0/16`;
    const outbound = random() < 0.25;
    const rule: GeneratedRule = {
      on: `roles:${pick(ROLES)}`,
      direction: outbound ? 'out' : 'in',
      protocol: random() < 0.85 ? 'tcp' : 'udp',
      dport: random() < 0.8 ? 1000 + i : `${2000 + i}:${2010 + i}`,
      ...(outbound ? { user: pick(Object.keys(USERS)), destination: [peer] } : { source: [peer] }),
      ...(random() < 0.05 ? { options: ['disable_env_limit'] } : {}),
    };
    rules[`rule ${i}`] = rule;
  }
  return { settings: { output_drop: true }, rules };
}
