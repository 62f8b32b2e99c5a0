/**
 * Builds dist/palisade_<version>_amd64.deb with dpkg-deb (no network): the single executable as
 * /usr/bin/palisade, the two systemd units (the same text `palisade install-service` writes), a commented
 * /etc/palisade/host.yaml and agent.env (conffiles), /var/lib/palisade, and the maintainer scripts of
 * packaging/debian. Reuses dist/palisade-linux-x64 when it is newer than the sources.
 * `npm run build:deb`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_UNIT, agentUnit, RESTORE_UNIT, restoreUnit } from '../src/apply/service.ts';
import { DEFAULT_STATE_DIR } from '../src/defaults.ts';
import { VERSION } from '../src/version.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const BIN = '/usr/bin/palisade';

/** The executable in dist/, built unless one newer than every source file is there. */
function binary(): string {
  const built = spawnSync(process.execPath, [join(root, 'scripts/build-binary.js'), '--reuse'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) throw new Error('building the executable failed');
  return join(root, 'dist/palisade-linux-x64');
}

function put(stage: string, path: string, text: string, mode: number): void {
  mkdirSync(dirname(join(stage, path)), { recursive: true });
  writeFileSync(join(stage, path), text, { mode });
  chmodSync(join(stage, path), mode);
}

export async function buildDeb(): Promise<string> {
  const executable = binary();
  const stage = mkdtempSync(join(tmpdir(), 'palisade-deb-'));
  chmodSync(stage, 0o755);
  try {
    mkdirSync(join(stage, 'usr/bin'), { recursive: true });
    copyFileSync(executable, join(stage, BIN));
    chmodSync(join(stage, BIN), 0o755);
    put(stage, `lib/systemd/system/${RESTORE_UNIT}`, restoreUnit(DEFAULT_STATE_DIR, [BIN]), 0o644);
    put(stage, `lib/systemd/system/${AGENT_UNIT}`, agentUnit(DEFAULT_STATE_DIR, [BIN]), 0o644);
    mkdirSync(join(stage, 'usr/share/man/man1'), { recursive: true });
    writeFileSync(join(stage, 'usr/share/man/man1/palisade.1.gz'), gzipSync(readFileSync(join(root, 'man/palisade.1')), { level: 9 }));
    mkdirSync(join(stage, 'etc/palisade'), { recursive: true });
    for (const name of ['host.yaml', 'agent.env']) copyFileSync(join(root, 'packaging/etc', name), join(stage, 'etc/palisade', name));
    mkdirSync(join(stage, DEFAULT_STATE_DIR), { recursive: true });
    chmodSync(join(stage, DEFAULT_STATE_DIR), 0o700);
    const installedKiB = Math.ceil(statSync(executable).size / 1024) + 16;
    put(
      stage,
      'DEBIAN/control',
      [
        'Package: palisade',
        `Version: ${VERSION}`,
        'Architecture: amd64',
        'Maintainer: Palisade developers <palisade@localhost>',
        `Installed-Size: ${installedKiB}`,
        'Depends: libc6, libstdc++6, libgcc-s1',
        'Recommends: nftables',
        'Suggests: iptables, ipset',
        'Section: net',
        'Priority: optional',
        'Description: per-host netfilter firewalls for a fleet, from generic inventory-query rules',
        ' Palisade compiles generic rules whose sources and destinations are inventory queries into each',
        " host's nftables (or iptables + ipset) ruleset, applies it atomically, and keeps it current across a",
        ' fleet through etcd. Installing the package changes no firewall and starts no service.',
        '',
      ].join('\n'),
      0o644,
    );
    put(stage, 'DEBIAN/conffiles', '/etc/palisade/host.yaml\n/etc/palisade/agent.env\n', 0o644);
    for (const script of ['postinst', 'prerm', 'postrm']) copyFileSync(join(root, 'packaging/debian', script), join(stage, 'DEBIAN', script));
    for (const script of ['postinst', 'prerm', 'postrm']) chmodSync(join(stage, 'DEBIAN', script), 0o755);
    const out = join(root, `dist/palisade_${VERSION}_amd64.deb`);
    const built = spawnSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', stage, out], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`dpkg-deb failed: ${built.stderr}`);
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`built ${await buildDeb()}`);
