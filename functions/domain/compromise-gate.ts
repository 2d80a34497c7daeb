import { CompromiseEventSchema, PrintableText, type CompromiseReport } from '../contracts/compromise';

/**
 * The gate of the compromise response (DESIGN.md Compromise response; invariant I7): the raw
 * event a rule delivers is either a well-formed `Compromise Reported` event, or it is rejected
 * with a reason naming the field(s) at fault. A rejected event is data, not an error: the gate
 * never throws, whatever it is given (null, arrays, a proxy whose getters throw, a detail that is
 * a JSON string that does not parse, `__proto__` keys), so nothing past it sees a raw event.
 */
export type CompromiseGateResult = { valid: true; report: CompromiseReport } | { valid: false; reason: string };

/** EventBridge refuses events over 256 KB, so a detail string longer than that is not a real event. */
export const MAX_DETAIL_CHARS = 256 * 1024;
/** Reasons travel in events and logs: a few issues, each short, are enough to name the fields. */
const MAX_ISSUES = 5;
const MAX_REASON_CHARS = 1000;

export function validateCompromiseEvent(event: unknown): CompromiseGateResult {
  try {
    return decide(event);
  } catch (error) {
    // Only a hostile object (a throwing getter or proxy trap) gets here; its message is not ours to echo.
    return { valid: false, reason: `(root): the event could not be read (${error instanceof Error ? error.name : typeof error})` };
  }
}

function decide(event: unknown): CompromiseGateResult {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { valid: false, reason: `(root): expected an EventBridge event object, got ${describe(event)}` };
  }
  const detail = detailOf(own(event, 'detail'));
  if ('reason' in detail) return { valid: false, reason: detail.reason };
  const copied = ownData(detail.value, 0);
  if (copied.tooDeep) return { valid: false, reason: `detail: nested deeper than ${MAX_DEPTH} levels` };
  const parsed = CompromiseEventSchema.safeParse({ source: own(event, 'source'), 'detail-type': own(event, 'detail-type'), detail: copied.value });
  if (parsed.success) return { valid: true, report: parsed.data.detail };
  const issues = parsed.error.issues.map((issue) => `${issue.path.map((key) => String(key)).join('.') || '(root)'}: ${issue.message}`);
  const shown = issues.slice(0, MAX_ISSUES).join('; ') + (issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '');
  return { valid: false, reason: shown.length > MAX_REASON_CHARS ? `${shown.slice(0, MAX_REASON_CHARS)}…` : shown };
}

/** Only the event's own properties count: an inherited `detail` (a `__proto__` trick) is absent. */
function own(value: object, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

const MAX_DEPTH = 16;

/**
 * A copy of the detail made of own enumerable properties on null-prototype objects, so that
 * schema checks see exactly the data: a `__proto__` key stays an (unrecognized) key instead of
 * changing a prototype, and properties inherited from a crafted prototype do not count.
 */
function ownData(value: unknown, depth: number): { value: unknown; tooDeep: boolean } {
  if (typeof value !== 'object' || value === null) return { value, tooDeep: false };
  if (depth >= MAX_DEPTH) return { value: undefined, tooDeep: true };
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const copied = ownData(item, depth + 1);
      if (copied.tooDeep) return copied;
      items.push(copied.value);
    }
    return { value: items, tooDeep: false };
  }
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    const copied = ownData((value as Record<string, unknown>)[key], depth + 1);
    if (copied.tooDeep) return copied;
    Object.defineProperty(copy, key, { value: copied.value, enumerable: true, writable: true, configurable: true });
  }
  return { value: copy, tooDeep: false };
}

/** A rule may deliver the detail as an object, or (an API Destination, a CLI `put-events`) as JSON text. */
function detailOf(detail: unknown): { value: unknown } | { reason: string } {
  if (typeof detail !== 'string') return { value: detail };
  if (detail.length > MAX_DETAIL_CHARS) return { reason: `detail: a JSON string of ${detail.length} characters, over EventBridge's 256 KB limit` };
  try {
    return { value: JSON.parse(detail) as unknown };
  } catch {
    return { reason: 'detail: a string that is not valid JSON' };
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Who reported a rejected event, when that much can be read (for the `Compromise Rejected`
 * detail). Never throws; a non-string or oversized value is left out.
 */
export function reportedByOf(event: unknown): string | undefined {
  try {
    if (typeof event !== 'object' || event === null) return undefined;
    let detail = (event as Record<string, unknown>).detail;
    if (typeof detail === 'string' && detail.length <= MAX_DETAIL_CHARS) detail = JSON.parse(detail) as unknown;
    if (typeof detail !== 'object' || detail === null || !Object.prototype.hasOwnProperty.call(detail, 'reportedBy')) return undefined;
    // Only what would have passed the schema: a rejected report's reporter is echoed into an event too.
    const reportedBy = PrintableText(256).safeParse((detail as Record<string, unknown>).reportedBy);
    return reportedBy.success ? reportedBy.data : undefined;
  } catch {
    return undefined;
  }
}

/** The envelope's `time` (when EventBridge received the report), when it is a valid timestamp. */
export function reportedAtOf(event: unknown): string | undefined {
  try {
    if (typeof event !== 'object' || event === null) return undefined;
    const time = (event as Record<string, unknown>).time;
    if (typeof time !== 'string' || time.length > 64) return undefined;
    const parsed = new Date(time);
    return Number.isNaN(parsed.getTime()) ? undefined : parsed.toISOString();
  } catch {
    return undefined;
  }
}
