/**
 * Runs `work` over `items` with at most `limit` at once, results in the items' order. In AWS a
 * batch Lambda spends its time waiting on Vault, the API server and handshakes, so targets are
 * handled side by side; the limit keeps a batch within Vault's rate budget and the API server's
 * patience. After a failure nothing new starts; what is in flight finishes (each started target
 * has its backup), then the first error is thrown, as the serial loop did.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
