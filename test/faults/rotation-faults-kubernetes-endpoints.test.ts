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
  { fault: 'kubernetes:conflict:times=3', phase: 'canary and fan-out (a 409 storm)', expect: ['Succeeded'] },
  { fault: 'kubernetes:secret-write:times=2', phase: 'canary (Kubernetes 500 on a Secret write)', expect: ['Succeeded', 'RolledBack'] },
  { fault: 'kubernetes:secret-write:after=4,times=6', phase: 'fan-out (Kubernetes 500 on Secret writes, outlasting one retry)', expect: ['Succeeded', 'RolledBack'] },
  { fault: 'kubernetes:rollout', phase: 'fan-out (backend\'s rollout never completes; as the README shows it)', expect: ['RolledBack'] },
  { fault: 'kubernetes:secret-write', phase: 'canary (every Secret write 500s, cert-manager\'s too; as the README shows it)', expect: ['RolledBack'] },
  { fault: 'kubernetes:conflict', phase: 'canary (every Secret update 409s; as the README shows it)', expect: ['RolledBack'] },
  { fault: 'endpoint:handshake', phase: 'fan-out verify (backend drops every connection; as the README shows it)', expect: ['RolledBack'] },
  { fault: 'kubernetes:rollout:service=frontend', phase: 'canary (a rollout that never completes)', expect: ['RolledBack'] },
  { fault: 'endpoint:handshake:service=keycloak', phase: 'verify (a handshake that fails)', expect: ['RolledBack'] },
  { fault: 'endpoint:handshake:service=frontend', phase: 'canary verify (a handshake that fails)', expect: ['RolledBack'] },
];

describeFaultMatrix('the Rotation workflow under Kubernetes and endpoint faults', CASES);
