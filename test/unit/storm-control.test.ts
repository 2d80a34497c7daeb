import { admitRestarts, type WorkloadRef } from '../../functions/domain/rollout-budget';
import { issuancePacer } from '../../functions/steps/issuance-pacer';
import { stormControlOf } from '../../lib/storm-control';
import { loadConfig } from '../../lib/config';

const ref = (namespace: string, workload: string, cluster = 'primary'): WorkloadRef => ({ cluster, namespace, workload });

describe('admitting workload restarts within the rollout budget', () => {
  it.each<[string, WorkloadRef[], WorkloadRef[], { perCluster?: number; perNamespace?: number }, string[]]>([
    ['admits every waiting workload without a budget', [ref('a', 'w1'), ref('a', 'w2')], [], {}, ['w1', 'w2']],
    ['admits no more in a namespace than its bound, in the order given', [ref('a', 'w1'), ref('a', 'w2'), ref('b', 'w3')], [], { perNamespace: 1 }, ['w1', 'w3']],
    ['counts the workloads already restarting against the bound', [ref('a', 'w2'), ref('b', 'w3')], [ref('a', 'w1')], { perNamespace: 1 }, ['w3']],
    ['holds the cluster to its bound across namespaces', [ref('a', 'w1'), ref('b', 'w2'), ref('c', 'w3')], [ref('d', 'w0')], { perCluster: 2, perNamespace: 5 }, ['w1']],
    ['keeps clusters apart', [ref('a', 'w1', 'east'), ref('a', 'w2', 'west')], [ref('a', 'w0', 'east')], { perCluster: 1 }, ['w2']],
  ])('%s', (_name, waiting, restarting, budget, admitted) => {
    const admission = admitRestarts(waiting, restarting, budget);
    expect(admission.admitted.map((entry) => entry.workload)).toEqual(admitted);
    expect(admission.admitted.length + admission.deferred.length).toBe(waiting.length);
  });

  it('names the bound that holds a workload back', () => {
    const admission = admitRestarts([ref('a', 'w1'), ref('b', 'w2')], [ref('a', 'w0')], { perCluster: 2, perNamespace: 1 });
    expect(admission.deferred).toEqual([{ ...ref('a', 'w1'), heldBy: 'namespace' }]);
    expect(admitRestarts([ref('b', 'w3')], [ref('a', 'w0'), ref('a', 'w1')], { perCluster: 2, perNamespace: 5 }).deferred[0]!.heldBy).toBe('cluster');
  });
});

describe('pacing Vault issuances within the rate budget', () => {
  it('hands out slots 1/rate apart in call order, the first at once', async () => {
    const now = 1_000;
    const sleeps: number[] = [];
    const pacer = issuancePacer(2, () => now, async (ms) => {
      sleeps.push(ms);
    });
    await Promise.all([pacer.take(), pacer.take(), pacer.take()]);
    expect(sleeps).toEqual([500, 1000]);
  });

  it('gives a slot at once when the previous one is long past', async () => {
    let now = 1_000;
    const sleeps: number[] = [];
    const pacer = issuancePacer(2, () => now, async (ms) => {
      sleeps.push(ms);
    });
    await pacer.take();
    now = 5_000;
    await pacer.take();
    expect(sleeps).toEqual([]);
  });

  it('does not wait at all without a budget', async () => {
    const pacer = issuancePacer(undefined);
    await expect(pacer.take()).resolves.toBeUndefined();
  });
});

describe('sharing the fleet-wide budgets among the batches that run at once', () => {
  it('gives each of the concurrent batches an equal share of the rollout and issuance budgets', () => {
    const policy = { ...loadConfig('config/econgraph.json').policy, concurrency: 4, rolloutBudget: { perCluster: 10, perNamespace: 4 }, issuanceBudget: { perSecond: 20 }, renewalJitter: 0.3 };
    expect(stormControlOf(policy)).toEqual({ restartsPerCluster: 2, restartsPerNamespace: 1, issuancesPerSecond: 5, renewalJitter: 0.3 });
  });

  it('leaves every bound out when the config sets none', () => {
    expect(stormControlOf(loadConfig('config/econgraph.json').policy)).toEqual({ renewalJitter: 0 });
  });
});
