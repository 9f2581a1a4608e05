// The control plane (the primary). `gatehouse run` uses loadInitial + Primary; the operator surfaces
// use GatewayApi.
export * from './errors.ts';
export type * from './gateway-api.ts';
export { createPrimaryLogger, type LogFormat, type PrimaryLogger, resolveLogFormat } from './logger.ts';
export { type InitialLoad, loadInitial } from './initial-load.ts';
export { readTcpMigrateReq } from './listener-migration.ts';
export { Primary, type PrimaryOptions } from './primary.ts';
export { installSignalHandlers, type SignalActions } from './signals.ts';
// For `gatehouse reload|restart|status`: find and call a running instance.
export * from './admin-client.ts';
