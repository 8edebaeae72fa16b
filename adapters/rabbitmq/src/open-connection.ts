// Opens one AMQP connection within a time bound, and names the protocol when the endpoint isn't AMQP.
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { OmnibusError } from '@omnibus/core';
import { type ChannelModel, connect } from 'amqplib';
import { classifyError } from './classify-error.js';

/**
 * What the diagnosis sends: 8 bytes that start like an AMQP protocol header but aren't one, and are
 * two lines of text. An AMQP broker answers an unknown header with the header it speaks
 * (`AMQP 0 0 9 1` for RabbitMQ), Redis answers the line (`-ERR unknown command 'AMQP'`), an HTTP
 * server answers 400. (Redis stays silent to a real AMQP header: its NUL bytes stop the line.)
 */
const PROBE_BYTES = Buffer.from('AMQP\r\n\r\n', 'latin1');

/** Longest time kept back from the connect attempt to find out what answered instead of AMQP. */
const PROBE_BUDGET_MS = 2_000;

/** A handshake not done by then (RabbitMQ needs milliseconds) gets a probe alongside it. */
const EARLY_PROBE_MS = 1_000;

export interface OpenSettings {
  /** The broker URL as amqplib takes it (credentials included: never put it in a message). */
  readonly url: string;
  readonly socketOptions: Record<string, unknown>;
  /** Everything (TCP connect, TLS, AMQP handshake, and the diagnosis of a failure) ends within this. */
  readonly timeoutMs: number;
  /** Whether a failure that looks like a wrong endpoint is worth a diagnosis (before the first connect only). */
  readonly diagnose: boolean;
  readonly driverName: string;
}

/**
 * Connects with amqplib within `timeoutMs`. amqplib itself has no handshake bound (its socket
 * `timeout` is an idle timer, and an endpoint that never answers, Redis for one, waits forever), so
 * the attempt races a timer and a late connection is closed. When a first connect could be aimed at
 * something that isn't AMQP (it failed in a way that could mean that, or it hasn't finished its
 * handshake after {@link EARLY_PROBE_MS}, where RabbitMQ takes milliseconds), a second short
 * connection sends a probe and reads what comes back, so the error can say what answered (HTTP,
 * Redis, TLS, nothing) without waiting for the whole bound.
 */
export function openConnection(settings: OpenSettings): Promise<ChannelModel> {
  const startedAt = Date.now();
  const probeBudget = settings.diagnose
    ? Math.min(PROBE_BUDGET_MS, Math.floor(settings.timeoutMs / 4))
    : 0;
  const attempt = connectWithin(settings, Math.max(1, settings.timeoutMs - probeBudget));
  if (!settings.diagnose) return attempt;
  const target = endpointOf(settings.url);
  return new Promise<ChannelModel>((resolve, reject) => {
    let settled = false;
    let diagnosis: Promise<string | undefined> | undefined;
    const diagnose = () => {
      const remaining = Math.max(1, settings.timeoutMs - (Date.now() - startedAt));
      diagnosis ??= probe(target, settings.socketOptions, remaining).then((answer) =>
        describeAnswer(answer, target),
      );
      return diagnosis;
    };
    const fail = (mismatch: string | undefined, error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(early);
      reject(
        mismatch === undefined
          ? error
          : new OmnibusError('Config', mismatch, {
              retryable: false,
              driver: settings.driverName,
              cause: error,
            }),
      );
    };
    // A slow handshake alone proves nothing: only a probe that names another protocol ends it.
    const early = setTimeout(() => {
      void diagnose().then((mismatch) => {
        if (mismatch !== undefined) fail(mismatch, undefined);
      });
    }, EARLY_PROBE_MS);
    attempt.then(
      (connection) => {
        clearTimeout(early);
        if (!settled) {
          settled = true;
          resolve(connection);
          return;
        }
        connection.on('error', () => undefined);
        void connection.close().catch(() => undefined);
      },
      (error: unknown) => {
        clearTimeout(early);
        if (!worthDiagnosing(error)) fail(undefined, error);
        else void diagnose().then((mismatch) => fail(mismatch, error));
      },
    );
  });
}

class ConnectTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

function connectWithin(settings: OpenSettings, timeoutMs: number): Promise<ChannelModel> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(
        new ConnectTimeout(
          `no AMQP connection within ${timeoutMs} ms (TCP connect, TLS and AMQP handshake)`,
        ),
      );
    }, timeoutMs);
    connect(settings.url, { timeout: timeoutMs, ...settings.socketOptions }).then(
      (connection) => {
        clearTimeout(timer);
        if (done) {
          // Too late: the caller was already told; don't leak the connection.
          connection.on('error', () => undefined);
          void connection.close().catch(() => undefined);
          return;
        }
        done = true;
        resolve(connection);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (done) return;
        done = true;
        reject(error);
      },
    );
  });
}

