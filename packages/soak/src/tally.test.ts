// The soak's verdicts: what counts as lost, wiped, duplicated, and how recovery is measured.
import { describe, expect, it } from 'vitest';
import { Tally } from './tally.ts';

describe('Tally', () => {
  it('counts a resolved send that was never handled nor dead-lettered as lost', () => {
    const tally = new Tally(4);
    for (const seq of [0, 1, 2]) tally.sendResolved(seq, 10);
    tally.handled(0, 20);
    tally.deadLettered(1);
    expect(tally.complete()).toBe(false);
    expect(tally.summary()).toMatchObject({
      sent: 3,
      handled: 1,
      lost: 1,
      lostSample: [2],
      deadLettered: 1,
    });
  });

  it('counts a message handled twice once as duplicated, and is complete when all are accounted', () => {
    const tally = new Tally(2);
    tally.sendResolved(0, 1);
    tally.sendResolved(0, 2); // a retried send of the same message
    tally.sendResolved(1, 1);
    tally.handled(0, 5);
    tally.handled(0, 6);
    tally.handled(1, 7);
    expect(tally.complete()).toBe(true);
    expect(tally.summary()).toMatchObject({ sent: 2, handled: 2, lost: 0, duplicated: 1 });
  });

  it('excuses, as wiped, only sends that resolved before a non-persistent restart', () => {
    const tally = new Tally(3);
    tally.sendResolved(0, 100);
    tally.sendResolved(1, 300);
    tally.sendResolved(2, 300);
    expect(tally.backlog).toBe(3);
    tally.wipedBefore(200);
    expect(tally.backlog).toBe(0); // what the restart wiped will never be handled
    tally.handled(2, 400);
    expect(tally.summary()).toMatchObject({ lost: 1, wiped: 1 });
  });

  it('measures recovery from the end of each fault to the first handled message sent after it, worst of all', () => {
    const tally = new Tally(4);
    tally.sendStarted(0, 0);
    tally.handled(0, 50);
    tally.fault('first', 100);
    tally.sendStarted(1, 110); // sent while the fault was still on: not a sign of recovery
    tally.handled(1, 115);
    tally.faultEnded(120);
    tally.sendStarted(2, 130);
    tally.handled(2, 420);
    tally.fault('second', 500);
    tally.sendStarted(3, 510);
    tally.handled(3, 550);
    expect(tally.summary().recoveryMs).toBe(300);
    expect(new Tally(1).summary().recoveryMs).toBeUndefined();
  });
});
