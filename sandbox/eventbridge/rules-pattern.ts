/**
 * EventBridge event-pattern matching, the documented subset certflow's rules can use: exact
 * values (an array is OR), nested objects, `prefix`, `suffix`, `equals-ignore-case`,
 * `anything-but` (a value, a list, or `{prefix}`), `exists` and `numeric` ranges. A field that an
 * event carries as an array matches when any element does. Every key of the pattern must match.
 */
export type EventPattern = { [field: string]: unknown };

export function matchesPattern(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, rule]) => matchesField(rule, field in event, event[field]));
}

function matchesField(rule: unknown, present: boolean, value: unknown): boolean {
  if (Array.isArray(rule)) return rule.some((matcher) => matchesValue(matcher, present, value));
  if (isObject(rule)) return present && isObject(value) && matchesPattern(rule, value);
  // EventBridge rejects a pattern whose leaf is not an array; treat it as never matching.
  return false;
}

function matchesValue(matcher: unknown, present: boolean, value: unknown): boolean {
  if (isObject(matcher) && 'exists' in matcher) return matcher.exists === (present && value !== undefined);
  if (!present) return false;
  const values = Array.isArray(value) ? value : [value];
  return values.some((candidate) => matchesOne(matcher, candidate));
}

function matchesOne(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) return matcher === value;
  if ('prefix' in matcher) return typeof value === 'string' && typeof matcher.prefix === 'string' && value.startsWith(matcher.prefix);
  if ('suffix' in matcher) return typeof value === 'string' && typeof matcher.suffix === 'string' && value.endsWith(matcher.suffix);
  if ('equals-ignore-case' in matcher) return typeof value === 'string' && typeof matcher['equals-ignore-case'] === 'string' && value.toLowerCase() === matcher['equals-ignore-case'].toLowerCase();
  if ('anything-but' in matcher) return anythingBut(matcher['anything-but'], value);
  if ('numeric' in matcher) return Array.isArray(matcher.numeric) && typeof value === 'number' && numeric(matcher.numeric, value);
  return false;
}

function anythingBut(excluded: unknown, value: unknown): boolean {
  if (Array.isArray(excluded)) return !excluded.includes(value);
  if (isObject(excluded) && 'prefix' in excluded) return typeof value === 'string' && typeof excluded.prefix === 'string' && !value.startsWith(excluded.prefix);
  return value !== excluded;
}

/** `numeric: ['>', 0, '<=', 5]`: every (operator, operand) pair must hold. */
function numeric(conditions: unknown[], value: number): boolean {
  for (let index = 0; index + 1 < conditions.length; index += 2) {
    const operator = conditions[index];
    const operand = conditions[index + 1];
    if (typeof operand !== 'number') return false;
    const holds =
      operator === '=' ? value === operand : operator === '<' ? value < operand : operator === '<=' ? value <= operand : operator === '>' ? value > operand : operator === '>=' ? value >= operand : false;
    if (!holds) return false;
  }
  return conditions.length >= 2;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
