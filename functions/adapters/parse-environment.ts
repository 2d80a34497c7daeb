import type * as z from 'zod';
import type { Env } from '../contracts/env';
import { InvalidInputError } from '../contracts/errors';

/** Parses a function's environment once per cold start; a misconfiguration names the variable. */
export function parseEnvironment<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new InvalidInputError(`the function's environment is invalid: ${fields.join('; ')}`);
}
