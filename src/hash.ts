/** The one content hash of the project: what is loaded, what a host published, what a fleet holds. */
import { createHash } from 'node:crypto';

/** sha256 of the text, hex. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
