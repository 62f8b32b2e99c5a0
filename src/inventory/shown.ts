/** A value from an inventory as a message shows it: its JSON, cut short when long; a value too deep for JSON is named as such. */
const LONGEST = 120;

export function shown(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return '(a value nested too deeply to show)';
  }
  text ??= String(value);
  return text.length <= LONGEST ? text : `${text.slice(0, LONGEST)}… (${text.length} characters)`;
}
