/**
 * Agents sharing one process (a host that keeps its VMs' firewalls, the benchmark's 1,000 agents) read the
 * same fleet state: they share its compiler, so the sets every host uses are built once, not once per
 * agent. Keyed by what a compile depends on: the policy and inventory revisions, the resolved names and the control plane.
 * The few newest states are kept, so agents a change apart do not evict each other.
 */
import { FleetCompiler, type CompileInputs } from '../compile/compile.ts';
import { controlPlaneKey } from '../compile/control-plane.ts';

const KEPT = 4;
const compilers = new Map<string, FleetCompiler>();

export function sharedCompiler(inputs: CompileInputs): FleetCompiler {
  const key = JSON.stringify([inputs.policy.revision, inputs.inventory.revision, [...inputs.names].sort(([a], [b]) => (a < b ? -1 : 1)), controlPlaneKey(inputs.controlPlane)]);
  let compiler = compilers.get(key);
  if (compiler === undefined) {
    compiler = new FleetCompiler(inputs);
    compilers.set(key, compiler);
    for (const old of compilers.keys()) if (compilers.size > KEPT) compilers.delete(old);
  }
  return compiler;
}
