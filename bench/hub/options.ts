/**
 * @module bench/hub/options
 * Command-line options of the hub benchmark, with defaults sized for the 2-core machine.
 */
import { parseArgs } from 'node:util';
import { SERVER_KINDS, type ServerKind } from './wire.js';

export interface HubBenchOptions {
  clients: number;
  channels: number;
  /** Publications per second in the target scenario (all channels together). */
  rate: number;
  payloadBytes: number;
  durationMs: number;
  stepDurationMs: number;
  warmupMs: number;
  servers: ServerKind[];
  receivers: number;
  saturation: boolean;
  stepFactor: number;
  refine: number;
  minRate: number;
  maxRate: number;
  p99LimitMs: number;
  targetP99Ms: number;
  idleClients: number;
  idle: boolean;
  /** Servers of the idle-memory measurement: the bare ws server is the reference the target names. */
  idleServers: ServerKind[];
  outDir: string;
  quick: boolean;
  /** When set, the load runs' servers write V8 CPU profiles (--cpu-prof) here. */
  profileServerDir?: string;
  /**
   * The black-box ladder (--ladder): instead of the target scenario and the saturation search,
   * each server runs these steps (deliveries/s, turned into publications/s by the subscriber
   * count) once each, in order; results replace hub.json and hub.md.
   */
  ladder: number[] | null;
  /**
   * Ladder repetitions (--repeat): every server runs the whole ladder this many times, the order
   * of the servers reversed every other repetition; each rung is judged on the medians.
   */
  repeat: number;
}

/** The ladder's steps in deliveries/s (the scenario) and the servers it runs by default. */
export const DEFAULT_LADDER = [25_000, 50_000, 100_000, 200_000, 400_000, 1_000_000];
export const LADDER_SERVERS = 'airwaves-cli,airwaves-cli-all,ws-frame,socketio';

export const USAGE = `usage: npm run bench -- hub [options]
  --clients N         subscribers (default 1000; --quick 200)
  --channels N        channels; subscriber i joins channel i mod N (default 1)
  --rate N            publications/s of the target scenario (default 200)
  --payload BYTES     size of each publication's data (default 200)
  --duration S        seconds of the target scenario (default 5; --quick 3)
  --step-duration S   seconds of each saturation step (default 3; --quick 2)
  --warmup S          unreported warm-up at the target rate (default 1)
  --servers LIST      comma list of airwaves,ws,socketio (default all three)
  --receivers N       receiver processes sharing the subscribers (default 2)
  --no-saturation     skip the saturation search
  --step-factor X     saturation ladder factor (default 2)
  --refine N          bisection steps between the last pass and first fail (default 1; --quick 0)
  --min-rate N        lowest rate the ladder steps down to (default 25)
  --max-rate N        highest rate the ladder steps up to (default 51200)
  --p99-limit MS      saturation criterion (default 50)
  --idle-clients N    clients of the idle-memory measurement (default 5000; --quick 1000)
  --no-idle           skip the idle-memory measurement
  --idle-servers LIST servers of the idle-memory measurement (default airwaves,ws; add socketio for information)
  --out DIR           where hub.json and hub.md go (default bench/results)
  --profile-server DIR  write a V8 CPU profile of each server's load run to DIR
  --quick             smaller, shorter run (about a minute)
  --ladder            black-box mode: the built CLI (npm run build first) beside the peers, each
                      running the deliveries/s steps once, in order; --servers defaults to
                      ${LADDER_SERVERS}; --duration is per step
  --ladder-rates LIST the ladder's deliveries/s (default ${DEFAULT_LADDER.join(',')}; implies --ladder)
  --repeat N          run the ladder N times (default 1), the servers' order reversed every other
                      time; each rung reports the medians of p50 and p99 with their spread, and
                      the targets are judged on the medians (3 or more recommended)`;

