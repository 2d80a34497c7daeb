import { describeFaultMatrix, type FaultCase } from '../support/fault-matrix';

/**
 * The fault matrix (issue 5): each fault kind injected in each phase where it can occur, on the
 * seed fleet, through the synthesized Rotation state machine. Every run must end Succeeded,
 * RolledBack or (for a held lock) AlreadyRunning. Afterwards every service's served chain
 * validates against every peer's bundle (I1), and a rolled-back run left every Secret and the
 * default issuer exactly as they were (I5).
 */
jest.setTimeout(240_000);

const CASES: FaultCase[] = [
  { fault: 'vault:sealed:times=2', phase: 'preflight (Vault sealed, then unsealed)', expect: ['Succeeded'] },
  { fault: 'vault:sealed:after=25,times=2', phase: 'mid-run, publishing trust (Vault sealed briefly)', expect: ['Succeeded'] },
  { fault: 'vault:sign-intermediate', phase: 'new intermediate (Vault 500 signing it)', expect: ['RolledBack'] },
  { fault: 'vault:issue', phase: 'fan-out, first leaf (Vault 500 on issue)', expect: ['RolledBack'] },
  { fault: 'vault:issue:after=2', phase: 'fan-out, third leaf (Vault 500 on issue)', expect: ['RolledBack'] },
  { fault: 'vault:rate-limit:times=2', phase: 'new intermediate (Vault 429)', expect: ['Succeeded'] },
  { fault: 'vault:rate-limit:after=30,times=2', phase: 'fan-out (Vault 429)', expect: ['Succeeded'] },
  { fault: 'vault:sign', phase: 'canary (cert-manager cannot sign: batch times out)', expect: ['RolledBack'] },
  { fault: 'kms:decrypt:times=1', phase: 'preflight (KMS unavailable while a node is sealed)', expect: ['Succeeded'] },
  { fault: 'lock:held', phase: 'lock (another rotation holds it)', expect: ['AlreadyRunning'] },
  { fault: 'vault:sealed', phase: 'preflight (Vault sealed for good; as the README shows it)', expect: ['Stopped'] },
  { fault: 'vault:rate-limit', phase: 'preflight (every intermediate-mount call 429s; as the README shows it)', expect: ['Stopped'] },
  { fault: 'kms:decrypt', phase: 'preflight (KMS down while a node is sealed; as the README shows it)', expect: ['Stopped'] },
];

describeFaultMatrix('the Rotation workflow under Vault, KMS and lock faults', CASES);
