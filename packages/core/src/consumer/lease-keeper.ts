// Lease renewal: a timer extending, in one call, every lease that is due; and the extensions users ask for.
import { budget } from '../backoff.js';
import { settleInBatches } from '../batch-call.js';
import type { DriverSubscription, DriverV2, LeaseRequest } from '../driver.js';
import { type OmnibusError, toOmnibusError } from '../errors.js';
import type { LinkedList } from '../linked-list.js';
import type { ReceivedEnvelope } from '../message.js';
import { checkMilliseconds } from '../rules.js';

/** Settings the lease keeper reads. */
export interface LeaseSettings {
  /** Lease length asked for, and renewed to. */
  readonly ackDeadlineMs: number;
  /** Longest lease `extendLease` may ask for: the portable bound, within the driver's. */
  readonly maxLeaseMs: number;
  readonly operationTimeoutMs: number;
  readonly onError: (error: OmnibusError) => void;
}

/**
 * Keeps the leases of unsettled messages alive: every third of `ackDeadlineMs` it extends, in as
 * few driver calls as `capabilities.batch.settle` allows, each lease that is a third or more
 * through, so a lease is renewed well before it ends without one call per message.
 */
export class LeaseKeeper<T> {
  private readonly driver: DriverV2;
  private readonly subscription: DriverSubscription;
  private readonly settings: LeaseSettings;
  /** The loop's unsettled messages, read on every tick. */
  private readonly unsettled: LinkedList<ReceivedEnvelope<T>>;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    driver: DriverV2,
    subscription: DriverSubscription,
    settings: LeaseSettings,
    unsettled: LinkedList<ReceivedEnvelope<T>>,
  ) {
    this.driver = driver;
    this.subscription = subscription;
    this.settings = settings;
    this.unsettled = unsettled;
  }

  /** Starts renewing, unless the driver can't extend leases. */
  start(): void {
    if (this.driver.capabilities.leaseExtension === 'none') return;
    const period = Math.max(5, Math.floor(this.settings.ackDeadlineMs / 3));
    this.timer = setInterval(() => this.renew(), period);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** `msg.extendLease(ms)`: a no-op once the message is settled. */
  async extend(message: ReceivedEnvelope<T>, ms: number): Promise<void> {
    checkMilliseconds(ms, 'extendLease ms', this.settings.maxLeaseMs);
    if (message.outcome !== undefined) return;
    message.leaseExpiresAt = Math.max(message.leaseExpiresAt, Date.now() + ms);
    if (this.driver.capabilities.leaseExtension === 'none') return;
    await this.call(
      [{ handle: message.received.handle, leaseMs: ms }],
      `extending the lease of message ${message.id} failed`,
    );
  }

  private renew(): void {
    if (this.unsettled.size === 0) return;
    const { ackDeadlineMs } = this.settings;
    const now = Date.now();
    const threshold = now + (ackDeadlineMs * 2) / 3;
    const due: ReceivedEnvelope<T>[] = [];
    for (const message of this.unsettled) {
      if (message.leaseExpiresAt <= threshold) {
        message.leaseExpiresAt = now + ackDeadlineMs;
        due.push(message);
      }
    }
    if (due.length === 0) return;
    this.call(
      due.map((message) => ({ handle: message.received.handle, leaseMs: ackDeadlineMs })),
      'lease extension failed',
    ).catch((error: unknown) =>
      this.settings.onError(toOmnibusError(error, this.driver, 'lease extension failed')),
    );
  }

  private call(requests: readonly LeaseRequest[], failure: string): Promise<void> {
    return settleInBatches(
      requests,
      this.driver.capabilities.batch.settle,
      (entries) => this.subscription.extendLease(entries),
      (error) => toOmnibusError(error, this.driver, failure),
      budget(this.settings.operationTimeoutMs),
    );
  }
}
