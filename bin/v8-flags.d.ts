/** V8's settings for palisade's process (bin/v8-flags.js). */
export const V8_FLAGS: string;
