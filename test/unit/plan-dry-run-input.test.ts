import { PlanRotationInputSchema } from '../../functions/contracts/plan-dry-run';
import { parseEvent } from '../../functions/handlers/kit/handler-kit';

/** PlanRotation's input at the edge: a run's `{run}`, or a dry run that can never be taken for one. */
describe('the PlanRotation input', () => {
  const run = { runId: 'r-1', requestedAt: '2026-12-03T06:00:00.000Z', trigger: 'cli', forceIntermediate: false, forceRenewal: false, previousDefault: 'i-1', nodesUnsealedByPreflight: [] };
  const parse = (event: unknown) => parseEvent(PlanRotationInputSchema, event, 'PlanRotation input');

  it('parses a dry run with its defaults, and a run as the Rotation passes it', () => {
    expect(parse({ dryRun: {} })).toEqual({ dryRun: { forceIntermediate: false } });
    expect(parse({ dryRun: { forceIntermediate: true, services: ['backend'] } })).toEqual({ dryRun: { forceIntermediate: true, services: ['backend'] } });
    expect(parse({ run, batchesPerWave: 4 })).toEqual({ run, batchesPerWave: 4 });
  });

  it('refuses a dry run that also carries a run, or anything it does not declare, as InvalidInputError naming the key', () => {
    expect(() => parse({ dryRun: {}, run })).toThrow(expect.objectContaining({ name: 'InvalidInputError', message: 'invalid PlanRotation input: (root): Unrecognized key: "run"' }));
    expect(() => parse({ dryRun: { forceRenewal: true } })).toThrow(expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('dryRun: Unrecognized key: "forceRenewal"') }));
    expect(() => parse({ dryRun: { services: [] } })).toThrow(expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('dryRun.services:') }));
    expect(() => parse({ dryRun: null })).toThrow(expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('dryRun:') }));
  });

  it('still names the field of a malformed run, as before the dry run existed', () => {
    expect(() => parse({ run: { ...run, forceIntermediate: 'yes' }, batchesPerWave: 4 })).toThrow(expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('run.forceIntermediate:') }));
    expect(() => parse({})).toThrow(expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('run:') }));
  });
});
