/** "Did you mean ...?" hints for misspelt keys and values. */
import { closest, distance } from 'fastest-levenshtein';

/** The closest candidate when it is near enough to be a plausible typo (or a word containing it, like `chef_environment`), else null. */
export function nearest(word: string, candidates: readonly string[]): string | null {
  if (candidates.length === 0) return null;
  const best = closest(word.toLowerCase(), candidates);
  const allowed = (word.length <= 2 ? 1 : 2) + Math.floor(word.length / 6);
  const contained = best.length >= 4 && word.toLowerCase().includes(best);
  return contained || distance(word.toLowerCase(), best) <= allowed ? best : null;
}

/** ` (did you mean "x"?)`, or an empty string when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = nearest(word, candidates);
  return best === null ? '' : ` (did you mean "${best}"?)`;
}
