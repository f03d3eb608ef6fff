/** The invocation's deadline and its children, on an injected clock (no real time passes). */
import { Deadline, FUNCTION_TIME_LIMIT_MS, ROOT_MARGIN_MS } from '../../../src/twilio/deadline';

function fakeClock(start = 1000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe('Deadline', () => {
  it('counts down from its budget and never below zero', () => {
    const clock = fakeClock();
    const deadline = new Deadline(500, clock.now);
    expect(deadline.endsAt).toBe(1500);
    expect(deadline.remainingMs()).toBe(500);
    expect(deadline.expired()).toBe(false);
    clock.t = 1499;
    expect(deadline.remainingMs()).toBe(1);
    expect(deadline.expired()).toBe(false);
    clock.t = 1500;
    expect(deadline.expired()).toBe(true);
    clock.t = 4000;
    expect(deadline.remainingMs()).toBe(0);
  });

  it("the invocation's root is the platform's limit minus the margin, and the margin is a real one", () => {
    const clock = fakeClock();
    const root = Deadline.forInvocation(clock.now);
    expect(root.remainingMs()).toBe(FUNCTION_TIME_LIMIT_MS - ROOT_MARGIN_MS);
    expect(ROOT_MARGIN_MS).toBeGreaterThan(0);
    expect(root.remainingMs()).toBeLessThan(FUNCTION_TIME_LIMIT_MS);
  });

  it('a child ends at its own budget when that comes first', () => {
    const clock = fakeClock();
    const root = new Deadline(9000, clock.now);
    clock.t += 1000;
    const child = root.child(2000);
    expect(child.endsAt).toBe(clock.t + 2000);
    expect(child.remainingMs()).toBe(2000);
    expect(root.remainingMs()).toBe(8000);
  });

  it('a child never ends after its parent, whatever budget it asks for', () => {
    const clock = fakeClock();
    const root = new Deadline(9000, clock.now);
    clock.t += 8000;
    const late = root.child(1500);
    expect(late.endsAt).toBe(root.endsAt);
    expect(late.remainingMs()).toBe(1000);
    const grandchild = late.child(60_000);
    expect(grandchild.endsAt).toBe(root.endsAt);
    clock.t = root.endsAt + 5;
    expect(root.child(1000).expired()).toBe(true);
  });

  it('budgets carved one after another add up to at most the root', () => {
    // Like /sync-token: IAM gets up to 8 s, then the ACL check up to 1.5 s; together they stay within the root.
    const clock = fakeClock();
    const root = new Deadline(9700, clock.now);
    const iam = root.child(8000);
    clock.t = iam.endsAt; // IAM used all of its budget
    const acl = root.child(1500);
    expect(acl.remainingMs()).toBe(1500);
    clock.t += 200; // the ACL lookup starts later still
    const lateAcl = root.child(1500);
    expect(lateAcl.endsAt).toBe(root.endsAt);
    expect(lateAcl.endsAt - root.endsAt).toBeLessThanOrEqual(0);
  });

  it('a negative budget is an expired child, not one that reaches past its parent', () => {
    const clock = fakeClock();
    const root = new Deadline(1000, clock.now);
    expect(root.child(-50).expired()).toBe(true);
    expect(new Deadline(-50, clock.now).remainingMs()).toBe(0);
  });

  it('shortenedBy brings the end forward (and a negative amount never moves it later)', () => {
    const clock = fakeClock();
    const root = new Deadline(3000, clock.now);
    const stop = root.shortenedBy(300);
    expect(stop.endsAt).toBe(root.endsAt - 300);
    expect(root.shortenedBy(-100).endsAt).toBe(root.endsAt);
    expect(root.shortenedBy(5000).expired()).toBe(true);
  });

  it('allows a step only when it would end strictly before the deadline', () => {
    const clock = fakeClock();
    const deadline = new Deadline(1000, clock.now);
    expect(deadline.allows(999)).toBe(true);
    expect(deadline.allows(1000)).toBe(false);
    clock.t += 400;
    expect(deadline.allows(599)).toBe(true);
    expect(deadline.allows(600)).toBe(false);
    expect(deadline.allows(-10)).toBe(true);
  });

  it('none never expires, and its children are their own budget', () => {
    const clock = fakeClock();
    const none = Deadline.none(clock.now);
    clock.t += 1e12;
    expect(none.expired()).toBe(false);
    expect(none.allows(1e15)).toBe(true);
    expect(none.child(250).remainingMs()).toBe(250);
    expect(none.shortenedBy(1e6).expired()).toBe(false);
  });

  it('children read the same clock as their parent', () => {
    const clock = fakeClock();
    const child = new Deadline(1000, clock.now).child(500);
    expect(child.now()).toBe(clock.t);
    clock.t += 200;
    expect(child.now()).toBe(clock.t);
    expect(child.remainingMs()).toBe(300);
  });
});
