// Process signals of the primary: SIGHUP reloads, SIGUSR2 restarts the workers one at a time,
// SIGTERM and SIGINT drain. A second SIGTERM/SIGINT while draining is ignored: npm and terminals
// may forward Ctrl-C twice, and a drain must not be cut short by that.
import type { Logger } from 'pino';

export interface SignalActions {
  reload(): void;
  restart(): void;
  drain(signal: NodeJS.Signals): void;
}

export function installSignalHandlers(actions: SignalActions, logger: Logger): () => void {
  let draining = false;
  const onHup = () => {
    logger.info({ signal: 'SIGHUP' }, 'reload requested');
    actions.reload();
  };
  const onUsr2 = () => {
    logger.info({ signal: 'SIGUSR2' }, 'rolling restart requested');
    actions.restart();
  };
  const onStop = (signal: NodeJS.Signals) => {
    if (draining) {
      logger.info({ signal }, 'already draining; signal ignored');
      return;
    }
    draining = true;
    actions.drain(signal);
  };
  process.on('SIGHUP', onHup);
  process.on('SIGUSR2', onUsr2);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  return () => {
    process.off('SIGHUP', onHup);
    process.off('SIGUSR2', onUsr2);
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
  };
}
