/** The one wording of why a rule is in a ruleset, for explain, plan and apply diffs, the SSH guard and the lab. */
import type { RuleOrigin } from './ir.ts';

/** `rule "web"`, `raw rule "docker"`, `failsafe in #1`, `the base rule for established`, `a log rule`, `the default policy (drop)`. */
export function describeOrigin(origin: RuleOrigin): string {
  switch (origin.kind) {
    case 'rule':
      return `rule "${origin.rule}"`;
    case 'raw':
      return `raw rule "${origin.rule}"`;
    case 'failsafe':
      return `failsafe ${origin.direction} #${origin.index + 1}`;
    case 'base':
      return `the base rule for ${origin.what}`;
    case 'log':
      return 'a log rule';
    case 'default':
      return `the default policy (${origin.policy})`;
  }
}
