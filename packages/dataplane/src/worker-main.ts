// Entry point of a data-plane worker process (the primary's `cluster.setupPrimary({ exec })`): the
// IPC channel and the process's signals wired to a WorkerRuntime.
import { setFlagsFromString } from 'node:v8';
import { flushLogs } from './access-log.ts';
import { type Send, WorkerRuntime } from './worker.ts';

/**
 * The cluster worker's entry: wire the IPC channel to a WorkerRuntime. A failure in one request
 * must never end the worker, so stray exceptions and rejections (and a failed message handler) are
 * logged and counted (WorkerRuntime.reportStrayError) instead of crashing it.
 */
function startWorker(): WorkerRuntime {
  if (typeof process.send !== 'function') {
    throw new Error('the data-plane worker must be started by the primary (node:cluster with an IPC channel)');
  }
  const send: Send = (message) => {
    if (process.connected) process.send?.(message);
  };
  const runtime = new WorkerRuntime(send, (code) => {
    // Let the IPC message (gh:drained, gh:bind-failed) leave before the process does.
    setImmediate(() => process.exit(code));
  });
  process.on('message', (message) => {
    runtime.onMessage(message).catch((error: unknown) => runtime.reportStrayError('message_handler', error));
  });
  process.on('uncaughtException', (error) => runtime.reportStrayError('uncaught_exception', error));
  process.on('unhandledRejection', (error) => runtime.reportStrayError('unhandled_rejection', error));
  // Normally the primary sends gh:drain. A signal that reaches the worker itself (Ctrl-C in a
  // terminal hits the whole process group; systemd may signal every process of the unit) starts
  // the same drain; a second drain request is a no-op.
  const drainOnSignal = () => {
    void runtime.onMessage({ type: 'gh:drain', deadlineMs: runtime.drainDeadlineMs() });
  };
  process.on('SIGINT', drainOnSignal);
  process.on('SIGTERM', drainOnSignal);
  process.on('disconnect', () => {
    flushLogs();
    process.exit(0);
  });
  return runtime;
}

// V8 doubles the young generation under a high allocation rate up to 2 × 64 MiB on a large-memory
// machine, and never gives it back: at 200 connections that was ~95 MiB of each worker's RSS.
// Per-request garbage dies young, so a fixed small nursery costs a little more scavenging
// (3–7 µs per request measured at 50–200 connections) for a bounded footprint. The semi-space maximum itself can only be
// set at start-up (the primary owns execArgv); the growth factor is read at every scavenge.
setFlagsFromString('--semi-space-growth-factor=1');
startWorker();
