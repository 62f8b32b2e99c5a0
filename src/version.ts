/** Palisade's version, from package.json (bundled into the build, read from the file when run from source). */
import packageJson from '../package.json' with { type: 'json' };

export const VERSION: string = packageJson.version;
