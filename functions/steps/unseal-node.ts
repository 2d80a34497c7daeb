import { decideUnseal, identityMismatch, judgeShareAnswer, UnsealReasons, type ExpectedVault } from '../domain/unseal-decision';
import { parseSharePlaintext, selectShares, shareContext } from '../domain/share-selection';
import { CertflowError, UnsealKeySetRejectedError, VaultIdentityMismatchError, VaultRequestError, VaultUnavailableError } from '../contracts/errors';
import type { UnsealNodeResult } from '../contracts/unseal-payloads';
import type { VaultNode } from '../contracts/env';
import type { VaultSys } from '../ports/vault-sys';
import type { ShareStore } from '../ports/share-store';
import type { KeyWrapper } from '../ports/key-wrapper';
import type { Log } from '../ports/log';
import type { PauseSwitch } from '../ports/pause-switch';

export interface UnsealNodeDeps {
  vault: VaultSys;
  shares: ShareStore;
  keys: KeyWrapper;
  clusterId: string;
  /** The configured threshold, share count and (optionally) Vault cluster id, from the stack. */
  expected: ExpectedVault;
  /** The kill switch; without one (the sandbox's own bootstrap) nothing is paused. */
  pause?: PauseSwitch;
  log: Log;
}

/**
 * Unseals one node (DESIGN.md Unseal step 2; VAULT_API.md 3.2):
 * read the status, decide, and for a Shamir-sealed node decrypt exactly `t` distinct shares
 * BEFORE touching the node (so a KMS failure leaves it as it was), reset stale progress, submit
 * the shares one by one, and require the last answer to be unsealed.
 * Idempotent: an unsealed node is left alone, so a retry or a second run changes nothing.
 */
export async function unsealNode(deps: UnsealNodeDeps, node: VaultNode): Promise<UnsealNodeResult> {
  const { vault, log } = deps;
  const before = await vault.sealStatus();
  // Identity first: a node that is not the configured Vault gets no share and no KMS call.
  refuseImpostor(deps, node, before, 0);
  const decision = decideUnseal(before);
  const base = { nodeId: node.id, url: node.url, sealType: before.type, resetStaleProgress: false, sharesSubmitted: 0 };
  if (decision.action === 'submit-shares') {
    // Checked before any share leaves KMS: a deliberate incident seal stays sealed (issue 13 item 5).
    const paused = await deps.pause?.pauseOf('unseal');
    if (paused) {
      log.warn('unseal is paused: node left sealed', { nodeId: node.id, pausedBy: paused.pausedBy, pausedAt: paused.pausedAt });
      return { ...base, outcome: 'Paused', sealed: true, message: `unseal paused by ${paused.pausedBy} at ${paused.pausedAt}${paused.reason ? `: ${paused.reason}` : ''}; certflow resume unseal` };
    }
  }
  log.info('unseal decision', { nodeId: node.id, action: decision.action, reason: decision.reason, progress: before.progress, t: before.t });

  if (decision.action === 'none') return { ...base, outcome: 'AlreadyUnsealed', sealed: false };
  if (decision.action === 'report') {
    log.warn('node needs attention that keys cannot give', { nodeId: node.id, reason: decision.reason });
    if (decision.reason === UnsealReasons.MigrationPending) {
      return { ...base, outcome: 'Failed', sealed: true, error: 'MigrationPending', message: 'a seal migration is pending; finish it with migrate=true' };
    }
    return { ...base, outcome: decision.reason, sealed: true };
  }

  // The configured threshold, never the node's word (equal here, after refuseImpostor).
  const sharesNeeded = deps.expected.threshold;
  const plaintextShares = await decryptShares(deps, sharesNeeded);
  try {
    if (decision.resetFirst) {
      log.warn('resetting stale unseal progress left by another attempt', { nodeId: node.id, progress: before.progress, nonce: before.nonce });
      await vault.resetProgress();
    }
    let submitted = 0;
    for (const share of plaintextShares) {
      const last = submitted + 1 === sharesNeeded;
      let answer;
      try {
        answer = await vault.submitShare(share);
      } catch (error) {
        throw await explainShareFailure(deps, error, last, node);
      }
      submitted += 1;
      const outcome = judgeShareAnswer(answer, submitted, sharesNeeded);
      if (outcome === 'unsealed') {
        // The cluster id shows only once unsealed: too late to keep the shares, not too late to alarm.
        refuseImpostor(deps, node, answer, submitted);
        log.info('node unsealed', { nodeId: node.id, sharesSubmitted: submitted });
        return { ...base, outcome: 'Unsealed', sealed: false, resetStaleProgress: decision.resetFirst, sharesSubmitted: submitted };
      }
      if (outcome === 'rejected') {
        throw keySetRejected(node, 'Vault stayed sealed after the threshold share');
      }
      if (outcome === 'interfered') {
        // Another caller reset or mixed shares into this node's single in-memory attempt (2.2).
        // Stop: the next run starts a clean attempt with a reset.
        throw new VaultUnavailableError(`unseal of ${node.id} was interfered with: progress ${answer.progress} after ${submitted} shares`, {
          details: { nodeId: node.id, progress: answer.progress, submitted },
        });
      }
    }
    throw keySetRejected(node, 'Vault stayed sealed after the threshold share');
  } finally {
    // Strings cannot be zeroed in JavaScript; dropping the only references is what we can do.
    plaintextShares.length = 0;
  }
}

