// `userAgentBlock`: a User-Agent containing one of the configured strings, in any case, is refused.
import type { MiddlewareConfigOf } from '@gatehouse/config';
import { answer, type MiddlewareRequest, type MiddlewareStep, type StepResult } from './step.ts';

const BLOCKED = answer(403, 'GH_USER_AGENT_BLOCKED', 'this client is not allowed', 'blocked_user_agent');

/** Is `userAgent` one of the blocked agents (substrings, already lower-cased)? Pure. */
export function isBlockedAgent(userAgent: string | undefined, blocked: readonly string[]): boolean {
  if (userAgent === undefined || userAgent === '') return false;
  const lower = userAgent.toLowerCase();
  for (const agent of blocked) if (lower.includes(agent)) return true;
  return false;
}

export class UserAgentBlockStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'userAgentBlock';
  private readonly agents: readonly string[];

  constructor(config: MiddlewareConfigOf<'userAgentBlock'>) {
    this.name = config.name;
    this.agents = config.rule.userAgents;
  }

  onRequest(r: MiddlewareRequest): StepResult {
    return isBlockedAgent(r.req.headers['user-agent'], this.agents) ? BLOCKED : null;
  }
}
