/**
 * Service names accepted wherever a port is, as in `dport: https`: the system's /etc/services (Debian's netbase)
 * when present, then a built-in list (names the system file lacks, and machines without one).
 */
import { readFileSync } from 'node:fs';

export const SERVICES_FILE = '/etc/services';
/** /etc/services holds a few hundred lines; a bigger file is not one. */
const SERVICES_FILE_MAX = 4 * 1024 * 1024;

/** The built-in list. */
export const SERVICES: ReadonlyMap<string, number> = new Map([
  ['ftp-data', 20],
  ['ftp', 21],
  ['ssh', 22],
  ['telnet', 23],
  ['smtp', 25],
  ['domain', 53],
  ['dns', 53],
  ['bootps', 67],
  ['bootpc', 68],
  ['tftp', 69],
  ['http', 80],
  ['kerberos', 88],
  ['pop3', 110],
  ['sunrpc', 111],
  ['ntp', 123],
  ['imap', 143],
  ['snmp', 161],
  ['snmp-trap', 162],
  ['bgp', 179],
  ['ldap', 389],
  ['https', 443],
  ['smtps', 465],
  ['syslog', 514],
  ['submission', 587],
  ['ldaps', 636],
  ['rsync', 873],
  ['imaps', 993],
  ['pop3s', 995],
  ['openvpn', 1194],
  ['mssql', 1433],
  ['radius', 1812],
  ['nfs', 2049],
  ['etcd-client', 2379],
  ['etcd-peer', 2380],
  ['mysql', 3306],
  ['rdp', 3389],
  ['epmd', 4369],
  ['sip', 5060],
  ['postgresql', 5432],
  ['postgres', 5432],
  ['nrpe', 5666],
  ['amqps', 5671],
  ['amqp', 5672],
  ['redis', 6379],
  ['kube-apiserver', 6443],
  ['http-alt', 8080],
  ['statsd', 8125],
  ['consul', 8500],
  ['haproxy-stats', 8404],
  ['https-alt', 8443],
  ['prometheus', 9090],
  ['alertmanager', 9093],
  ['node-exporter', 9100],
  ['kafka', 9092],
  ['elasticsearch', 9200],
  ['zabbix-agent', 10050],
  ['zabbix-trapper', 10051],
  ['kubelet', 10250],
  ['memcached', 11211],
  ['rabbitmq-management', 15672],
  ['wireguard', 51820],
  ['mongodb', 27017],
  ['zookeeper', 2181],
]);

/** `name port/proto [aliases...] [# comment]` lines; names and aliases map to the port (the first line wins). */
export function parseServicesFile(text: string): Map<string, number> {
  const services = new Map<string, number>();
  for (const line of text.split('\n')) {
    const fields = (line.split('#')[0] ?? '').trim().split(/\s+/);
    const [name, portProto, ...aliases] = fields;
    const match = /^(\d{1,5})\/(tcp|udp|sctp|dccp)$/.exec(portProto ?? '');
    const port = Number(match?.[1]);
    if (name === undefined || match === null || port < 1 || port > 65535) continue;
    for (const alias of [name, ...aliases]) {
      const key = alias.toLowerCase();
      if (/^[a-z0-9][a-z0-9_.+-]{0,63}$/.test(key) && !services.has(key)) services.set(key, port);
    }
  }
  return services;
}

let system: ReadonlyMap<string, number> | undefined;

/** The system's services, read once (none when the file is missing, unreadable or too big). */
function systemServices(): ReadonlyMap<string, number> {
  if (system === undefined) {
    try {
      const text = readFileSync(SERVICES_FILE, 'utf8');
      system = text.length > SERVICES_FILE_MAX ? new Map() : parseServicesFile(text);
    } catch {
      system = new Map();
    }
  }
  return system;
}

/** The port of a service name (lower case): the system's first, then the built-in list. */
export function servicePort(name: string): number | undefined {
  return systemServices().get(name) ?? SERVICES.get(name);
}

/** Every known service name, for did-you-mean hints. */
export function serviceNames(): string[] {
  return [...new Set([...systemServices().keys(), ...SERVICES.keys()])];
}
