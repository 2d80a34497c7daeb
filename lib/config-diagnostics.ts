import leven from 'leven';
import { LineCounter, parseDocument } from 'yaml';
import type * as z from 'zod';

/**
 * What makes a config error actionable: the field path, the line of the file it sits on, and for
 * a misspelled key the key that was probably meant. Kept apart from the schema (lib/config.ts) so
 * the schema stays a list of rules.
 */

/** A key this close to a known one (edits, as leven counts them) is reported as a likely typo. */
const MAX_SUGGESTION_DISTANCE = 2;

/** The known key nearest to `unknown`, if it is near enough to be a plausible typo. */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    // Case-only differences (skipTLSVerify vs skipTlsVerify) are the commonest slip: count them as one edit.
    const distance = key.toLowerCase() === unknown.toLowerCase() ? 1 : leven(unknown, key);
    if (distance <= MAX_SUGGESTION_DISTANCE && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

/**
 * zod error map: unknown keys named one by one, each with the nearest known key of the object
 * that refused it (the strict object is the issue's `inst`).
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  const known = shape ? Object.keys(shape) : [];
  const named = issue.keys.map((key) => {
    const suggestion = nearestKey(key, known);
    return suggestion ? `"${key}" (did you mean "${suggestion}"?)` : `"${key}"`;
  });
  return `unknown key${issue.keys.length > 1 ? 's' : ''} ${named.join(', ')}${known.length ? `; allowed: ${known.join(', ')}` : ''}`;
};

/**
 * Finds the line of a field path in the config's JSON text (JSON is YAML, so the yaml parser's
 * source ranges serve): the deepest existing node on the path, so a missing field points at its
 * parent object. Undefined when the text has no such node (a config given as an object).
 */
export function lineLocator(text: string): (path: ReadonlyArray<PropertyKey>) => number | undefined {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  return (path) => {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node = document.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/** `line N` of a JSON.parse failure, from the offset V8 puts in its message. */
export function jsonErrorLine(text: string, error: unknown): string {
  const position = /at position (\d+)/.exec((error as Error)?.message ?? '');
  if (!position) return (error as Error)?.message ?? 'not JSON';
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let offset = text.indexOf('\n'); offset >= 0; offset = text.indexOf('\n', offset + 1)) lineCounter.addNewLine(offset + 1);
  const { line, col } = lineCounter.linePos(Number(position[1]));
  return `line ${line}, column ${col}: ${(error as Error).message}`;
}
