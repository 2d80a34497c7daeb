import * as z from 'zod';

/**
 * An environment variable that carries JSON: the text is parsed (a parse error reads "must be
 * JSON", naming the variable through zod's path) and the value is then checked by `schema`.
 */
export const jsonText = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
