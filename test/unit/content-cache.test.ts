import { contentCache } from '../../functions/domain/content-cache';

describe('a cache keyed by content, bounded by entries and by the size of its keys', () => {
  it('keeps no entry whose key alone is larger than the whole budget: a padded text is read again each time', () => {
    const cache = contentCache<number>({ entries: 10, keyChars: 100 });
    cache.set('x'.repeat(150), 1);
    expect([cache.size, cache.get('x'.repeat(150))]).toEqual([0, undefined]);
  });

  it('lets the least recently used entries go once the keys pass the budget, however few the entries', () => {
    const cache = contentCache<number>({ entries: 10, keyChars: 100 });
    for (const digit of ['1', '2', '3', '4']) cache.set(digit.repeat(30), Number(digit));
    expect(cache.get('1'.repeat(30))).toBeUndefined();
    expect([...cache.values()].sort()).toEqual([2, 3, 4]);
  });

  it('keeps an empty key, which still counts against the budget', () => {
    const cache = contentCache<string>({ entries: 2, keyChars: 10 });
    cache.set('', 'empty');
    expect(cache.get('')).toBe('empty');
  });

  it('holds at most its number of entries, whatever their size', () => {
    const cache = contentCache<number>({ entries: 2, keyChars: 1000 });
    for (const key of ['a', 'b', 'c']) cache.set(key, 1);
    expect([...cache.keys()].sort()).toEqual(['b', 'c']);
  });
});
