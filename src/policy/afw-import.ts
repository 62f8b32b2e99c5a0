/**
 * AFW Chef role JSON (`default_attributes.afw.rules`, `override_attributes.afw.rules`) imported as rules
 * carried by the role's hosts (`on: roles:<role>`). A rule hash with `table`/`rule` is an AFW predefined
 * rule and becomes an iptables-only raw rule. Parsed with the yaml package, so errors have positions.
 */
import { isMap, type Node } from 'yaml';
import type { QueryNode } from '../query/ast.ts';
import { emptyPart, type FilePart } from './file-part.ts';
import { booleanField, stringField } from './fields.ts';
import { defaultSettings } from './settings.ts';
import type { Settings } from './types.ts';
import { parseQueryAt } from './query-text.ts';
import { parseIptables, rawRule } from './raw.ts';
import { parseRule } from './rule.ts';
import { checkRuleName } from './rule-name.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

/** `roles:<name>`, the value quoted when it has characters a bare query value cannot. */
export function roleQueryText(role: string): string {
  return /^[\p{L}\p{N}_\-.@]+$/u.test(role) ? `roles:${role}` : `roles:"${role.replace(/["\\]/g, '\\$&')}"`;
}

function entry(file: SourceFile, node: Node | null, key: string): Entry | undefined {
  return isMap(node) ? file.entries(node, key)?.find((e) => e.key === key) : undefined;
}

/** AFW's switches (attributes/default.rb) and the Palisade settings they set. */
const AFW_SWITCHES = {
  enable_input_drop: 'inputDrop',
  enable_output_drop: 'outputDrop',
  enable_input_drop_log: 'inputDropLog',
  enable_output_drop_log: 'outputDropLog',
  use_rule_comments: 'ruleComments',
} as const;

/**
 * The role's `afw.*` settings as Palisade settings (null: the role sets none). Palisade's settings hold for the
 * whole policy, so a role that sets them is the policy's one place of settings ("given twice" otherwise). What
 * has no Palisade meaning is refused, never ignored.
 */
function afwSettings(file: SourceFile, role: Entry[]): { value: Settings; keyNode: Node } | null {
  let settings: { value: Settings; keyNode: Node } | null = null;
  for (const level of ['default_attributes', 'override_attributes']) {
    const attributes = role.find((e) => e.key === level)?.value ?? null;
    const afw = entry(file, attributes, 'afw');
    if (afw === undefined || !isMap(afw.value)) continue;
    for (const setting of file.entries(afw.value, 'afw') ?? []) {
      if (setting.key === 'rules') continue;
      if (setting.key in AFW_SWITCHES) {
        const value = booleanField(file, setting);
        if (value === null) continue;
        settings ??= { value: defaultSettings(), keyNode: setting.keyNode };
        settings.value[AFW_SWITCHES[setting.key as keyof typeof AFW_SWITCHES]] = value;
      } else if (setting.key === 'enable') {
        file.error(setting.keyNode, '"afw.enable" has no Palisade equivalent: a host without palisade rules is one whose roles carry none (or use "palisade stop" on it)');
      } else {
        file.error(setting.keyNode, `"afw.${setting.key}" has no Palisade equivalent (role settings are ${Object.keys(AFW_SWITCHES).join(', ')}); remove it or give it in a policy file's settings`);
      }
    }
  }
  return settings;
}

/** `<attributes>.afw.rules` entries of the role, the override ones replacing default ones of the same name. */
function afwRules(file: SourceFile, role: Entry[]): Map<string, Entry> | null {
  const rules = new Map<string, Entry>();
  let found = false;
  for (const level of ['default_attributes', 'override_attributes']) {
    const attributes = role.find((e) => e.key === level)?.value ?? null;
    const afw = entry(file, attributes, 'afw')?.value ?? null;
    const section = entry(file, afw, 'rules');
    if (section === undefined) continue;
    found = true;
    if (section.value === null) continue;
    for (const rule of file.entries(section.value, 'afw.rules') ?? []) rules.set(rule.key, rule);
  }
  return found ? rules : null;
}

function importRule(file: SourceFile, part: FilePart, name: string, rule: Entry, on: { text: string; query: QueryNode }): void {
  if (isMap(rule.value) && (rule.value.has('table') || rule.value.has('rule'))) {
    const before = file.diagnostics.length;
    const predefined = file.entries(rule.value, 'predefined rule', { rule: name, known: ['table', 'rule'], noun: 'key in a predefined rule' }) ?? [];
    const iptables = parseIptables(file, predefined, rule.value ?? rule.keyNode, name);
    if (iptables !== null && file.diagnostics.length === before) part.raw.push(rawRule(file, name, rule.keyNode, on, null, null, iptables));
    return;
  }
  const parsed = parseRule(file, name, rule.keyNode, rule.value, on);
  if (parsed !== null) part.rules.push(parsed);
}

export function parseAfwRole(file: SourceFile): FilePart {
  const part = emptyPart(file);
  const role = file.entries(file.root, 'a Chef role');
  if (role === null) return part;
  const nameEntry = role.find((e) => e.key === 'name');
  if (nameEntry === undefined) file.error(file.root, 'a Chef role needs "name": its rules go to the hosts with that role');
  const roleName = nameEntry === undefined ? null : stringField(file, nameEntry);
  part.settings = afwSettings(file, role);
  const rules = afwRules(file, role);
  if (rules === null && part.settings !== null) return part;
  if (rules === null) {
    file.warning(file.root, 'no afw.rules in this role');
    return part;
  }
  if (roleName === null || nameEntry?.value == null) return part;
  const text = roleQueryText(roleName);
  const query = parseQueryAt(file, nameEntry.value, text, roleName);
  if (query === null) return part;
  for (const [name, rule] of rules) {
    part.declared.push({ name, pos: file.pos(rule.keyNode) });
    if (checkRuleName(file, name, rule.keyNode)) importRule(file, part, name, rule, { text, query });
  }
  return part;
}
