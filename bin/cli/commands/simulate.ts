import { loadConfig } from '../../../lib/config';
import { startSandbox } from '../../../sandbox/compose/sandbox';
import { createLocalCloud } from '../../../sandbox/compose/local-cloud';
import { synthesizeTemplate } from '../../../sandbox/compose/synthesize';
import { initSandboxVault } from '../../../sandbox/compose/vault-bootstrap';
import { scanForSecrets, secretNeedles, storedSharePlaintexts } from '../../../sandbox/compose/secret-scan';
import type { LocalExecution } from '../../../sandbox/runner/local-runner';
import { ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface SimulateOptions {
  configPath: string;
}

interface Phase {
  name: string;
  ms: number;
}

interface NodeLine {
  nodeId: string;
  url: string;
  before: string;
  outcome: string;
  after: string;
}

/**
 * `certflow simulate` (what `npm start` runs): the sandbox with the seed topology, Vault
 * initialized with KMS-wrapped shares, every node sealed, and the synthesized Unseal state
 * machine run locally against it. Prints what happened; exits non-zero if the run failed.
 */
export async function simulate(options: SimulateOptions, out: Output): Promise<number> {
  const phases: Phase[] = [];
  const timed = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
    out.progress(`${name}…`);
    const started = performance.now();
    const result = await run();
    phases.push({ name, ms: Math.round(performance.now() - started) });
    return result;
  };

  const config = loadConfig(options.configPath);
  const { template } = await timed('synthesize the CDK app (cdk-nag on)', () => synthesizeTemplate(options.configPath));
  const sandbox = await timed('start the sandbox (Vault x3, KMS, DynamoDB, EventBridge)', () => startSandbox({ config }));
  try {
    const cloud = await timed('provision the template resources', () => createLocalCloud(sandbox, template));
    const init = await timed('vault-init: initialize, wrap 5 shares with KMS, store them', () => initSandboxVault(cloud));
    const before = new Map<string, string>();
    await timed('seal every node (as after a restart)', async () => {
      for (const node of sandbox.vault.nodes) {
        sandbox.vault.node(node.id).seal();
        const state = sandbox.vault.node(node.id).state();
        before.set(node.id, state.sealed ? 'sealed' : 'unsealed');
      }
    });
    const execution: LocalExecution = await timed('run the Unseal state machine', () =>
      cloud.runner.run(cloud.runner.find('UnsealWorkflow'), { trigger: 'sandbox' }),
    );
    const scan = await timed('scan history, events and logs for secrets', async () => {
      const needles = secretNeedles({ shares: await storedSharePlaintexts(cloud), rootToken: init.rootTokenForSandbox });
      return scanForSecrets(
        [JSON.stringify(execution.history), JSON.stringify(sandbox.eventBridge.events()), ...cloud.logLines()],
        needles,
      );
    });

    const results = ((execution.output as { nodes?: Array<{ nodeId: string; url: string; outcome: string }> } | undefined)?.nodes ?? []);
    const nodes: NodeLine[] = sandbox.vault.nodes.map((node) => {
      const result = results.find((candidate) => candidate.nodeId === node.id);
      return {
        nodeId: node.id,
        url: node.url,
        before: before.get(node.id) ?? '?',
        outcome: result?.outcome ?? 'Unknown',
        after: sandbox.vault.node(node.id).state().sealed ? 'sealed' : 'unsealed',
      };
    });
    const transitions = execution.history.filter((event) => event.type === 'StateEntered').length;
    const events = sandbox.eventBridge.events().map((event) => ({ detailType: event.detailType, bus: event.bus, runId: event.detail.runId }));
    const ok = execution.status === 'SUCCEEDED' && nodes.every((node) => node.after === 'unsealed') && scan.found === 0;

    out.result({ ok, execution: { name: execution.name, status: execution.status, error: execution.error }, nodes, phases, transitions, events, secretScan: scan, sharesStored: init.sharesStored, threshold: init.threshold });
    out.line('certflow simulate: Vault unseal on the embedded sandbox');
    out.line();
    out.line(`Vault cluster ${config.vault.clusterId}: ${nodes.length} nodes, Shamir ${init.threshold}-of-${init.sharesStored}, shares KMS-wrapped in DynamoDB`);
    out.table([['node', 'address', 'before', 'outcome', 'after'], ...nodes.map((node) => [node.nodeId, node.url, node.before, node.outcome, node.after])]);
    out.line();
    out.line(`Execution ${execution.name}: ${execution.status}${execution.error ? ` (${execution.error})` : ''}, ${transitions} state transitions`);
    out.line(`Events: ${events.map((event) => `${event.detailType} on ${event.bus}`).join(', ') || 'none'}`);
    out.line(`Secret scan: ${scan.found} of ${scan.secretsLookedFor} secret forms found in ${execution.history.length} history events, ${events.length} events and ${cloud.logLines().length} log lines`);
    out.line();
    out.line('Phases:');
    out.table(phases.map((phase) => [phase.name, `${phase.ms} ms`]));
    out.line();
    out.line(ok ? 'Result: every node unsealed.' : 'Result: FAILED (see above).');
    return ok ? ExitCodes.Ok : ExitCodes.WorkflowFailed;
  } finally {
    await sandbox.close();
  }
}
