/** Types of bin/fresh.js, for the TypeScript that imports it (bench). */
export function newestSource(): number;
export function isFresh(artifact: string): boolean;