function refuseImpostor(deps: UnsealNodeDeps, node: VaultNode, status: Parameters<typeof identityMismatch>[0], sharesSent: number): void {
  const why = identityMismatch(status, deps.expected);
  if (why === undefined) return;
  deps.log.error('node is not the configured Vault: refused', { nodeId: node.id, why });
  throw new VaultIdentityMismatchError(`${node.id} at ${node.url} is not the configured Vault cluster (${why}): ${sharesSent === 0 ? 'no share was sent' : `${sharesSent} shares were sent; rekey Vault`}`, {
    details: { nodeId: node.id, reportedThreshold: status.t, reportedShares: status.n, sharesSent },
  });
}

async function decryptShares(deps: UnsealNodeDeps, needed: number): Promise<string[]> {
  const stored = await deps.shares.list(deps.clusterId);
  const chosen = selectShares(stored, needed);
  const plaintext: string[] = [];
  for (const share of chosen) {
    // The context is rebuilt from the cluster id and index, never read back from the store, so a
    // share moved to another index or cluster fails to decrypt (P11).
    const bytes = await deps.keys.unwrap(share.ciphertext, shareContext(deps.clusterId, share.index));
    try {
      plaintext.push(parseSharePlaintext(Buffer.from(bytes).toString('utf8'), share.index));
    } finally {
      bytes.fill(0);
    }
  }
  return plaintext;
}

/**
 * A 400 or 500 on the threshold share means Vault combined the shares and refused the result
 * (VAULT_API.md 2.2, P8); the same error earlier is a transport or input problem.
 */
async function explainShareFailure(deps: UnsealNodeDeps, error: unknown, last: boolean, node: VaultNode): Promise<unknown> {
  const status = error instanceof CertflowError ? error.details.status : undefined;
  if (last && (error instanceof VaultRequestError || (error instanceof VaultUnavailableError && status === 500))) {
    const after = await deps.vault.sealStatus().catch(() => undefined);
    if (!after || (after.sealed && after.progress === 0)) {
      return keySetRejected(node, `Vault answered ${String(status)} to the threshold share`, error);
    }
  }
  return error;
}

function keySetRejected(node: VaultNode, why: string, cause?: unknown): UnsealKeySetRejectedError {
  return new UnsealKeySetRejectedError(
    `the stored shares do not unseal ${node.id} (${why}); were the unseal keys rekeyed, or do the shares belong to another cluster?`,
    { cause, details: { nodeId: node.id } },
  );
}
