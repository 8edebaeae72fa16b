import { v7, validate, version } from 'uuid';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A fresh copy of ids.ts: its clock and counter are module state. */
async function freshIds(): Promise<typeof import('./ids.js')> {
  vi.resetModules();
  return import('./ids.js');
}

function timestampOf(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

describe('newMessageId', () => {
  beforeEach(() => {
    vi.doUnmock('node:crypto');
  });

  it('is a valid UUIDv7: version 7, variant 10, the current time in ms', async () => {
    const { newMessageId } = await freshIds();
    const before = Date.now();
    const id = newMessageId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(timestampOf(id)).toBeGreaterThanOrEqual(before);
    expect(timestampOf(id)).toBeLessThanOrEqual(after);
  });

  it('spells every bit of a 48-bit timestamp', async () => {
    const { newMessageId } = await freshIds();
    for (const ms of [0, 1, 0xff_ffff_ffff, 2 ** 47 + 0x1234_5678, 2 ** 48 - 1]) {
      const id = newMessageId(ms);
      expect(id).toMatch(UUID_V7);
      expect(timestampOf(id)).toBe(ms);
    }
  });

  it('is monotonic within one millisecond, and when the clock goes back', async () => {
    const { newMessageId } = await freshIds();
    const now = Date.now();
    const ids = Array.from({ length: 10_000 }, () => newMessageId(now));
    ids.push(newMessageId(now - 60_000));
    for (let index = 1; index < ids.length; index++) {
      expect(ids[index]! > ids[index - 1]!).toBe(true);
    }
    expect(new Set(ids.map(timestampOf))).toEqual(new Set([now]));
  });

  it('is unique and increasing across a million ids', async () => {
    const { newMessageId } = await freshIds();
    const seen = new Set<string>();
    let previous = '';
    for (let count = 0; count < 1_000_000; count++) {
      const id = newMessageId();
      if (!(id > previous)) expect.fail(`${id} does not sort after ${previous}`);
      previous = id;
      seen.add(id);
    }
    expect(seen.size).toBe(1_000_000);
    expect(previous).toMatch(UUID_V7);
  });

  it('lays its bytes out as uuid v7 does with the same time, counter and random bytes', async () => {
    let seed = 1;
    const drawn: Uint8Array[] = [];
    vi.doMock('node:crypto', () => ({
      getRandomValues(bytes: Uint8Array) {
        for (let index = 0; index < bytes.length; index++) {
          seed = (seed * 1_103_515_245 + 12_345) >>> 0;
          bytes[index] = seed >>> 24;
        }
        drawn.push(bytes.slice());
        return bytes;
      },
    }));
    const { newMessageId } = await freshIds();
    const clock = [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_001];
    // 4,100 ids cross the 64 KiB pool's refill.
    const times = Array.from({ length: 4_100 }, (_, index) => clock[index % 4]! + (index >> 2));
    const ids = times.map((ms) => newMessageId(ms));

    const pool = Buffer.concat(drawn);
    let lastMs = Number.NEGATIVE_INFINITY;
    let sequence = 0;
    times.forEach((ms, index) => {
      const random = pool.subarray(index * 16, index * 16 + 16);
      if (ms > lastMs) {
        lastMs = ms;
        sequence = random.readUInt32BE(6) & 0x7fff_ffff;
      } else {
        sequence = (sequence + 1) | 0;
      }
      expect(ids[index]).toBe(v7({ msecs: lastMs, seq: sequence, random }));
    });
  });
});
