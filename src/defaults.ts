/**
 * The defaults of what users can set by a flag: one light module (no imports), so that the command line shows
 * them in its help without loading the code that uses them (startup, docs/packaging.md).
 */

/** Where the applied state lives (`--state-dir`, else $PALISADE_STATE_DIR). */
export const DEFAULT_STATE_DIR = '/var/lib/palisade';
/** Where `install-service` writes the systemd units. */
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

/** The agent's liveness lease: `fleet status` reports it down after this long without a heartbeat. */
export const DEFAULT_TTL_SECONDS = 10;
/** Five minutes: longer than a restart, an upgrade or an OOM kill with Restart=always, short enough for address reuse (docs/fleet.md). */
export const DEFAULT_GRACE_SECONDS = 300;
/** After a load that changes rules: how long the agent tries to reach etcd before rolling back. */
export const DEFAULT_CONFIRM_WINDOW_S = 15;
/** How often the agent compares the kernel with the applied ruleset. */
export const DEFAULT_DRIFT_INTERVAL_MS = 60_000;
/** The agent applies once changes stop for this long... */
export const DEFAULT_QUIET_MS = 100;
/** ...and at the latest this long after the first change of a burst. */
export const DEFAULT_MAX_MS = 500;
/** How often the agent publishes its audited flows (`--flows-from`). */
export const DEFAULT_FLOWS_INTERVAL_MS = 30_000;
/** How often the agent reads its drop and reject counters, putting `counters/<name>` when they changed. */
export const DEFAULT_COUNTERS_INTERVAL_MS = 60_000;
/** The host's declared facts (lan, users). */
export const DEFAULT_FACTS_FILE = '/etc/palisade/host.yaml';
/** The agent's Prometheus endpoint port, when `--metrics` is on. */
export const DEFAULT_METRICS_PORT = 9742;

/** `push --canary --drop-factor`: a canary may drop this many times its rate before the push (0: no gate)... */
export const DEFAULT_DROP_FACTOR = 3;
/** ...plus this many packets per second (a quiet host's rate before is 0). */
export const MIN_DROP_RATE = 1;
/** How long the canaries report their drops under the current policy before they apply the candidate. */
export const DROP_BASELINE_MS = 5000;

/** etcd's default peer port. */
export const DEFAULT_ETCD_PEER_PORT = 2380;
/** Observed addresses kept per host unless its registration says otherwise (`max_addresses`). */
export const DEFAULT_MAX_ADDRESSES = 16;
