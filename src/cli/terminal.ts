/**
 * Colour and progress for people at a terminal, never for scripts: colour only when the stream is a TTY, NO_COLOR
 * is unset or empty (no-color.org), TERM is not `dumb` and `--no-color` was not given; progress only on a TTY
 * stderr, rewritten in place and erased when done, so stdout stays clean for pipes.
 */

const CODES = { red: 31, green: 32, yellow: 33 } as const;
const paint = (colour: keyof typeof CODES, text: string): string => `\u001b[${CODES[colour]}m${text}\u001b[39m`;

export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb' && !argv.includes('--no-color');
}

/** Verdicts, diffs and errors in colour, line by line; JSON is left as it is. */
export function highlight(text: string): string {
  if (/^\s*[[{]/.test(text)) return text;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(\+ |added\b)/.test(line)) return paint('green', line);
      if (/^\s*(- |removed\b)/.test(line)) return paint('red', line);
      if (/^\s*~ /.test(line)) return paint('yellow', line);
      return line
        .replace(/\b(ALLOWED|ACCEPTED)\b/g, (w) => paint('green', w))
        .replace(/\b(DENIED|DROPPED|REJECTED)\b/g, (w) => paint('red', w))
        .replace(/^(error|internal error):/, (w) => paint('red', w))
        .replace(/^(warning|drift[^:]*):/, (w) => paint('yellow', w));
    })
    .join('\n');
}

export interface Progress {
  /** Step `done` of `total`. */
  tick(done: number): void;
  /** Erases the line. */
  end(): void;
}

const QUIET: Progress = { tick: () => undefined, end: () => undefined };
const EVERY_MS = 100;

/** `label 120/18000` on a TTY stderr, at most every 100 ms; nothing otherwise. */
export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY !== true) return QUIET;
  let last = 0;
  let shown = false;
  return {
    tick(done) {
      const now = Date.now();
      if (now - last < EVERY_MS && done < total) return;
      last = now;
      shown = true;
      stream.write(`\r\u001b[2K${label} ${done}/${total}`);
    },
    end() {
      if (shown) stream.write('\r\u001b[2K');
    },
  };
}

/** A progress line for work that tells its total as it goes (`tick(done, total)`): made on the first tick; see progress(). */
export function progressSink(label: string, stream: NodeJS.WriteStream = process.stderr): { tick(done: number, total: number): void; end(): void } {
  let bar: Progress | null = null;
  return {
    tick(done, total) {
      bar ??= progress(label, total, stream);
      bar.tick(done);
    },
    end() {
      bar?.end();
    },
  };
}
