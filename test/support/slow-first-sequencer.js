// Jest runs test files in the order its sequencer gives. On a fresh clone it has no timings yet,
// so the slowest files (the fault matrix, the differential, the CLI) could start last and leave a
// core idle at the end: these run first. Jest's own timing-based order decides among the rest.
const Sequencer = require('@jest/test-sequencer').default;

const SLOW_FIRST = [
  'test/faults/rotation-faults-kubernetes-endpoints.test.ts',
  'test/unit/trust-differential.test.ts',
  'test/faults/rotation-faults-vault-kms-lock.test.ts',
  'test/faults/rotation-faults-rollback.test.ts',
  'test/cli/certflow-cli.test.ts',
  'test/workflow/rotation.test.ts',
  'test/workflow/compromise-response.test.ts',
  'test/workflow/compromise-gate.test.ts',
  'test/cli/operator-commands.test.ts',
  'test/workflow/compromise-preemption.test.ts',
  'test/workflow/rotation-counters.test.ts',
];

class SlowFirstSequencer extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const index = SLOW_FIRST.findIndex((suffix) => test.path.endsWith(suffix));
      return index === -1 ? SLOW_FIRST.length : index;
    };
    const ordered = super.sort(tests);
    return [...ordered].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = SlowFirstSequencer;