/** Failures the broker explained (login, vhost) or where nothing answered at all need no diagnosis. */
function worthDiagnosing(error: unknown): boolean {
  if (error instanceof ConnectTimeout) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return false;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return false;
  const classification = classifyError(error);
  return classification?.code !== 'Unauthenticated' && classification?.code !== 'PermissionDenied';
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

function endpointOf(url: string): Endpoint {
  const parsed = new URL(url);
  const tls = parsed.protocol === 'amqps:';
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? (tls ? 5671 : 5672) : Number(parsed.port),
    tls,
  };
}

type Answer =
  | { readonly kind: 'unreachable' }
  | { readonly kind: 'silent'; readonly waitedMs: number }
  | { readonly kind: 'closed' }
  | { readonly kind: 'bytes'; readonly bytes: Buffer };

/** Sends {@link PROBE_BYTES} and reads the first bytes back. */
function probe(
  target: Endpoint,
  socketOptions: Record<string, unknown>,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    let connected = false;
    let received = Buffer.alloc(0);
    const socket: Socket = target.tls
      ? tlsConnect({ ...socketOptions, host: target.host, port: target.port }, onConnect)
      : new Socket().connect({ host: target.host, port: target.port }, onConnect);
    const finish = (answer: Answer) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => {
      if (!connected) finish({ kind: 'unreachable' });
      else if (received.length > 0) finish({ kind: 'bytes', bytes: received });
      else finish({ kind: 'silent', waitedMs: Date.now() - startedAt });
    }, timeoutMs);
    function onConnect() {
      connected = true;
      socket.write(PROBE_BYTES);
    }
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 8) finish({ kind: 'bytes', bytes: received });
    });
    socket.on('error', () => {
      if (!connected) finish({ kind: 'unreachable' });
      else finish(received.length > 0 ? { kind: 'bytes', bytes: received } : { kind: 'closed' });
    });
    socket.on('close', () => {
      if (!connected) finish({ kind: 'unreachable' });
      else finish(received.length > 0 ? { kind: 'bytes', bytes: received } : { kind: 'closed' });
    });
  });
}

/** A sentence naming the mismatch, or `undefined` when the endpoint does speak AMQP 0-9-1 (or can't be reached). */
function describeAnswer(answer: Answer, target: Endpoint): string | undefined {
  const where = `${target.tls ? 'amqps' : 'amqp'}:// endpoint ${target.host}:${target.port}`;
  const fix = 'check the host and port of the URL (RabbitMQ listens on 5672, 5671 with TLS)';
  switch (answer.kind) {
    case 'unreachable':
      return undefined;
    case 'silent':
      return `the ${where} accepted the TCP connection but did not answer the AMQP 0-9-1 handshake within ${answer.waitedMs} ms: it is probably not a RabbitMQ port (Redis, for one, waits silently); ${fix}`;
    case 'closed':
      return `the ${where} closed the connection without answering the AMQP 0-9-1 handshake: it is probably not a RabbitMQ port; ${fix}`;
    case 'bytes': {
      const { bytes } = answer;
      // connection.start: a method frame (type 1) on channel 0.
      if (bytes[0] === 1 && bytes[1] === 0 && bytes[2] === 0) return undefined;
      const text = bytes.subarray(0, 40).toString('latin1');
      if (text.startsWith('AMQP')) {
        const version = [...bytes.subarray(4, 8)].join('-');
        if (version === '0-0-9-1') return undefined;
        return `the ${where} speaks another AMQP version (it offered protocol header ${version}); Omnibus needs AMQP 0-9-1 (RabbitMQ's classic port), ${fix}`;
      }
      const shown = JSON.stringify(printable(text));
      if (text.startsWith('HTTP/'))
        return `the ${where} did not answer in AMQP 0-9-1: it answered in HTTP (${shown}), e.g. the management UI's port; ${fix}`;
      if (/^-[A-Z]{2,}[ \r]|^\+[A-Z]+\r/.test(text))
        return `the ${where} did not answer in AMQP 0-9-1: it answered in the Redis protocol (RESP: ${shown}); ${fix}`;
      if (bytes[0] === 0x15 || bytes[0] === 0x16)
        return `the ${where} did not answer in AMQP 0-9-1: it answered with a TLS record, so it expects TLS: use amqps://`;
      return `the ${where} did not answer in AMQP 0-9-1 (it answered ${shown}); ${fix}`;
    }
  }
}

function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are what is replaced.
  return text.replace(/[\x00-\x1f\x7f-\xff]/g, '.');
}
