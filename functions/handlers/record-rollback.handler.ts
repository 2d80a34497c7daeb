import type { Env } from '../contracts/env';
import type { LambdaHandler } from './kit/handler-kit';

// Placeholder while the Rotation workflow is being built: fails loudly, never silently.
export function makeHandler(_env: Env): LambdaHandler<never> {
  return async () => {
    throw new Error('not implemented yet');
  };
}
export const handler = makeHandler(process.env);
