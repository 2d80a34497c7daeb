import { styleText } from 'node:util';
import { stringify as toYaml } from 'yaml';

/**
 * Output for humans (aligned text, progress on a terminal) or machines (`-o json|yaml`: one
 * document on stdout, nothing else). Never prints a share, a token or KMS plaintext: callers
 * pass identifiers, states and reasons only.
 */
export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

export interface Output {
  /** True in a machine format (json or yaml): only `result` writes, once. */
  json: boolean;
  format: OutputFormat;
  /** --verbose: show what is normally hidden (synthesis output, per-step detail). */
  verbose: boolean;
  /** A progress line: on a terminal rewritten in place; hidden with --quiet and in machine formats. */
  progress(message: string): void;
  line(message?: string): void;
  table(rows: ReadonlyArray<ReadonlyArray<string>>): void;
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
  const style = (format: Parameters<typeof styleText>[0]) => (text: string) => (enabled ? styleText(format, text) : text);
  return { ok: style('green'), bad: style('red'), warn: style('yellow'), dim: style('dim'), bold: style('bold') };
}

export function createOutput(options: OutputOptions = {}): Output {
  const stream = options.stream ?? process.stdout;
  const format = options.format ?? 'table';
  const machine = format !== 'table';
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
      stream.write(`${message}\n`);
    },
    table(rows) {
      if (machine || rows.length === 0) return;
      clearProgress();
      const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
      for (const row of rows) stream.write(`  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
    },
    result(document) {
      if (!machine) return;
      stream.write(format === 'yaml' ? toYaml(document) : `${JSON.stringify(document, null, 2)}\n`);
    },
  };
}
