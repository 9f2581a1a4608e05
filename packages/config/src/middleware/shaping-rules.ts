// Rule specs of the request-shaping middleware types (limits-rules.ts): rate limits, body limits,
// request and response headers with CORS, redirects and rewrites, error interception, access log.
import type { MiddlewareType } from './definition.ts';
import { limitsMiddlewareTypes } from './limits-rules.ts';

export const shapingMiddlewareTypes: MiddlewareType[] = [...limitsMiddlewareTypes];

/** Goma's shaping types that Gatehouse has not implemented yet (refused with "not implemented yet"). */
export const plannedShapingTypes: readonly string[] = [];
