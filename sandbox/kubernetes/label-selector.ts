import { badRequest } from './api-status';
import type { LabelSelectorSpec } from './kube-objects';

/**
 * Label selectors as k8s.io/apimachinery/pkg/labels parses them: `a=b`, `a==b`, `a!=b`,
 * `a in (x,y)`, `a notin (x,y)`, `a` (exists), `!a` (does not exist), `a>1`, `a<1`, joined by
 * commas. `!=` and `notin` also match objects without the label, as in Kubernetes.
 */

export type LabelOperator = 'equals' | 'notEquals' | 'in' | 'notIn' | 'exists' | 'doesNotExist' | 'greaterThan' | 'lessThan';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

export type LabelSelector = readonly LabelRequirement[];

type Token =
  | { readonly type: 'identifier'; readonly text: string }
  | { readonly type: 'in' | 'notin' | ',' | '(' | ')' | '=' | '==' | '!=' | '!' | '>' | '<' | 'end' };

const SPECIAL = new Set([' ', '\t', '\n', '\r', ',', '(', ')', '=', '!', '<', '>']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') {
      index += 1;
    } else if (char === ',' || char === '(' || char === ')' || char === '>' || char === '<') {
      tokens.push({ type: char });
      index += 1;
    } else if (char === '!') {
      if (text[index + 1] === '=') {
        tokens.push({ type: '!=' });
        index += 2;
      } else {
        tokens.push({ type: '!' });
        index += 1;
      }
    } else if (char === '=') {
      if (text[index + 1] === '=') {
        tokens.push({ type: '==' });
        index += 2;
      } else {
        tokens.push({ type: '=' });
        index += 1;
      }
    } else {
      let end = index;
      while (end < text.length && !SPECIAL.has(text[end]!)) end += 1;
      const word = text.slice(index, end);
      tokens.push(word === 'in' || word === 'notin' ? { type: word } : { type: 'identifier', text: word });
      index = end;
    }
  }
  tokens.push({ type: 'end' });
  return tokens;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is not a qualified name, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return 'prefix part must be a lowercase RFC 1123 subdomain';
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (63 characters at most)";
  }
  return undefined;
}

/** Why a label value is invalid, or undefined when it is valid (the empty string is). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

class SelectorParser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    if (this.peek().type === 'end') return requirements;
    for (;;) {
      requirements.push(this.requirement());
      const next = this.next();
      if (next.type === 'end') return requirements;
      if (next.type !== ',') throw this.error(`found '${describe(next)}', expected: ',' or 'end of string'`);
    }
  }

  private requirement(): LabelRequirement {
    if (this.peek().type === '!') {
      this.next();
      return { key: this.key(), operator: 'doesNotExist', values: [] };
    }
    const key = this.key();
    const operator = this.peek();
    switch (operator.type) {
      case ',':
      case 'end':
        return { key, operator: 'exists', values: [] };
      case '=':
      case '==':
        this.next();
        return { key, operator: 'equals', values: [this.value()] };
      case '!=':
        this.next();
        return { key, operator: 'notEquals', values: [this.value()] };
      case '>':
      case '<': {
        this.next();
        const value = this.value();
        if (!/^-?\d+$/.test(value)) throw this.error(`for 'Gt', 'Lt' operators, the value must be an integer`);
        return { key, operator: operator.type === '>' ? 'greaterThan' : 'lessThan', values: [value] };
      }
      case 'in':
      case 'notin':
        this.next();
        return { key, operator: operator.type === 'in' ? 'in' : 'notIn', values: this.valueSet() };
      default:
        throw this.error(`found '${describe(operator)}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  private key(): string {
    const token = this.next();
    if (token.type !== 'identifier') throw this.error(`found '${describe(token)}', expected: identifier`);
    const problem = labelKeyProblem(token.text);
    if (problem) throw this.error(`key: Invalid value: "${token.text}": ${problem}`);
    return token.text;
  }

  /** After `=`, `==`, `!=`: an identifier, or nothing (the empty value). */
  private value(): string {
    const token = this.peek();
    if (token.type === ',' || token.type === 'end') return '';
    this.next();
    if (token.type !== 'identifier') throw this.error(`found '${describe(token)}', expected: identifier`);
    const problem = labelValueProblem(token.text);
    if (problem) throw this.error(`values[0]: Invalid value: "${token.text}": ${problem}`);
    return token.text;
  }

  private valueSet(): string[] {
    const open = this.next();
    if (open.type !== '(') throw this.error(`found '${describe(open)}', expected: '('`);
    const values: string[] = [];
    for (;;) {
      const token = this.next();
      if (token.type === 'identifier') {
        const problem = labelValueProblem(token.text);
        if (problem) throw this.error(`values[${values.length}]: Invalid value: "${token.text}": ${problem}`);
        values.push(token.text);
        const after = this.next();
        if (after.type === ')') break;
        if (after.type !== ',') throw this.error(`found '${describe(after)}', expected: ',' or ')'`);
      } else if (token.type === ')') {
        break;
      } else {
        throw this.error(`found '${describe(token)}', expected: identifier`);
      }
    }
    if (values.length === 0) throw this.error(`for 'in', 'notin' operators, values set can't be empty`);
    return values;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    const token = this.tokens[this.position]!;
    if (token.type !== 'end') this.position += 1;
    return token;
  }

  private error(detail: string) {
    return badRequest(`unable to parse requirement: ${detail}`);
  }
}

