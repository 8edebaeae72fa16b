/** A benchmark message body: a sequence number, padded so its JSON has the wanted size. */
export interface BenchBody {
  seq: number;
  pad: string;
}

/**
 * `count` bodies whose `JSON.stringify` is exactly `bytes` bytes long (ASCII), built before the
 * timed section so that both sides of a scenario start from the same objects.
 */
export function jsonBodies(count: number, bytes = 100): BenchBody[] {
  // Slices of one flat string: `'x'.repeat()` per body would leave each one to be flattened, a
  // cost inside the timed section that has nothing to do with messaging.
  const padding = 'x'.repeat(bytes);
  const bodies: BenchBody[] = new Array(count);
  for (let seq = 0; seq < count; seq++) {
    const overhead = JSON.stringify({ seq, pad: '' }).length;
    if (overhead > bytes) throw new RangeError(`a ${bytes}-byte body can't hold seq ${seq}`);
    bodies[seq] = { seq, pad: padding.slice(0, bytes - overhead) };
  }
  return bodies;
}
