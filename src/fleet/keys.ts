/** The key layout under the prefix (DESIGN.md "Fleet mode"): hosts/<name>, policy, status/<name>, flows/<name>. */

export interface Keys {
  /** `<prefix>/hosts/`: every host's facts. */
  hosts: string;
  policy: string;
  /** `<prefix>/status/`: what every agent applied. */
  status: string;
  /** `<prefix>/flows/`: every agent's summary of its denied or audited flows (issue 6). */
  flows: string;
  host(name: string): string;
  statusOf(name: string): string;
  flowsOf(name: string): string;
}

export function fleetKeys(prefix: string): Keys {
  return {
    hosts: `${prefix}/hosts/`,
    policy: `${prefix}/policy`,
    status: `${prefix}/status/`,
    flows: `${prefix}/flows/`,
    host: (name) => `${prefix}/hosts/${name}`,
    statusOf: (name) => `${prefix}/status/${name}`,
    flowsOf: (name) => `${prefix}/flows/${name}`,
  };
}

/** The name after `under` in `key`, or null when the key is not directly under it. */
export function nameUnder(key: string, under: string): string | null {
  if (!key.startsWith(under)) return null;
  const name = key.slice(under.length);
  return name === '' || name.includes('/') ? null : name;
}
