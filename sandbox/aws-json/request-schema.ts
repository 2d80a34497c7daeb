import type { z } from 'zod';
import { AwsJsonError } from './aws-json-error';

/**
 * Parses an operation's input against its schema, answering like AWS does for a malformed
 * request: 400 `ValidationException` naming the offending member.
 */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `Value at '${issue.path.join('.') || '(root)'}' failed to satisfy constraint: ${issue.message}`);
  throw new AwsJsonError('ValidationException', `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${issues.join('; ')}`);
}
