/** Hiding items whose expiry has passed: Sync's TTL removal is eventual, so readers filter themselves. */
import { expiresAtOf, isExpired, withoutExpired, type ExpiringItem, type RecentCallItem } from '../../../src/client';

const NOW = Date.parse('2026-03-01T09:00:00Z');
const PAST = '2026-03-01T08:59:59Z';
const FUTURE = '2026-03-31T09:00:00Z';

describe('isExpired', () => {
  it.each<[string, ExpiringItem, boolean]>([
    ['SDK Date in the past', { dateExpires: new Date(PAST) }, true],
    ['SDK Date in the future', { dateExpires: new Date(FUTURE) }, false],
    ['SDK null (no TTL)', { dateExpires: null }, false],
    ['REST string in the past', { date_expires: PAST }, true],
    ['REST string in the future', { date_expires: FUTURE }, false],
    ['REST null (no TTL)', { date_expires: null }, false],
    ['no expiry field at all', {}, false],
    ['epoch ms in the past', { dateExpires: NOW - 1 }, true],
    ['exactly now', { date_expires: new Date(NOW).toISOString() }, true],
    ['an unreadable string', { date_expires: 'someday' }, false],
    ['an invalid Date', { dateExpires: new Date('nope') }, false],
    ['both fields: the SDK one wins', { dateExpires: new Date(FUTURE), date_expires: PAST }, false],
  ])('%s', (_name, item, expected) => {
    expect(isExpired(item, NOW)).toBe(expected);
    expect(isExpired(item, new Date(NOW))).toBe(expected);
  });

  it('defaults to the browser clock', () => {
    expect(isExpired({ date_expires: new Date(Date.now() - 1000).toISOString() })).toBe(true);
    expect(isExpired({ date_expires: new Date(Date.now() + 60_000).toISOString() })).toBe(false);
  });

  it('reads the expiry as epoch ms', () => {
    expect(expiresAtOf({ date_expires: PAST })).toBe(Date.parse(PAST));
    expect(expiresAtOf({ dateExpires: null })).toBeNull();
  });
});

describe('withoutExpired', () => {
  it('keeps the unexpired items in order, from SDK items and REST items alike', () => {
    const sdkItems = [
      { key: 'CA1', data: { callSid: 'CA1' }, dateExpires: new Date(FUTURE) },
      { key: 'CA2', data: { callSid: 'CA2' }, dateExpires: new Date(PAST) },
      { key: 'CA3', data: { callSid: 'CA3' }, dateExpires: null },
    ];
    expect(withoutExpired(sdkItems, NOW).map((i) => i.key)).toEqual(['CA1', 'CA3']);

    const restItems = [
      { key: 'CA4', date_expires: PAST },
      { key: 'CA5', date_expires: FUTURE },
      { key: 'CA6', date_expires: null },
      { key: 'CA7' } as { key: string; date_expires?: string },
    ];
    expect(withoutExpired(restItems, new Date(NOW)).map((i) => i.key)).toEqual(['CA5', 'CA6', 'CA7']);
  });

  it('hides more items as the clock moves past their expiry', () => {
    const items = [1, 2, 3].map((day) => ({
      key: `CA${day}`,
      date_expires: new Date(NOW + day * 86_400_000).toISOString(),
    }));
    expect(withoutExpired(items, NOW)).toHaveLength(3);
    expect(withoutExpired(items, NOW + 2 * 86_400_000 - 1)).toHaveLength(2);
    expect(withoutExpired(items, NOW + 2 * 86_400_000)).toHaveLength(1);
    expect(withoutExpired(items, NOW + 4 * 86_400_000)).toEqual([]);
  });

  it('does not modify its input', () => {
    const items = [{ date_expires: PAST }];
    withoutExpired(items, NOW);
    expect(items).toHaveLength(1);
  });
});

describe('recent-call items', () => {
  it('filters typed map items as the SDK gives them', () => {
    const data: RecentCallItem = {
      callSid: 'CA1',
      taskSid: 'WT1',
      direction: 'inbound',
      from: '+15550100',
      to: '+15550199',
      queue: 'Everyone',
      startedAt: '2026-02-27T10:00:00Z',
      endedAt: '2026-02-27T10:03:00Z',
      durationSeconds: 180,
    };
    const items: Array<{ key: string; data: RecentCallItem; dateExpires: Date | null }> = [
      { key: 'CA1', data, dateExpires: new Date('2026-03-29T10:00:00Z') },
      { key: 'CA2', data: { ...data, callSid: 'CA2' }, dateExpires: new Date('2026-02-28T10:00:00Z') },
    ];
    expect(withoutExpired(items, NOW).map((item) => item.data.callSid)).toEqual(['CA1']);
  });
});
