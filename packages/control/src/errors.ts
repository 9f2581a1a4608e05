// The control plane's error family. Each class has a stable `code` that logs, metrics and the CLI use;
// the message is for humans and may change.

export class ControlError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The config file named by --config, GATEHOUSE_CONFIG or the default path cannot be read. */
export class ConfigUnreadableError extends ControlError {
  readonly file: string;
  constructor(file: string, reason: string) {
    super('GH_CONFIG_UNREADABLE', `cannot read config file ${file}: ${reason}`);
    this.file = file;
  }
}

/** A worker could not bind a listener: start-up stops with this. */
export class BindFailedError extends ControlError {
  readonly address: string;
  readonly reason: string;
  constructor(address: string, reason: string) {
    super('GH_BIND_FAILED', `cannot listen on ${address}: ${reason}`);
    this.address = address;
    this.reason = reason;
  }
}

/** A worker exited before it was serving (during start-up or while being brought to the current generation). */
export class WorkerStartError extends ControlError {
  constructor(message: string) {
    super('GH_WORKER_START', message);
  }
}

/** A worker did not answer a request (prepare, stats, listening) in time. */
export class WorkerTimeoutError extends ControlError {
  constructor(message: string) {
    super('GH_WORKER_TIMEOUT', message);
  }
}

/** A two-phase rollout ended in abort: at least one worker could not prepare the generation. */
export class RolloutAbortedError extends ControlError {
  readonly generation: number;
  constructor(generation: number, reason: string) {
    super('GH_ROLLOUT_ABORTED', `generation ${generation} aborted: ${reason}`);
    this.generation = generation;
  }
}

/** An operation was asked of a primary that is draining or stopped. */
export class ShuttingDownError extends ControlError {
  constructor(what: string) {
    super('GH_SHUTTING_DOWN', `${what}: the gateway is shutting down`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
