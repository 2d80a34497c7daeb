import type { LocalCloud } from './local-cloud';
import { initSandboxVault } from './vault-bootstrap';
import { setupSandboxPki, type SandboxPki } from './pki-setup';
import type { LocalExecution } from '../runner/local-runner';
import type { VaultInitResult } from '../../functions/steps/vault-init';

/**
 * A sandbox Vault brought to where a real one is before certflow's first rotation, by the real
 * paths: `vault-init` (shares KMS-wrapped into DynamoDB), the synthesized Unseal state machine,
 * then the operator's PKI set-up (root, intermediate, role, AWS IAM auth role).
 */
export interface ReadyVault {
  init: VaultInitResult;
  unseal: LocalExecution;
  pki: SandboxPki;
}

export async function readyVault(cloud: LocalCloud, options: { sealFirst?: boolean } = {}): Promise<ReadyVault> {
  const init = await initSandboxVault(cloud);
  if (options.sealFirst) for (const node of cloud.sandbox.vault.nodes) cloud.sandbox.vault.node(node.id).seal();
  const unseal = await cloud.runner.run(cloud.runner.find('UnsealWorkflow'), { trigger: 'sandbox' });
  if (unseal.status !== 'SUCCEEDED') throw new Error(`the Unseal workflow ended ${unseal.status} (${unseal.error ?? ''})`);
  const pki = await setupSandboxPki(cloud.sandbox, init.rootTokenForSandbox);
  return { init, unseal, pki };
}
