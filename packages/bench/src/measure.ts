import { performance } from 'node:perf_hooks';
import { brokerCpuMs } from './broker-cpu.ts';
import type { Measurement } from './scenario.ts';

export interface MeasureOptions {
  /**
   * TCP port of a broker on this machine: its process's CPU time over the section is taken too
   * (`Measurement.brokerCpuMs`), so a side's cost to the broker shows next to its own.
   */
  readonly brokerPort?: number;
}

/**
 * Times `work`, which must push `messages` messages end to end and resolve when the last one was
 * handled (and acked). Only this section counts towards throughput: do set-up before and
 * tear-down after. Also takes this process's CPU time over the section (user + system), which a
 * busy machine disturbs much less than wall time, and with `brokerPort` the broker's CPU time.
 */
export async function measure(
  messages: number,
  work: () => Promise<void>,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const brokerBefore =
    options.brokerPort === undefined ? undefined : brokerCpuMs(options.brokerPort);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const brokerAfter =
    brokerBefore === undefined || options.brokerPort === undefined
      ? undefined
      : brokerCpuMs(options.brokerPort);
  return {
    messages,
    elapsedMs,
    cpuMs: (used.user + used.system) / 1000,
    ...(brokerAfter === undefined || brokerBefore === undefined
      ? {}
      : { brokerCpuMs: brokerAfter - brokerBefore }),
  };
}

/**
 * Peak resident set size of this process so far, in MiB. The harness runs each side of a scenario
 * in its own process, so this is that side's peak: `maxRSS` is sampled by the kernel and misses
 * nothing, unlike a timer that a busy event loop would starve.
 */
export function peakRssMiB(): number {
  // resourceUsage().maxRSS is in KiB.
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}
