// Operator-visible events of middlewares that run in the background (a JWKS refresh that failed):
// one structured line each, through the worker's logger once it has one.
export interface MiddlewareLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

let logger: MiddlewareLogger | null = null;

export function setMiddlewareLogger(next: MiddlewareLogger): void {
  logger = next;
}

export function middlewareEvent(level: 'warn' | 'info', fields: Record<string, unknown>, message: string): void {
  if (logger !== null) logger[level](fields, message);
  else if (level === 'warn') process.stderr.write(`${message} ${JSON.stringify(fields)}\n`);
}
