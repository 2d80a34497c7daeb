import { createHash } from 'node:crypto';

/**
 * `name` when it fits `max` characters, else its start and a short digest of the whole, so two
 * long deployment names that share a prefix still get different names (as functionRoleName does
 * for IAM). For names with a lower limit than a deployment name allows: an EventBridge rule (64),
 * an AWS Backup vault or plan (50).
 */
export function boundedName(name: string, max: number): string {
  if (name.length <= max) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - digest.length - 1)}-${digest}`;
}
