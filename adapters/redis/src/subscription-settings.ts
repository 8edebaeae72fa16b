/** A subscription's fixed settings as stored in its topic's registry hash, and the check against them. */
import { OmnibusError } from '@omnibus/core';
import type { SubscriptionSpec } from '@omnibus/core/driver';

/** The settings fixed when a subscription is first created, as the registry stores them. */
export function encodeSubscriptionSettings(spec: SubscriptionSpec): string {
  return `maxAttempts=${spec.maxAttempts};deadLetter=${spec.deadLetter}`;
}

/**
 * Throws `AlreadyExists` naming the first setting in which `spec` differs from `stored` (what the
 * registry holds: the first consumer to create the subscription, on any bus or process, fixed them).
 * A value this version cannot parse is not compared.
 */
export function checkSubscriptionSettings(spec: SubscriptionSpec, stored: string): void {
  const fields = new Map<string, string>();
  for (const part of stored.split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0) fields.set(part.slice(0, equals), part.slice(equals + 1));
  }
  // deadLetter first: turning the DLQ off also makes maxAttempts Infinity, and the DLQ is the cause.
  const asked: [string, string][] = [
    ['deadLetter', String(spec.deadLetter)],
    ['maxAttempts', String(spec.maxAttempts)],
  ];
  for (const [name, value] of asked) {
    const existing = fields.get(name);
    if (existing !== undefined && existing !== value) {
      throw new OmnibusError(
        'AlreadyExists',
        `subscription "${spec.subscription}" on topic "${spec.topic}" already exists with ${name} ${existing}; this consumer asks for ${name} ${value} (${name} is fixed when a subscription is first created)`,
        { driver: 'redis', retryable: false },
      );
    }
  }
}
