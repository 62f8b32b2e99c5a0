/** The host model of DESIGN.md ("Words", "Inventory file"). */
import type { Diagnostic, SourcePos } from '../diagnostics.ts';

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

/** Addresses of one host, split by family, in canonical text form (ipaddr.js toString / toNormalizedString-free). */
export interface AddressSet {
  v4: string[];
  v6: string[];
}

export interface Host {
  name: string;
  environment: string;
  roles: string[];
  tags: string[];
  /** interface name -> addresses (single hosts, v4 and v6, canonical text) */
  interfaces: Record<string, string[]>;
  /** the default interface; absent = every interface is the host's address for queries */
  lan?: string;
  /** local user -> uid */
  users: Record<string, number>;
  attributes: Record<string, AttributeValue>;
  /** Derived: the addresses a query selecting this host yields (the `lan` interface's, or all). Sorted, unique. */
  addresses: AddressSet;
  /** Where the host was declared, for error messages. */
  origin?: SourcePos;
}

export interface Inventory {
  hosts: Host[];
  /** What the inventory was loaded from (file path, `exec:...`, `etcd://...`). */
  source: string;
  /** Content hash of the hosts (stable across key order), to tell what a ruleset was compiled from. */
  revision: string;
  /** Warnings found while loading (errors are thrown as InputError). */
  diagnostics: Diagnostic[];
}
