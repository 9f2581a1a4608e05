// errorInterceptor: replaces the body of a backend error answer whose status the rule lists. Only
// answers that are known to be small (a Content-Length up to the rule's limit, or none at all on a
// bodiless status) are replaced; a larger or streamed one passes through untouched, so the gateway
// never buffers a backend body.
import type { ErrorInterceptorRule } from '@gatehouse/config';

export interface CompiledErrorInterceptor {
  /** By status: the replacement body, or null for Gatehouse's own error body. */
  readonly byStatus: ReadonlyMap<number, string | null>;
  readonly contentType: string;
  readonly maxBodyBytes: number;
}

export function compileErrorInterceptor(rule: ErrorInterceptorRule): CompiledErrorInterceptor {
  const byStatus = new Map<number, string | null>();
  for (const e of rule.errors) byStatus.set(e.statusCode, e.body);
  return { byStatus, contentType: rule.contentType, maxBodyBytes: rule.maxBodyBytes };
}

/**
 * Should this backend answer be replaced? `contentLength` is the backend's Content-Length (null when
 * absent); `chunked` is true when the body is streamed without a length.
 */
export function shouldIntercept(
  c: CompiledErrorInterceptor,
  status: number,
  contentLength: number | null,
  chunked: boolean,
): boolean {
  if (!c.byStatus.has(status)) return false;
  if (chunked) return false;
  return contentLength === null || contentLength <= c.maxBodyBytes;
}
