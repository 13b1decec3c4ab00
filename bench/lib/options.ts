/** Command-line options of `npm run bench -- [flags]`. */

export const systemNames = ['direct', 'tollgate', 'portkey', 'tollgate-pg', 'tollgate-keys', 'node-proxy', 'tollgate-poll'] as const;
export type SystemName = (typeof systemNames)[number];

export interface BenchOptions {
  quick: boolean;
  /** Seconds per measurement. */
  durationS: number;
  /** Seconds of the same load, discarded, before each measurement. */
  warmupS: number;
  repetitions: number;
  connections: number;
  /** Requests per second of the fixed-rate scenario. */
  rate: number;
  /** Seconds at that rate, once per system before the first repetition, for V8 to compile what the pattern runs. */
  rateWarmupS: number;
  /** Requests per soak block (five blocks); 0 skips the soak. */
  soakBlock: number;
  scenarios: string[] | undefined;
  systems: SystemName[];
  loader: 'auto' | 'autocannon' | 'wrk';
  delayMs: number;
  chunkDelayMs: number;
  pin: boolean;
  /** nice(1) value of every process the bench starts (0: unchanged). */
  nice: number;
  logLevel: string;
  /** TOLLGATE_BUSY_POLL_MICROSECONDS of the `tollgate-poll` system. */
  busyPollMicroseconds: number;
  outDirectory: string;
  label: string | undefined;
  postgresUrl: string;
  redisUrl: string;
  help: boolean;
}

export const usage = `npm run bench -- [flags]        (or: node --import tsx bench/run.ts [flags], after npm run build)

  --quick                 about a minute: 1 repetition of 1 s measurements, a 5 x 2,000-request soak
  --duration=S            seconds per measurement (default 4)
  --warmup=S              seconds of discarded load before each measurement (default 1)
  --reps=N                repetitions; medians are reported (default 3)
  --connections=N         concurrency of the closed-loop scenarios (default 32)
  --rate=N                requests/s of the fixed-rate scenario (default 200)
  --rate-warmup=S         seconds at that rate per system before the first repetition (default 20; --quick 2)
  --soak=N                requests per soak block, five blocks (default 20000; 0 skips the soak)
  --scenarios=a,b         run only these scenarios (see the table in bench/README.md)
  --systems=a,b           of: ${systemNames.join(', ')} (default: all)
  --loader=L              auto (wrk when installed, else autocannon), autocannon or wrk
  --delay-ms=N            the mock waits N ms before answering (default 0)
  --chunk-delay-ms=N      the mock waits N ms between stream chunks (default 0)
  --no-pin                do not pin processes to cores with taskset
  --nice=N                run the bench's processes at this nice value (e.g. -10, needs root) so that
                          other work on a shared machine disturbs the measurements less (default 0)
  --log-level=L           Tollgate's LOG_LEVEL (default info, the production default)
  --busy-poll-us=N        TOLLGATE_BUSY_POLL_MICROSECONDS of the tollgate-poll system (default 500)
  --out=DIR               where results are written (default bench/results)
  --label=NAME            added to the result file names
  --postgres-url=URL      PostgreSQL server for tollgate-pg; a fresh database is created and dropped
                          (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url=URL         Redis for tollgate-pg (default redis://127.0.0.1:6379/15)
`;

function numberFlag(name: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < minimum) throw new Error(`--${name} must be a number >= ${minimum}`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    quick,
    durationS: quick ? 1 : 4,
    warmupS: quick ? 0.25 : 1,
    repetitions: quick ? 1 : 3,
    connections: 32,
    rate: 200,
    rateWarmupS: quick ? 2 : 20,
    soakBlock: quick ? 2_000 : 20_000,
    scenarios: undefined,
    systems: [...systemNames],
    loader: 'auto',
    delayMs: 0,
    chunkDelayMs: 0,
    pin: true,
    nice: 0,
    logLevel: 'info',
    busyPollMicroseconds: 500,
    outDirectory: 'bench/results',
    label: undefined,
    postgresUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: 'redis://127.0.0.1:6379/15',
    help: false,
  };
  for (const argument of argv) {
    const [flag, ...rest] = argument.split('=');
    const value = rest.join('=');
    switch (flag) {
      case '--quick':
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--duration':
        options.durationS = numberFlag('duration', value, 0.5);
        break;
      case '--warmup':
        options.warmupS = numberFlag('warmup', value, 0);
        break;
      case '--reps':
        options.repetitions = Math.round(numberFlag('reps', value, 1));
        break;
      case '--connections':
        options.connections = Math.round(numberFlag('connections', value, 1));
        break;
      case '--rate':
        options.rate = numberFlag('rate', value, 1);
        break;
      case '--rate-warmup':
        options.rateWarmupS = numberFlag('rate-warmup', value, 0);
        break;
      case '--soak':
        options.soakBlock = Math.round(numberFlag('soak', value, 0));
        break;
      case '--scenarios':
        options.scenarios = value.split(',').filter(Boolean);
        break;
      case '--systems': {
        const names = value.split(',').filter(Boolean);
        const unknown = names.filter((name) => !(systemNames as readonly string[]).includes(name));
        if (unknown.length > 0) throw new Error(`unknown system(s) ${unknown.join(', ')}; known: ${systemNames.join(', ')}`);
        options.systems = names as SystemName[];
        break;
      }
      case '--loader':
        if (value !== 'auto' && value !== 'autocannon' && value !== 'wrk') throw new Error('--loader must be auto, autocannon or wrk');
        options.loader = value;
        break;
      case '--delay-ms':
        options.delayMs = numberFlag('delay-ms', value, 0);
        break;
      case '--chunk-delay-ms':
        options.chunkDelayMs = numberFlag('chunk-delay-ms', value, 0);
        break;
      case '--no-pin':
        options.pin = false;
        break;
      case '--nice':
        options.nice = Math.round(Number(value));
        if (!Number.isInteger(options.nice) || options.nice < -20 || options.nice > 19) throw new Error('--nice must be an integer from -20 to 19');
        break;
      case '--log-level':
        options.logLevel = value;
        break;
      case '--busy-poll-us':
        options.busyPollMicroseconds = Math.round(numberFlag('busy-poll-us', value, 1));
        break;
      case '--out':
        options.outDirectory = value;
        break;
      case '--label':
        options.label = value.replace(/[^A-Za-z0-9._-]/g, '-');
        break;
      case '--postgres-url':
        options.postgresUrl = value;
        break;
      case '--redis-url':
        options.redisUrl = value;
        break;
      default:
        throw new Error(`unknown flag ${argument}\n\n${usage}`);
    }
  }
  return options;
}
