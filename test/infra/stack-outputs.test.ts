import { STACK_OUTPUT_ENV } from '../../bin/cli/stack-outputs';
import { StackOutputs } from '../../lib/certflow-stack';
import { loadTemplate } from '../support/template';

/** `certflow --stack` reads these outputs: each must be one the synthesized stack really has. */
describe('the stack outputs the CLI reads', () => {
  it('are every one an output of the synthesized template, named as the stack names them', () => {
    const outputs = Object.keys((loadTemplate() as { Outputs?: Record<string, unknown> }).Outputs ?? {});

    for (const name of Object.keys(STACK_OUTPUT_ENV)) {
      expect({ name, declared: name in StackOutputs, synthesized: outputs.includes(name) }).toEqual({ name, declared: true, synthesized: true });
    }
  });
});
