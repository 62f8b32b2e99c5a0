/**
 * Runs kernel tools (nft, iptables-restore, ipset, ip), optionally inside a network namespace through
 * nsenter, with text on stdin; a non-zero exit becomes a KernelError carrying the tool's stderr.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { KernelError } from './error.ts';

/** Where kernel commands act: a named network namespace, or null for the current one. */
export interface Target {
  netns: string | null;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
  /** The tool's pid (also through nsenter, which execs it): nft's monitor names it as a change's author. */
  pid: number | undefined;
}

/** Who wants to see every tool run (tests counting kernel calls): the argv as run. */
const observers = new Set<(argv: readonly string[]) => void>();

/** Calls fn with the argv of every tool run from now on; returns a function that stops it. */
export function observeTools(fn: (argv: readonly string[]) => void): () => void {
  observers.add(fn);
  return () => observers.delete(fn);
}

/**
 * The argv that runs `tool args` in the target. nsenter enters only the network namespace: `ip netns exec` also
 * mounts a sysfs of its own, where /sys/fs/cgroup is not the machine's, so nft could not resolve a service rule's
 * cgroup path there. Like `ip netns exec`, nsenter execs the tool (its pid is the tool's).
 */
export function commandLine(target: Target, tool: string, args: readonly string[]): string[] {
  return target.netns === null ? [tool, ...args] : ['nsenter', `--net=/run/netns/${target.netns}`, tool, ...args];
}

/** The file spawn runs for `tool`: the first executable file of that name in PATH (a path as it is); null when none. */
export function toolFile(tool: string): string | null {
  if (tool.includes('/')) return tool;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = join(dir === '' ? '.' : dir, tool);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      /* Not this directory's. */
    }
  }
  return null;
}

/** Runs the tool and resolves with its output whatever its exit code; rejects only when it cannot start. */
export function execTool(target: Target, tool: string, args: readonly string[], input?: string): Promise<ToolResult> {
  const argv = commandLine(target, tool, args);
  for (const observe of observers) observe(argv);
  const [command, ...rest] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    /* Without input, the tool's stdin is /dev/null: no pipe to make and end. */
    const child = input === undefined ? spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(command, rest, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (cause) => reject(new KernelError(`cannot run ${command}: ${cause.message}`)));
    child.on('close', (code, signal) => {
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? (signal === null ? 1 : 128),
        pid: child.pid,
      });
    });
    /* A tool that exits before reading all of its input closes the pipe: its exit code says why. */
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** Runs the tool; a non-zero exit throws a KernelError saying what was being done. */
export async function runTool(target: Target, tool: string, args: readonly string[], input?: string, doing?: string): Promise<string> {
  return (await runToolResult(target, tool, args, input, doing)).stdout;
}

/** runTool, with the whole result (the tool's pid too). */
export async function runToolResult(target: Target, tool: string, args: readonly string[], input?: string, doing?: string): Promise<ToolResult> {
  const result = await execTool(target, tool, args, input);
  if (result.code !== 0) {
    const where = target.netns === null ? '' : ` in network namespace ${target.netns}`;
    throw new KernelError(`${doing ?? `${tool} ${args.join(' ')}`} failed${where} (exit ${result.code})`, result.stderr.trim());
  }
  return result;
}
