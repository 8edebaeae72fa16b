/**
 * Child-process entry: one fauxqs (SQS + SNS emulator) on a free loopback port, for the SQS bench.
 *
 * It runs in its own process, not inside the measured one, so the emulator's CPU is not charged to
 * the client's event loop (the way Redis and RabbitMQ run beside their benchmarks). fauxqs's own
 * CLI logs every request and takes its port from the environment; this entry starts it quietly on
 * port 0 and tells the parent the port over IPC. It exits when the parent goes away, so a killed
 * benchmark leaves no emulator behind.
 */
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, logger: false });
const stop = () => {
  server.stop().finally(() => process.exit(0));
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
if (process.send === undefined) {
  console.log(server.address);
} else {
  process.send({ port: server.port });
}