function describe(token: Token): string {
  return token.type === 'identifier' ? token.text : token.type === 'end' ? '' : token.type;
}

/** Parses `?labelSelector=`; a malformed selector is a 400 BadRequest, as the API server answers it. */
export function parseLabelSelector(text: string): LabelSelector {
  return new SelectorParser(tokenize(text)).parse();
}

/** metav1.LabelSelectorOperator values, and what each becomes. */
const SPEC_OPERATORS: Readonly<Record<string, LabelOperator>> = { In: 'in', NotIn: 'notIn', Exists: 'exists', DoesNotExist: 'doesNotExist' };

/**
 * The problems of `spec.selector.matchExpressions`, as ValidateLabelSelectorRequirement words
 * them (k8s.io/apimachinery/pkg/apis/meta/v1/validation): an unknown operator is `not a valid
 * selector operator`, never read as another one.
 */
export function selectorSpecProblems(spec: LabelSelectorSpec): Array<{ index: number; operator: unknown; detail: string }> {
  return (spec.matchExpressions ?? []).flatMap((expression, index) =>
    Object.prototype.hasOwnProperty.call(SPEC_OPERATORS, String(expression.operator)) ? [] : [{ index, operator: expression.operator, detail: 'not a valid selector operator' }],
  );
}

/** `spec.selector` of a Deployment as requirements; validate it first (an unknown operator is a 400 here). */
export function selectorFromSpec(spec: LabelSelectorSpec): LabelSelector {
  const requirements: LabelRequirement[] = Object.entries(spec.matchLabels ?? {}).map(([key, value]) => ({ key, operator: 'equals', values: [value] }));
  for (const expression of spec.matchExpressions ?? []) {
    const operator = Object.prototype.hasOwnProperty.call(SPEC_OPERATORS, String(expression.operator)) ? SPEC_OPERATORS[expression.operator] : undefined;
    if (!operator) throw badRequest(`"${String(expression.operator)}" is not a valid label selector operator`);
    requirements.push({ key: expression.key, operator, values: expression.values ?? [] });
  }
  return requirements;
}

function requirementMatches(requirement: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case 'equals':
    case 'in':
      return has && requirement.values.includes(value!);
    case 'notEquals':
    case 'notIn':
      return !has || !requirement.values.includes(value!);
    case 'exists':
      return has;
    case 'doesNotExist':
      return !has;
    case 'greaterThan':
    case 'lessThan': {
      if (!has || !/^-?\d+$/.test(value!)) return false;
      const actual = Number(value);
      const bound = Number(requirement.values[0]);
      return requirement.operator === 'greaterThan' ? actual > bound : actual < bound;
    }
  }
}

/** Every requirement holds; the empty selector matches everything. */
export function labelsMatch(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  return selector.every((requirement) => requirementMatches(requirement, labels ?? {}));
}
