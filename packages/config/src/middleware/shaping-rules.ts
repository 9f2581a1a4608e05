// Rule specs of the request-shaping middleware types. A type moves from `plannedShapingTypes` to
// `shapingMiddlewareTypes` when the data plane can run it; until then naming it is an error.
import type { MiddlewareType } from './definition.ts';

export const shapingMiddlewareTypes: MiddlewareType[] = [];

/** Goma's shaping types that Gatehouse has not implemented yet (refused with "not implemented yet"). */
export const plannedShapingTypes: readonly string[] = [
  'rateLimit',
  'bodyLimit',
  'requestHeaders',
  'responseHeaders',
  'redirect',
  'redirectRegex',
  'redirectScheme',
  'rewriteRegex',
  'addPrefix',
  'stripQuery',
  'errorInterceptor',
  'accessLog',
];
