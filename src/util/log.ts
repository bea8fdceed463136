import cliProgress from 'cli-progress';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

/** Logger settings; the CLI sets them once from --quiet, --verbose and --log-format. */
export interface LogOptions {
  /** Lowest level printed. Default 'info'; --quiet raises it to 'warn', --verbose lowers it to 'debug'. */
  level: LogLevel;
  /** 'text' prints one readable line per event, 'json' one JSON object per line. Default 'text'. */
  format: LogFormat;
  /** Draw progress bars; default true only when stderr is a terminal and the format is text. */
  progressBars: boolean;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let options: LogOptions = {
  level: 'info',
  format: 'text',
  progressBars: Boolean(process.stderr.isTTY),
};

export function configureLogging(next: Partial<LogOptions>): void {
  options = { ...options, ...next };
  if (options.format === 'json') options.progressBars = false;
}

export function loggingOptions(): LogOptions {
  return { ...options };
}

/**
 * Writes log events to stderr, so that stdout stays free for results (`privacy epsilon --json`).
 * Hand-written because the events are few and structured; pino would add a transport for pretty text.
 */
export class Logger {
  constructor(readonly scope: string) {}

  child(scope: string): Logger {
    return new Logger(`${this.scope}:${scope}`);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  /** Starts a progress report over `total` units: a bar on a terminal, else a log line every ~10%. */
  progress(label: string, total: number): Progress {
    return new Progress(this, label, total);
  }

  write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[options.level]) return;
    if (options.format === 'json') {
      process.stderr.write(
        JSON.stringify({ time: new Date().toISOString(), level, scope: this.scope, message, ...fields }) + '\n',
      );
      return;
    }
    const time = new Date().toISOString().slice(11, 19);
    const tag = level === 'info' ? '' : ` ${level.toUpperCase()}`;
    process.stderr.write(`[${time}]${tag} ${this.scope}: ${message}\n`);
  }
}

/** Progress over a known number of units (rows, epochs) with an optional status text. */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastLoggedFraction = -1;
  private readonly started = Date.now();

  constructor(
    private readonly logger: Logger,
    private readonly label: string,
    private readonly total: number,
  ) {
    if (options.progressBars && LEVEL_ORDER.info >= LEVEL_ORDER[options.level]) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${logger.scope}: ${label} [{bar}] {value}/{total} {status}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(total, 1), 0, { status: '' });
    }
  }

  update(done: number, status = ''): void {
    if (this.bar) {
      this.bar.update(done, { status });
      return;
    }
    const fraction = this.total > 0 ? done / this.total : 1;
    if (fraction - this.lastLoggedFraction >= 0.1 || done === this.total) {
      this.lastLoggedFraction = fraction;
      this.logger.info(`${this.label} ${done}/${this.total}${status ? ` ${status}` : ''}`, {
        done,
        total: this.total,
      });
    }
  }

  finish(status = ''): void {
    if (this.bar) {
      this.bar.update(this.total, { status });
      this.bar.stop();
    }
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    this.logger.info(`${this.label} finished in ${seconds} s${status ? ` (${status})` : ''}`);
  }
}

export const rootLogger = new Logger('genevae');
