import { mapBounded } from '../../functions/steps/bounded-map';

/** A task that finishes when told to, so the test sees exactly what runs at once. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('mapBounded', () => {
  it('runs at most the limit at once and answers in the items’ order', async () => {
    const gates = [gate(), gate(), gate(), gate(), gate()];
    let running = 0;
    let most = 0;
    const result = mapBounded([0, 1, 2, 3, 4], 2, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await gates[item]!.opened;
      running -= 1;
      return item * 10;
    });
    for (const index of [4, 3, 2, 1, 0]) gates[index]!.open();

    expect(await result).toEqual([0, 10, 20, 30, 40]);
    expect(most).toBe(2);
  });

  it('starts nothing new after a failure, lets what runs finish, and throws the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const outcome = mapBounded([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      if (item === 0) throw new Error('first target failed');
      await Promise.resolve();
      finished.push(item);
      return item;
    });

    await expect(outcome).rejects.toThrow('first target failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });

  it('with a limit of 1 runs one after another', async () => {
    const order: string[] = [];
    await mapBounded(['a', 'b'], 1, async (item) => {
      order.push(`start ${item}`);
      await Promise.resolve();
      order.push(`end ${item}`);
    });
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);
  });
});
