/**
 * The console's size target: 10,000 hosts in 200 roles (50 per environment, one role per host, 25 team tags) and
 * 400 rules between roles (most within an environment, some SAMETAG, some across environments), generated
 * deterministically. Used by the browser test (the map is interactive within 2 s) and `npm run bench`.
 */
export const CONSOLE_ENVIRONMENTS = ['production', 'staging', 'qa', 'dev'];
export const CONSOLE_ROLES = 200;

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const environmentOf = (role: number): string => CONSOLE_ENVIRONMENTS[role % CONSOLE_ENVIRONMENTS.length] as string;

export function consoleInventory(count = 10_000): { hosts: unknown[] } {
  const random = seeded(7);
  return {
    hosts: Array.from({ length: count }, (_, i) => {
      const role = i % CONSOLE_ROLES;
      return {
        name: `node-${String(i).padStart(5, '0')}`,
        environment: environmentOf(role),
        roles: [`svc${role}`],
        tags: [`team${Math.floor(random() * 25)}`],
        interfaces: { eth0: [`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`] },
        lan: 'eth0',
        users: { root: 0, app: 1001 },
      };
    }),
  };
}

export function consolePolicy(ruleCount = 400): { settings: Record<string, unknown>; rules: Record<string, unknown> } {
  const random = seeded(11);
  const rules: Record<string, unknown> = {};
  for (let i = 0; i < ruleCount; i++) {
    const on = Math.floor(random() * CONSOLE_ROLES);
    const across = random() < 0.1;
    /* A peer role of the same environment (roles ≡ mod 4), or any role with disable_env_limit. */
    const peer = across ? Math.floor(random() * CONSOLE_ROLES) : (Math.floor(random() * (CONSOLE_ROLES / 4)) * 4 + (on % 4)) % CONSOLE_ROLES;
    const query = `roles:svc${peer}${random() < 0.2 ? ' AND SAMETAG' : ''}`;
    const outbound = random() < 0.3;
    rules[`rule ${i}`] = {
      on: `roles:svc${on}`,
      direction: outbound ? 'out' : 'in',
      protocol: random() < 0.85 ? 'tcp' : 'udp',
      dport: 1000 + i,
      ...(outbound ? { user: 'app', destination: [query] } : { source: [query] }),
      ...(across ? { options: ['disable_env_limit'] } : {}),
    };
  }
  return { settings: { input_drop: true, output_drop: true }, rules };
}
