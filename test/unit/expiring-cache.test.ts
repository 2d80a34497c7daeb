import { expiringCache } from '../../functions/adapters/expiring-cache';
import { cachedFor } from '../../functions/adapters/kubernetes/kube-auth';
import { CachedLogin } from '../../functions/adapters/vault/vault-login';

/** The one cache for expiring credentials, and the two adapters built on it. */
function movingClock(start = '2030-01-01T00:00:00Z') {
  let now = new Date(start).getTime();
  return { clock: { now: () => new Date(now) }, advance: (ms: number) => void (now += ms) };
}

/** A load whose promise the test settles, counting how often it was started. */
function controlledLoad<T>() {
  const started: Array<{ resolve: (value: T) => void; reject: (error: Error) => void }> = [];
  const load = () =>
    new Promise<T>((resolve, reject) => {
      started.push({ resolve, reject });
    });
  return { load, started };
}

describe('the expiring cache', () => {
  it('shares one in-flight load between concurrent callers', async () => {
    const { clock } = movingClock();
    const { load, started } = controlledLoad<{ value: string }>();
    const cache = expiringCache(load, clock);

    const both = Promise.all([cache.get(), cache.get()]);
    started[0]!.resolve({ value: 'v1' });

    expect(await both).toEqual(['v1', 'v1']);
    expect(started).toHaveLength(1);
  });

  it('keeps a value until the clock reaches its expiry, then loads again', async () => {
    const { clock, advance } = movingClock();
    let loads = 0;
    const cache = expiringCache(async () => ({ value: `v${++loads}`, expiresAt: new Date(clock.now().getTime() + 1000) }), clock);

    expect(await cache.get()).toBe('v1');
    advance(999);
    expect(await cache.get()).toBe('v1');
    advance(1);
    expect(await cache.get()).toBe('v2');
  });

  it('keeps a value without an expiry until it is invalidated', async () => {
    const { clock, advance } = movingClock();
    let loads = 0;
    const cache = expiringCache(async () => ({ value: `v${++loads}` }), clock);

    expect(await cache.get()).toBe('v1');
    advance(365 * 86_400_000);
    expect(await cache.get()).toBe('v1');
    cache.invalidate();
    expect(await cache.get()).toBe('v2');
    expect(await cache.get()).toBe('v2');
  });

  it('does not keep a failed load: the next call loads again', async () => {
    const { clock } = movingClock();
    const { load, started } = controlledLoad<{ value: string }>();
    const cache = expiringCache(load, clock);

    const failed = cache.get();
    started[0]!.reject(new Error('no credentials'));
    await expect(failed).rejects.toThrow('no credentials');
    const retried = cache.get();
    started[1]!.resolve({ value: 'v2' });

    expect(await retried).toBe('v2');
  });
});

describe('the adapters on the expiring cache', () => {
  it('counts a kubeconfig’s and a Vault token’s lifetime from when the load began, not when it ended', async () => {
    const { clock, advance } = movingClock();
    let kubeLoads = 0;
    let logins = 0;
    // Each load takes a minute of the clock.
    const kubeconfig = cachedFor(async () => (advance(60_000), `kc${++kubeLoads}`), clock, 10 * 60_000);
    const vault = new CachedLogin(async () => (advance(60_000), { token: `t${++logins}`, leaseDuration: 15 * 60 }), clock);

    expect(await kubeconfig()).toBe('kc1');
    advance(9 * 60_000 - 1);
    expect(await kubeconfig()).toBe('kc1');
    advance(1);
    expect(await kubeconfig()).toBe('kc2');

    const loginStarted = clock.now().getTime();
    expect(await vault.token()).toBe('t1');
    // 15 min lease, renewed 5 min early: good until 10 min after the login began.
    advance(loginStarted + 10 * 60_000 - 1 - clock.now().getTime());
    expect(await vault.token()).toBe('t1');
    advance(1);
    expect(await vault.token()).toBe('t2');
  });

  it('logs in again after a 403 invalidated the Vault token', async () => {
    const { clock } = movingClock();
    let logins = 0;
    const vault = new CachedLogin(async () => ({ token: `t${++logins}`, leaseDuration: 0 }), clock);

    expect(await vault.token()).toBe('t1');
    vault.invalidate();

    expect(await vault.token()).toBe('t2');
  });
});
