// brokerCpuMs finds the process listening on a port and reads its CPU time.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { brokerCpuMs } from './broker-cpu.ts';

describe.runIf(process.platform === 'linux')('brokerCpuMs', () => {
  it('reads the CPU time of the process listening on the port (here: this one)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const before = brokerCpuMs(port);
      expect(before).toBeTypeOf('number');
      // Spend 200 ms of CPU in this process, as measured by Node itself.
      const start = process.cpuUsage();
      for (;;) {
        const used = process.cpuUsage(start);
        if (used.user + used.system >= 200_000) break;
      }
      // /proc counts in 10 ms ticks: allow one tick on each reading.
      expect(brokerCpuMs(port)! - before!).toBeGreaterThanOrEqual(180);
    } finally {
      server.close();
    }
  });

  it('is undefined for a port nothing listens on', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(brokerCpuMs(port)).toBeUndefined();
  });
});
