import { styleText } from 'node:util';
import { stringify as toYaml } from 'yaml';

/**
 * Output for humans (aligned text, progress on a terminal) or machines (`-o json|yaml`: one
 * document on stdout, nothing else). Never prints a share, a token or KMS plaintext: callers
 * pass identifiers, states and reasons only.
 */
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'wide', 'json', 'yaml'];

/**
 * Text output fits this many columns (a terminal, a ticket, a review comment); `-o wide` lifts it.
 * A single word longer than this (an ARN) is never broken, so it stays pasteable: commands print
 * run names in text and whole ARNs in `-o wide` and the machine formats.
 */
export const TEXT_COLUMNS = 100;

export interface Output {
  /** True in a machine format (json or yaml): only `result` writes, once. */
  json: boolean;
  format: OutputFormat;
  /** `-o wide`: text without the column limit, with what the narrow form leaves out. */
  wide: boolean;
  /** --verbose: show what is normally hidden (synthesis output, per-step detail). */
  verbose: boolean;
  /** A progress line: on a terminal rewritten in place; hidden with --quiet and in machine formats. */
  progress(message: string): void;
  /** Text, wrapped at word boundaries to TEXT_COLUMNS unless `-o wide`. */
  line(message?: string): void;
  /** A command or an `export` to copy and run: never wrapped, since a wrapped one would not run. */
  command(text: string): void;
  /** Aligned columns; a narrow table cuts the widest cell (marked …) except in the `whole` columns. */
  table(rows: ReadonlyArray<ReadonlyArray<string>>, options?: { whole?: readonly number[] }): void;
  result(document: unknown): void;
  /** Colours for emphasis, a no-op unless stdout is a terminal and colour is allowed. */
  paint: Paint;
}

export interface Paint {
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export interface OutputOptions {
  format?: OutputFormat;
  quiet?: boolean;
  verbose?: boolean;
  /** false for --no-color; undefined lets the terminal and NO_COLOR / FORCE_COLOR decide. */
  color?: boolean;
  stream?: NodeJS.WriteStream;
}

/** Colour follows the no-color.org convention: NO_COLOR set (non-empty) turns it off everywhere. */
export function colorEnabled(stream: NodeJS.WriteStream, requested: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (requested === false) return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function createPaint(enabled: boolean): Paint {
  // validateStream: false because colorEnabled has already decided; Node's own check would also
  // drop colour whenever CI is set, which made the terminal output differ between CI and a desk.
  const style = (format: Parameters<typeof styleText>[0]) => (text: string) => (enabled ? styleText(format, text, { validateStream: false }) : text);
  return { ok: style('green'), bad: style('red'), warn: style('yellow'), dim: style('dim'), bold: style('bold') };
}

export function createOutput(options: OutputOptions = {}): Output {
  const stream = options.stream ?? process.stdout;
  const format = options.format ?? 'table';
  const machine = format === 'json' || format === 'yaml';
  const wide = format === 'wide';
  const tty = Boolean(stream.isTTY);
  const paint = createPaint(colorEnabled(stream, options.color));
  let pendingProgress = false;
  const clearProgress = () => {
    if (pendingProgress) {
      stream.write('\r\x1b[2K');
      pendingProgress = false;
    }
  };
  return {
    json: machine,
    format,
    wide,
    verbose: options.verbose ?? false,
    paint,
    progress(message) {
      if (machine || options.quiet) return;
      if (tty) {
        clearProgress();
        stream.write(paint.dim(`… ${message}`));
        pendingProgress = true;
      } else {
        stream.write(`… ${message}\n`);
      }
    },
    line(message = '') {
      if (machine) return;
      clearProgress();
      stream.write(`${wide ? message : wrapText(message, TEXT_COLUMNS)}\n`);
    },
    command(text) {
      if (machine) return;
      clearProgress();
      stream.write(`${text}\n`);
    },
    table(rows, tableOptions = {}) {
      if (machine || rows.length === 0) return;
      clearProgress();
      const fitted = wide ? rows : fitTable(rows, TEXT_COLUMNS, tableOptions.whole ?? []);
      const widths = fitted[0]!.map((_, column) => Math.max(...fitted.map((row) => (row[column] ?? '').length)));
      for (const row of fitted) stream.write(`  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
    },
    result(document) {
      if (!machine) return;
      stream.write(format === 'yaml' ? toYaml(document) : `${JSON.stringify(document, null, 2)}\n`);
    },
  };
}

/**
 * Wraps each line of `text` at word boundaries to `columns`, continuing with four spaces more than
 * the line's own indent. A word longer than a line is kept whole on a line of its own, and a
 * shell `export` line is kept whole (it would not run wrapped).
 */
export function wrapText(text: string, columns: number): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.length <= columns || /^\s*export /.test(line)) return line;
      const indent = /^\s*/.exec(line)![0];
      const continuation = `${indent}    `;
      const lines: string[] = [];
      let current = '';
      for (const word of line.slice(indent.length).split(/ +/)) {
        const prefix = lines.length === 0 ? indent : continuation;
        if (current && prefix.length + current.length + 1 + word.length > columns) {
          lines.push(prefix + current);
          current = word;
        } else {
          current = current ? `${current} ${word}` : word;
        }
      }
      lines.push((lines.length === 0 ? indent : continuation) + current);
      return lines.join('\n');
    })
    .join('\n');
}

/**
 * Cuts the widest cuttable column (ending its cells with …) until a row of the table, as
 * `table` prints it (two spaces before and between cells), fits `columns`.
 */
export function fitTable(rows: ReadonlyArray<ReadonlyArray<string>>, columns: number, whole: readonly number[]): string[][] {
  const fitted = rows.map((row) => [...row]);
  const count = Math.max(...fitted.map((row) => row.length));
  const widthOf = (column: number) => Math.max(...fitted.map((row) => (row[column] ?? '').length));
  const total = () => 2 + Array.from({ length: count }, (_, column) => widthOf(column)).reduce((sum, width) => sum + width, 0) + 2 * (count - 1);
  for (let excess = total() - columns; excess > 0; excess = total() - columns) {
    const cuttable = Array.from({ length: count }, (_, column) => column).filter((column) => !whole.includes(column) && widthOf(column) > 8);
    if (cuttable.length === 0) break;
    const column = cuttable.reduce((widest, candidate) => (widthOf(candidate) > widthOf(widest) ? candidate : widest));
    const target = Math.max(8, widthOf(column) - excess);
    for (const row of fitted) if ((row[column] ?? '').length > target) row[column] = `${row[column]!.slice(0, target - 1)}…`;
  }
  return fitted;
}
