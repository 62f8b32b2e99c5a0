/**
 * The ulogd2 configuration palisade ships for audit mode, examples/audit/ulogd.conf (a test keeps the two
 * the same): NFLOG group 7 as JSON lines. `lab audit` runs it in every lab namespace, embedded here so the
 * bundle and the single executable need no file beside them.
 */
export const SHIPPED_ULOGD_CONFIG = `# ulogd2 for palisade's audit mode: NFLOG group 7 (settings.audit.log_group) as JSON lines in
# /var/log/ulog/palisade-audit.json, the file \`palisade flows\` reads by default.
# Install: apt-get install ulogd2 ulogd2-json; copy to /etc/ulogd.conf; systemctl restart ulogd2.
[global]
logfile="/var/log/ulog/palisade-audit.log"
loglevel=3
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_inppkt_NFLOG.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_raw2packet_BASE.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IFINDEX.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IP2STR.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_output_JSON.so"
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,json1:JSON

[log1]
group=7
# Hand each record over at once (the kernel otherwise batches up to 100 records or 1 s).
netlink_qthreshold=1

[json1]
sync=1
file="/var/log/ulog/palisade-audit.json"
`;

/** The file name stem the shipped configuration writes to (`.json` records, `.log` ulogd's own log). */
export const SHIPPED_ULOGD_STEM = '/var/log/ulog/palisade-audit';

/** The shipped configuration writing to `stem`.json/.log and reading NFLOG group `group`. */
export function ulogdConfig(stem: string, group: number): string {
  return SHIPPED_ULOGD_CONFIG.replaceAll(SHIPPED_ULOGD_STEM, stem).replace(/^group=\d+$/m, `group=${group}`);
}
