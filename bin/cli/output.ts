/**
 * Output for humans (aligned text, progress on a terminal) or machines (`--json`: one JSON
 * document on stdout, nothing else). Never prints a share, a token or KMS plaintext: callers
 * pass identifiers, states and reasons only.
 */
export interface Output {
  json: boolean;
  /** A progress line: shown on a terminal (rewritten in place) and in plain text mode, never in JSON mode. */
  progress(message: string): void;
  line(message?: string): void;
  table(rows: ReadonlyArray<ReadonlyArray<string>>): void;
  result(document: unknown): void;
}

export function createOutput(options: { json: boolean; stream?: NodeJS.WriteStream }): Output {
  const stream = options.stream ?? process.stdout;
  const tty = Boolean(stream.isTTY);
  let pendingProgress = false;
  const clearProgress = () => {
    if (pendingProgress) {
      stream.write('\r\x1b[2K');
      pendingProgress = false;
    }
  };
  return {
    json: options.json,
    progress(message) {
      if (options.json) return;
      if (tty) {
        clearProgress();
        stream.write(`… ${message}`);
        pendingProgress = true;
      } else {
        stream.write(`… ${message}\n`);
      }
    },
    line(message = '') {
      if (options.json) return;
      clearProgress();
      stream.write(`${message}\n`);
    },
    table(rows) {
      if (options.json || rows.length === 0) return;
      clearProgress();
      const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
      for (const row of rows) stream.write(`  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
    },
    result(document) {
      if (!options.json) return;
      stream.write(`${JSON.stringify(document, null, 2)}\n`);
    },
  };
}
