/** Types of scripts/build.js, for the TypeScript that imports it (test/cli/startup.test.ts). */
import type { BuildOptions } from 'esbuild';

export const CLI_DIR: string;
export const CLI_ENTRY: string;
export function splitOptions(): Promise<BuildOptions & { write: false }>;
/** dist/cli/, or the same laid out in `dir`; resolves to its entry. */
export function buildCli(dir?: string): Promise<string>;
export function buildBundle(): Promise<string>;