/** A numeric command-line option: its value within [min, max], the fallback when absent; else a message naming it. */
export function numberOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number in [${min}, ${max}] (got "${raw}")`);
  return v;
}

/** The load-shape options the hub and cluster benchmarks share (their command-line spellings). */
export const LOAD_SHAPE_FLAGS = {
  clients: { type: 'string' },
  channels: { type: 'string' },
  rate: { type: 'string' },
  payload: { type: 'string' },
  duration: { type: 'string' },
  'step-duration': { type: 'string' },
  warmup: { type: 'string' },
  receivers: { type: 'string' },
  'no-saturation': { type: 'boolean' },
  quick: { type: 'boolean' },
} as const;

type LoadShapeValues = { [K in keyof typeof LOAD_SHAPE_FLAGS]?: (typeof LOAD_SHAPE_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/** The load shape from parsed flags; `defaults` are the benchmark's own (with and without --quick). */
export function loadShape(values: LoadShapeValues, defaults: { clients: number; quickClients: number; rate: number }) {
  const quick = values.quick ?? false;
  return {
    clients: Math.round(numberOption('clients', values.clients, quick ? defaults.quickClients : defaults.clients, 1, 20_000)),
    channels: Math.round(numberOption('channels', values.channels, 1, 1, 10_000)),
    rate: numberOption('rate', values.rate, defaults.rate, 1, 1_000_000),
    payloadBytes: Math.round(numberOption('payload', values.payload, 200, 40, 60_000)),
    durationMs: 1000 * numberOption('duration', values.duration, quick ? 3 : 5, 0.2, 600),
    stepDurationMs: 1000 * numberOption('step-duration', values['step-duration'], quick ? 2 : 3, 0.2, 600),
    warmupMs: 1000 * numberOption('warmup', values.warmup, 1, 0, 60),
    receivers: Math.round(numberOption('receivers', values.receivers, 2, 1, 16)),
    saturation: !values['no-saturation'],
  };
}

export function parseOptions(args: string[], defaultOut: string): HubBenchOptions {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      ...LOAD_SHAPE_FLAGS,
      servers: { type: 'string' },
      'step-factor': { type: 'string' },
      refine: { type: 'string' },
      'min-rate': { type: 'string' },
      'max-rate': { type: 'string' },
      'p99-limit': { type: 'string' },
      'idle-clients': { type: 'string' },
      'no-idle': { type: 'boolean' },
      'idle-servers': { type: 'string' },
      out: { type: 'string' },
      'profile-server': { type: 'string' },
      ladder: { type: 'boolean' },
      'ladder-rates': { type: 'string' },
      repeat: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const serverList = (name: string, raw: string): ServerKind[] => {
    const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of list) {
      if (!SERVER_KINDS.includes(s as ServerKind)) throw new Error(`--${name}: unknown server "${s}"; expected some of ${SERVER_KINDS.join(', ')}`);
    }
    return list as ServerKind[];
  };
  const ladder = values.ladder || values['ladder-rates'] !== undefined ? ladderSteps(values['ladder-rates']) : null;
  if (values.repeat !== undefined && !ladder) throw new Error('--repeat needs --ladder (or --ladder-rates)');
  const servers = serverList('servers', values.servers ?? (ladder ? LADDER_SERVERS : 'airwaves,ws,socketio'));
  const shape = loadShape(values, { clients: 1000, quickClients: 200, rate: 200 });
  return {
    ...shape,
    ...(ladder ? { saturation: false, rate: ladder[0]! / shape.clients } : {}),
    ladder,
    servers,
    stepFactor: numberOption('step-factor', values['step-factor'], 2, 1.05, 10),
    refine: Math.round(numberOption('refine', values.refine, quick ? 0 : 1, 0, 10)),
    minRate: numberOption('min-rate', values['min-rate'], 25, 1, 1_000_000),
    maxRate: numberOption('max-rate', values['max-rate'], 51_200, 1, 10_000_000),
    p99LimitMs: numberOption('p99-limit', values['p99-limit'], 50, 0.1, 60_000),
    targetP99Ms: 25,
    idleClients: Math.round(numberOption('idle-clients', values['idle-clients'], quick ? 1000 : 5000, 1, 20_000)),
    idle: !values['no-idle'] && !ladder,
    idleServers: serverList('idle-servers', values['idle-servers'] ?? 'airwaves,ws'),
    outDir: values.out ?? defaultOut,
    quick,
    profileServerDir: values['profile-server'],
    repeat: Math.round(numberOption('repeat', values.repeat, 1, 1, 20)),
  };
}

/** `--ladder-rates 50000,100000`: positive deliveries/s, in the order given. */
function ladderSteps(raw: string | undefined): number[] {
  if (raw === undefined) return DEFAULT_LADDER;
  const steps = raw.split(',').map((x) => Number(x.trim()));
  if (steps.length === 0 || steps.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`--ladder-rates must be a comma list of positive deliveries/s (got "${raw}")`);
  return steps;
}
