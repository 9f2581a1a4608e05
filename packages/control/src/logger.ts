// The primary's logger: pino JSON lines on stdout through an asynchronous destination, so logging
// never blocks the event loop. A pretty stream (pino-pretty) can be passed in for terminals; the
// CLI owns that dependency. `GATEHOUSE_LOG_FORMAT` wins over the config's `gateway.log.format`.
import type { LogConfig } from '@gatehouse/config';
import pino from 'pino';

export type LogFormat = LogConfig['format'];

/** The environment variable overrides the config file, so an operator can switch without editing it. */
export function resolveLogFormat(fromEnv: string | undefined, configured: LogFormat): LogFormat {
  if (fromEnv === 'json' || fromEnv === 'pretty') return fromEnv;
  return configured;
}

export interface PrimaryLogger {
  logger: pino.Logger;
  /** Writes whatever is buffered; call before the process exits. */
  flush(): void;
}

export function createPrimaryLogger(options: {
  level: LogConfig['level'];
  /** A ready-made stream (pino-pretty); when absent, JSON lines go to fd 1 asynchronously. */
  stream?: NodeJS.WritableStream | null;
}): PrimaryLogger {
  // Level names, not numbers, as the workers' lines have them: one log stream, one shape.
  const settings = {
    level: options.level,
    base: { pid: process.pid, role: 'primary' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.stream) {
    const logger = pino(settings, options.stream);
    return { logger, flush: () => {} };
  }
  const destination = pino.destination({ dest: 1, sync: false, minLength: 0 });
  const logger = pino(settings, destination);
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // Not yet open or already closed: nothing left to write.
      }
    },
  };
}
