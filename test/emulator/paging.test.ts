/**
 * The emulator's big list pages (Events, Calls) render their items a hundred at a time between turns of the event
 * loop: the same page as the one rendered at once, while the answers beside it go on.
 */
import { metaPage, metaPageInTurns, uriPage, uriPageInTurns } from '../../emulator/core/paging';
import type { EmuRequest } from '../../emulator/core/router';

function request(query: string): EmuRequest {
  return {
    method: 'GET',
    path: '/v1/Workspaces/WS1/Events',
    params: {},
    query: new URLSearchParams(query),
    form: new URLSearchParams(),
    json: undefined,
    headers: {},
    baseUrl: 'https://taskrouter.twilio.com',
  };
}

const all = Array.from({ length: 2500 }, (_, i) => ({ n: i }));
const render = (item: { n: number }) => ({ sid: `EV${item.n}`, doubled: item.n * 2 });

it.each(['PageSize=1000', 'PageSize=1000&Page=1&PageToken=PT1000', 'PageSize=1000&Page=2&PageToken=PT2000', ''])(
  'renders the same page in turns as at once (%s)',
  async (query) => {
    const filters = { EventType: 'reservation.completed' };
    expect(await metaPageInTurns(request(query), 'events', all, render, filters)).toEqual(
      metaPage(request(query), 'events', all, render, filters),
    );
    expect(await uriPageInTurns(request(query), 'calls', all, render, filters)).toEqual(
      uriPage(request(query), 'calls', all, render, filters),
    );
  },
);

it('takes Page for client state only: without a PageToken a list starts at its first item', () => {
  const page = metaPage(request('PageSize=2&Page=3'), 'events', all, render);
  expect(page.events).toEqual([render(all[0]), render(all[1])]);
  expect(page.meta.page).toBe(3); // echoed, as the client sent it
  const next = metaPage(request('PageSize=2&Page=1&PageToken=PT2'), 'events', all, render);
  expect(next.events).toEqual([render(all[2]), render(all[3])]);
});

it('lets other work run while a 1,000-item page is rendered', async () => {
  let ranMeanwhile = false;
  setImmediate(() => {
    ranMeanwhile = true;
  });
  const rendered = metaPageInTurns(request('PageSize=1000'), 'events', all, (item) => {
    return { ...render(item), beforeOtherWork: !ranMeanwhile };
  });
  const items = (await rendered).events as Array<{ beforeOtherWork: boolean }>;
  expect(items).toHaveLength(1000);
  expect(items[0].beforeOtherWork).toBe(true);
  expect(items[999].beforeOtherWork).toBe(false);
});
