/**
 * `npm run bench -- [adapter ...] [--runs 3] [--messages N] [--filter TEXT]`
 *
 * Runs the scenarios of the named adapters (default: every adapter with `bench/scenarios.ts`
 * whose broker is reachable), each side in its own process, `--runs` times, alternating which
 * side goes first. Prints progress, one `BENCH {json}` line per scenario, then a table.
 * Figures are reported, never asserted: the exit status is non-zero only if a run failed.
 */
import { fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AdapterBench, discoverAdapters, loadBenchModule } from './discover.ts';
import {
  describeLatencyResult,
  describeRunLatency,
  formatLatencyTable,
  latencyAndMemoryTargetsMet,
  latencyOfRuns,
} from './latency-report.ts';
import {
  benchLine,
  callsPer1000,
  callsPer1000ByOperation,
  formatCalls,
  formatRate,
  formatTable,
  type ScenarioResult,
  targetsMet,
} from './report.ts';
import type { SideReport } from './run-side.ts';
import type { BenchScenario } from './scenario.ts';
import { median, ratio, throughput } from './statistics.ts';

const usage = `usage: npm run bench -- [adapter ...] [options]

  adapter            folder names under adapters/ (default: all with bench/scenarios.ts whose
                     broker is reachable; memory always)
  --runs N           measured runs per side, median reported (default 3)
  --messages N       messages per run, overriding each scenario's own count
  --warmup N         warm-up messages per process, overriding each scenario's own count
  --filter TEXT      only scenarios whose name contains TEXT
  --timeout-ms N     kill a run that takes longer (default 600000)
  --help`;

const runSideFile = fileURLToPath(new URL('./run-side.ts', import.meta.url));

function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(number) || number < 0) {
    throw new Error(`--${option} must be a non-negative integer, got ${value}`);
  }
  return number;
}

