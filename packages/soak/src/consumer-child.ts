// A soak consumer in its own process, so that the soak can SIGKILL it mid-stream.
import process from 'node:process';
import { setTimeout as delay } from 'node:timers/promises';
import { connect } from '@omnibus/core';
import type { ChildCommand, ChildConsumerConfig, ChildReport } from './consumer-protocol.ts';

function report(message: ChildReport): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) return reject(new Error('not started with an IPC channel'));
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

const config = JSON.parse(process.argv[2] ?? '') as ChildConsumerConfig;
const bus = await connect(config.url);
const consumer = bus.consumer<{ seq: number }>(config.topic, config.subscription, {
  ...config.consumerOptions,
  onError: (error) => void report({ type: 'error', message: error.message }).catch(() => undefined),
});

// The soak that started this process is gone: nobody counts what it handles any more.
process.once('disconnect', () => process.exit(1));

process.on('message', (command: ChildCommand) => {
  if (command.type !== 'stop') return;
  void (async () => {
    await consumer.stop();
    await bus.close();
    process.exit(0);
  })();
});

await consumer.start(async (message) => {
  if (config.failureRate > 0 && Math.random() < config.failureRate) {
    await report({ type: 'failed' });
    throw new Error('soak: injected handler failure');
  }
  if (config.workMs > 0) await delay(config.workMs);
  // Reported before the handler resolves, hence before the ack: whatever the broker saw acked,
  // the soak saw handled, even if this process is killed the next instant.
  await report({ type: 'handled', seq: message.body.seq, at: Date.now() });
});
await report({ type: 'ready' });
