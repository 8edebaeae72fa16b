// One AMQP connection that reconnects by itself, with bounded waits for callers during an outage.
import { ClosedError, OmnibusError, retryDelay } from '@omnibus/core';
import type { ChannelModel } from 'amqplib';
import { classifyError } from './classify-error.js';

export interface ReconnectSettings {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** How long a caller waits for the connection to come back before getting `Unavailable` (operationTimeoutMs). */
  readonly operationTimeoutMs: number;
}

interface Waiter {
  resolve(connection: ChannelModel): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One AMQP connection that comes back by itself. amqplib 2.x's opt-in `recovery` re-opens the
 * connection only; channels, consumers and unconfirmed publishes are ours to restore either way,
 * and we also want login failures reported instead of retried in silence, so the adapter keeps
 * its own small loop.
 *
 * Before the first successful connect a failure is reported at once (a wrong URL should not look
 * like an outage); after it, callers wait up to `operationTimeoutMs` while the loop retries
 * with capped exponential backoff and jitter, forever, until {@link close}.
 */
export class ReconnectingConnection {
  #current: ChannelModel | undefined;
  #loop: Promise<void> | undefined;
  #waiters = new Set<Waiter>();
  #connectedOnce = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #generation = 0;
  readonly #lostListeners = new Set<() => void>();

  constructor(
    /** Opens a connection within the operation bound; `firstConnect` asks for a diagnosis of a wrong endpoint. */
    private readonly open: (firstConnect: boolean) => Promise<ChannelModel>,
    private readonly settings: ReconnectSettings,
    private readonly driverName: string,
  ) {}

  /** The live connection, if any; increments of {@link generation} mean it was replaced. */
  get current(): ChannelModel | undefined {
    return this.#current;
  }

  get generation(): number {
    return this.#generation;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Calls `listener` whenever the connection is lost (not on {@link close}). */
  onLost(listener: () => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** The connection, waiting for a (re)connect if needed. */
  get(): Promise<ChannelModel> {
    if (this.#closed)
      return Promise.reject(
        new ClosedError('the RabbitMQ driver is closed', { driver: this.driverName }),
      );
    if (this.#current !== undefined) return Promise.resolve(this.#current);
    return new Promise<ChannelModel>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (this.#connectedOnce) {
        waiter.timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new OmnibusError(
              'Unavailable',
              `RabbitMQ unreachable for ${this.settings.operationTimeoutMs} ms (80 % of operationTimeoutMs); still reconnecting`,
              {
                retryable: true,
                driver: this.driverName,
              },
            ),
          );
        }, this.settings.operationTimeoutMs);
      }
      this.#waiters.add(waiter);
      this.#startLoop();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#settleWaiters(
      undefined,
      new ClosedError('the RabbitMQ driver is closed', { driver: this.driverName }),
    );
    const connection = this.#current;
    this.#current = undefined;
    if (connection !== undefined) await connection.close().catch(() => undefined);
    await this.#loop;
  }

  #startLoop(): void {
    if (this.#loop !== undefined || this.#closed) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
    });
  }

  async #run(): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        const connection = await this.open(!this.#connectedOnce);
        if (this.#closed) {
          await connection.close().catch(() => undefined);
          return;
        }
        this.#adopt(connection);
        return;
      } catch (error) {
        const wrapped = this.#wrap(error);
        if (!this.#connectedOnce) {
          // Nobody has seen this broker yet: report instead of retrying in the background.
          this.#settleWaiters(undefined, wrapped);
          return;
        }
        if (!wrapped.retryable) this.#settleWaiters(undefined, wrapped);
        await this.#sleep(this.#delay(attempt));
      }
    }
  }

  #adopt(connection: ChannelModel): void {
    // 'error' always comes with 'close'; without a listener Node would throw it.
    connection.on('error', () => undefined);
    connection.on('close', () => {
      if (this.#current !== connection) return;
      this.#current = undefined;
      this.#generation++;
      for (const listener of this.#lostListeners) listener();
      if (!this.#closed) this.#startLoop();
    });
    this.#current = connection;
    this.#generation++;
    this.#connectedOnce = true;
    this.#settleWaiters(connection, undefined);
  }

  #settleWaiters(connection: ChannelModel | undefined, error: unknown): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      if (connection !== undefined) waiter.resolve(connection);
      else waiter.reject(error);
    }
  }

  #wrap(error: unknown): OmnibusError {
    if (OmnibusError.isInstance(error)) return error;
    const classification = classifyError(error) ?? {
      code: 'Unavailable' as const,
      retryable: true,
    };
    const text = error instanceof Error ? error.message : String(error);
    return new OmnibusError(
      classification.code,
      `cannot connect to RabbitMQ: ${classification.message ?? text}`,
      { retryable: classification.retryable, driver: this.driverName, cause: error },
    );
  }

  #delay(attempt: number): number {
    return retryDelay(this.settings, attempt);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}