function runSide(
  file: string,
  scenario: BenchScenario,
  side: 'omnibus' | 'baseline',
  messages: number,
  warmup: number,
  timeoutMs: number,
): Promise<SideReport> {
  return new Promise((resolve, reject) => {
    const child = fork(runSideFile, [file, scenario.name, side, String(messages), String(warmup)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: SideReport | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${scenario.name} (${side}) took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (message) => {
      report = message as SideReport;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (report !== undefined) resolve(report);
      else reject(new Error(`${scenario.name} (${side}) exited with ${signal ?? `code ${code}`}`));
    });
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      messages: { type: 'string' },
      warmup: { type: 'string' },
      filter: { type: 'string' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const runs = positiveInteger(values.runs, 'runs') ?? 3;
  const messagesOverride = positiveInteger(values.messages, 'messages');
  const warmupOverride = positiveInteger(values.warmup, 'warmup');
  const timeoutMs = positiveInteger(values['timeout-ms'], 'timeout-ms') ?? 600_000;
  if (runs < 1) throw new Error('--runs must be at least 1');

  const discovered = discoverAdapters();
  const known = new Set(discovered.map((bench) => bench.adapter));
  const unknown = positionals.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const names = [...known].join(', ') || 'none';
    console.error(`no bench/scenarios.ts for: ${unknown.join(', ')} (adapters with one: ${names})`);
    return 2;
  }
  const explicit = positionals.length > 0;
  // An adapter may have several scenarios files (its own and one kept in packages/bench).
  const selected: AdapterBench[] = explicit
    ? [...new Set(positionals)].flatMap((name) =>
        discovered.filter((bench) => bench.adapter === name),
      )
    : discovered;

  const cpu = cpus();
  console.log(
    `Omnibus bench · Node ${process.version} · ${cpu.length} × ${cpu[0]?.model ?? 'cpu'} · ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB · ${new Date().toISOString()}`,
  );
  console.log(`runs per side: ${runs} (median reported), each run in a fresh process\n`);

  const results: ScenarioResult[] = [];
  let failures = 0;
  for (const bench of selected) {
    const module = await loadBenchModule(bench.file);
    const availability = module.available === undefined ? true : await module.available();
    if (availability !== true) {
      const message = `${bench.adapter}: broker not reachable (${availability})`;
      if (explicit) {
        console.error(`${message}; start it with .ci/brokers.sh start`);
        failures++;
      } else {
        console.log(`${message}, skipped`);
      }
      continue;
    }
    const scenarios = module.scenarios.filter(
      (scenario) => values.filter === undefined || scenario.name.includes(values.filter),
    );
    for (const scenario of scenarios) {
      const messages = messagesOverride ?? scenario.messages;
      const warmup =
        warmupOverride ??
        scenario.warmupMessages ??
        Math.min(20_000, Math.max(1, Math.floor(messages / 10)));
      console.log(`▶ ${scenario.name}: ${scenario.description}`);
      console.log(`  omnibus: ${scenario.omnibus.label} · baseline: ${scenario.baseline.label}`);
      const reports = { omnibus: [] as SideReport[], baseline: [] as SideReport[] };
      try {
        for (let run = 0; run < runs; run++) {
          // Alternate which side goes first, so neither always gets the cooler machine.
          const order =
            run % 2 === 0 ? (['omnibus', 'baseline'] as const) : (['baseline', 'omnibus'] as const);
          for (const side of order) {
            const report = await runSide(bench.file, scenario, side, messages, warmup, timeoutMs);
            reports[side].push(report);
            const calls = callsPer1000(report);
            console.log(
              `  run ${run + 1}/${runs} ${side.padEnd(8)} ` +
                `${formatRate(throughput(report.messages, report.elapsedMs)).padStart(11)} msg/s ` +
                `(${report.elapsedMs.toFixed(0)} ms` +
                (report.cpuMs === undefined
                  ? ''
                  : `, CPU ${((report.cpuMs * 1000) / report.messages).toFixed(1)} µs/msg`) +
                (report.brokerCpuMs === undefined
                  ? ''
                  : `, broker CPU ${((report.brokerCpuMs * 1000) / report.messages).toFixed(1)} µs/msg`) +
                `, peak RSS ${report.peakRssMiB.toFixed(1)} MiB` +
                (calls === undefined
                  ? ''
                  : `, ${calls.toFixed(1)} API calls/1k msgs: ${formatCalls(callsPer1000ByOperation([report])!)}`) +
                `${describeRunLatency(report)})`,
            );
          }
        }
      } catch (error) {
        failures++;
        console.error(
          `  ✗ ${scenario.name} failed:`,
          error instanceof Error ? error.message : error,
        );
        continue;
      }
      const rates = (side: 'omnibus' | 'baseline') =>
        reports[side].map((report) => throughput(report.messages, report.elapsedMs));
      const omnibusRuns = rates('omnibus');
      const baselineRuns = rates('baseline');
      const omnibusMsgPerSec = median(omnibusRuns);
      const baselineMsgPerSec = median(baselineRuns);
      const scenarioRatio = ratio(omnibusMsgPerSec, baselineMsgPerSec);
      const calls = (side: 'omnibus' | 'baseline') => {
        const perRun = reports[side].map(callsPer1000);
        return perRun.every((value): value is number => value !== undefined)
          ? median(perRun)
          : undefined;
      };
      const cpu = (side: 'omnibus' | 'baseline', of: 'cpuMs' | 'brokerCpuMs' = 'cpuMs') => {
        const perRun = reports[side].map((report) => {
          const ms = report[of];
          return ms === undefined ? undefined : (ms * 1000) / report.messages;
        });
        return perRun.every((value): value is number => value !== undefined)
          ? Math.round(median(perRun) * 10) / 10
          : undefined;
      };
      const omnibusCpuUsPerMsg = cpu('omnibus');
      const baselineCpuUsPerMsg = cpu('baseline');
      const omnibusBrokerCpuUsPerMsg = cpu('omnibus', 'brokerCpuMs');
      const baselineBrokerCpuUsPerMsg = cpu('baseline', 'brokerCpuMs');
      const omnibusCallsPer1000 = calls('omnibus');
      const baselineCallsPer1000 = calls('baseline');
      const omnibusLatencyMs = latencyOfRuns(reports.omnibus);
      const baselineLatencyMs = latencyOfRuns(reports.baseline);
      const measured: ScenarioResult = {
        scenario: scenario.name,
        adapter: bench.adapter,
        omnibusLabel: scenario.omnibus.label,
        baselineLabel: scenario.baseline.label,
        n: messages,
        runs,
        omnibusMsgPerSec: Math.round(omnibusMsgPerSec),
        baselineMsgPerSec: Math.round(baselineMsgPerSec),
        ratio: scenarioRatio,
        peakRssMiB: Math.max(...reports.omnibus.map((report) => report.peakRssMiB)),
        baselinePeakRssMiB: Math.max(...reports.baseline.map((report) => report.peakRssMiB)),
        omnibusRunsMsgPerSec: omnibusRuns.map(Math.round),
        baselineRunsMsgPerSec: baselineRuns.map(Math.round),
        ...(omnibusCpuUsPerMsg === undefined ? {} : { omnibusCpuUsPerMsg }),
        ...(baselineCpuUsPerMsg === undefined ? {} : { baselineCpuUsPerMsg }),
        ...(omnibusBrokerCpuUsPerMsg === undefined ? {} : { omnibusBrokerCpuUsPerMsg }),
        ...(baselineBrokerCpuUsPerMsg === undefined ? {} : { baselineBrokerCpuUsPerMsg }),
        ...(omnibusCallsPer1000 === undefined
          ? {}
          : {
              omnibusCallsPer1000,
              omnibusCallsPer1000ByOperation: callsPer1000ByOperation(reports.omnibus),
            }),
        ...(baselineCallsPer1000 === undefined
          ? {}
          : {
              baselineCallsPer1000,
              baselineCallsPer1000ByOperation: callsPer1000ByOperation(reports.baseline),
            }),
        ...(omnibusLatencyMs === undefined ? {} : { omnibusLatencyMs }),
        ...(baselineLatencyMs === undefined ? {} : { baselineLatencyMs }),
        targets: scenario.targets,
        targetsMet: targetsMet(
          scenario.targets,
          omnibusMsgPerSec,
          scenarioRatio,
          omnibusCallsPer1000,
        ),
        node: process.version,
      };
      const extraMet = latencyAndMemoryTargetsMet(scenario.targets, measured);
      const result: ScenarioResult =
        extraMet === false ? { ...measured, targetsMet: false } : measured;
      results.push(result);
      console.log(
        `  = omnibus ${formatRate(omnibusMsgPerSec)} msg/s · baseline ` +
          `${formatRate(baselineMsgPerSec)} msg/s · ratio ${scenarioRatio?.toFixed(3) ?? '–'}` +
          (omnibusCpuUsPerMsg === undefined || baselineCpuUsPerMsg === undefined
            ? ''
            : ` · CPU µs/msg: omnibus ${omnibusCpuUsPerMsg}, baseline ${baselineCpuUsPerMsg}`) +
          (omnibusBrokerCpuUsPerMsg === undefined || baselineBrokerCpuUsPerMsg === undefined
            ? ''
            : ` · broker CPU µs/msg: omnibus ${omnibusBrokerCpuUsPerMsg}, baseline ${baselineBrokerCpuUsPerMsg}`) +
          (omnibusCallsPer1000 === undefined && baselineCallsPer1000 === undefined
            ? ''
            : ` · API calls/1k msgs: omnibus ${omnibusCallsPer1000?.toFixed(1) ?? '–'}, ` +
              `baseline ${baselineCallsPer1000?.toFixed(1) ?? '–'}`),
      );
      const latencyLine = describeLatencyResult(result);
      if (latencyLine !== '') console.log(latencyLine);
      console.log(benchLine(result));
      console.log();
    }
  }

  if (results.length > 0) console.log(formatTable(results));
  else console.log('no scenario ran');
  const latencyTable = formatLatencyTable(results);
  if (latencyTable !== '') console.log(`\n${latencyTable}`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  },
);
