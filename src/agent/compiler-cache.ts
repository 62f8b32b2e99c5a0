/**
 * Agents sharing one process (a host that keeps its VMs' firewalls, the benchmark's 1,000 agents) read the
 * same fleet state: they share its compiler, so the sets every host uses are built once, not once per
 * agent. Keyed by what a compile depends on: the policy and inventory revisions, the resolved names, the control plane,
 * the rules expired by now and the services running.
 * The few newest states are kept, so agents a change apart do not evict each other.
 */
import { FleetCompiler, type CompileInputs } from '../compile/compile.ts';
import { controlPlaneKey } from '../compile/control-plane.ts';

const KEPT = 4;
const compilers = new Map<string, FleetCompiler>();

export function sharedCompiler(inputs: CompileInputs): FleetCompiler {
  /* What the time and the machine decide: which rules expired, which services run. */
  const now = inputs.now ?? Date.now();
  const expired = inputs.policy.rules.filter((r) => r.expires !== null && r.expires.at <= now).map((r) => r.name);
  const { serviceRunning, serviceCgroupId } = inputs;
  const running =
    serviceRunning === undefined ? null : inputs.policy.rules.flatMap((r) => (r.service !== null && serviceRunning(r.service.cgroup) ? [[r.service.cgroup, serviceCgroupId?.(r.service.cgroup) ?? null]] : []));
  const key = JSON.stringify([
    inputs.policy.revision,
    inputs.inventory.revision,
    [...inputs.names].sort(([a], [b]) => (a < b ? -1 : 1)),
    controlPlaneKey(inputs.controlPlane),
    expired,
    running,
    inputs.cgroupMount ?? null,
  ]);
  let compiler = compilers.get(key);
  if (compiler === undefined) {
    compiler = new FleetCompiler(inputs);
    compilers.set(key, compiler);
    for (const old of compilers.keys()) if (compilers.size > KEPT) compilers.delete(old);
  }
  return compiler;
}
