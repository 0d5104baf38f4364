/**
 * Logging: quiet unless asked. `AWS_KVS_LOG_LEVEL` is read as the C SDK reads it (1 verbose,
 * 2 debug, 3 info, 4 warn, 5 error, 6 fatal, 7 silent); a caller may hand in its own logger.
 */

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const LEVELS = { debug: 2, info: 3, warn: 4, error: 5 } as const;

/** The level from `AWS_KVS_LOG_LEVEL`; 7 (silent) when unset or not a number 1-7. */
export function envLogLevel(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['AWS_KVS_LOG_LEVEL']);
  return Number.isInteger(n) && n >= 1 && n <= 7 ? n : 7;
}

/** A logger writing `[kvs-signaling] LEVEL message` to stderr at and above `level`. */
export function consoleLogger(level = envLogLevel(), prefix = 'kvs-signaling'): Logger {
  const at =
    (name: keyof typeof LEVELS) =>
    (message: string): void => {
      if (LEVELS[name] >= level)
        process.stderr.write(`[${prefix}] ${name.toUpperCase()} ${message}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
