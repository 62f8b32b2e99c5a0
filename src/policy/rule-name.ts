/** Rule names: free text shown in comments and logs, so only control characters are refused (renderers escape the rest). */
import type { Node } from 'yaml';
import type { SourceFile } from './yaml-source.ts';

const MAX_LENGTH = 200;

/** Reports an invalid rule name; true when the name is valid. */
export function checkRuleName(file: SourceFile, name: string, node: Node): boolean {
  const problem =
    name.trim() === ''
      ? 'a rule name must not be empty'
      : name.length > MAX_LENGTH
        ? `a rule name must be at most ${MAX_LENGTH} characters (this one has ${name.length})`
        : /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)
          ? 'a rule name must not contain line breaks or control characters'
          : null;
  if (problem !== null) file.error(node, problem, name);
  return problem === null;
}
