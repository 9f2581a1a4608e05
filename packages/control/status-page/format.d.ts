// Types of format.js, which the browser loads as plain JavaScript and the CLI and tests import.
export declare const EXPIRY_SOON_DAYS: number;
export declare function formatDuration(seconds: number): string;
export declare function formatBytes(bytes: number): string;
export declare function formatRate(perSecond: number | null | undefined): string;
export declare function formatShare(share: number | null | undefined): string;
export declare function formatMs(ms: number | null | undefined): string;
export declare function backendState(
  backend: { up: boolean; ejectedUntil: number },
  nowMs: number,
): 'up' | 'down' | 'ejected';
export declare function describeProbe(
  probe: { ok: boolean; status: number | null; latencyMs: number | null; error: string | null } | null,
): string;
export declare function certificateExpiry(daysLeft: number): { level: 'ok' | 'soon' | 'expired'; text: string };
export declare function since(iso: string | null, nowMs: number): string;
