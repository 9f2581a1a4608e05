// Normalised rules of the request-shaping middlewares (rate limits, body limits, headers, CORS,
// redirects, error interception, access log). Each type added here also gets a rule spec in
// shaping-rules.ts; until then its name is refused as not implemented yet.

/** The union of the shaping middleware configs (none yet). */
export type ShapingMiddlewareConfig = never;
