import * as z from 'zod';
import { PreemptEnvNames } from './functions';
import { RotationEnvNames } from './rotation-env';

/**
 * PreemptRotation's environment. The Rotation ARN is required: the stack sets it on this function
 * (lib/certflow-stack.ts), and the sandbox resolves the same Ref. There is no sandbox variant: the
 * sandbox serves the Step Functions API, so one code path stops rotations in both (invariant I3).
 */
export const PreemptEnvSchema = z.object({
  [RotationEnvNames.LedgerTable]: z.string().min(1),
  [PreemptEnvNames.SfnDisabled]: z.enum(['true', 'false']).optional(),
  [PreemptEnvNames.RotationStateMachineArn]: z.string().regex(/^arn:aws[a-z-]*:states:[^:]*:[0-9]*:stateMachine:.+$/, 'a state machine ARN'),
});
export type PreemptEnv = z.infer<typeof PreemptEnvSchema>;
