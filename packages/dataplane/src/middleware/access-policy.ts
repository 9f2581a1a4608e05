// `accessPolicy`: ALLOW lets only the listed sources through, DENY refuses them. Ranges are
// compiled into a node:net BlockList (whole-address comparison, IPv4 and IPv6; an IPv4 rule also
// covers the IPv4-mapped IPv6 form). The client address is the one trustedProxies allows.
import { BlockList, isIP } from 'node:net';
import type { MiddlewareConfigOf } from '@gatehouse/config';
import { unmapAddress } from '../request/trusted-proxies.ts';
import { answer, type MiddlewareRequest, type MiddlewareStep, type StepResult } from './step.ts';

const DENIED = answer(403, 'GH_ACCESS_POLICY', 'access denied for this client address', 'source_denied');
const MAPPED = '::ffff:';

/** The BlockList of `sourceRanges` (validated by the config: addresses, CIDRs, `a-b` ranges). */
export function compileSourceRanges(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of ranges) {
    const text = raw.trim();
    const dash = text.indexOf('-');
    if (dash !== -1) {
      const first = text.slice(0, dash).trim();
      const last = text.slice(dash + 1).trim();
      const family = isIP(first);
      list.addRange(first, last, family === 4 ? 'ipv4' : 'ipv6');
      if (family === 4) list.addRange(MAPPED + first, MAPPED + last, 'ipv6');
      continue;
    }
    const slash = text.indexOf('/');
    const address = slash === -1 ? text : text.slice(0, slash);
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = slash === -1 ? max : Number(text.slice(slash + 1));
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    if (family === 4) list.addSubnet(MAPPED + address, 96 + prefix, 'ipv6');
  }
  return list;
}

/** Does `address` fall in `list`? An address that is not an IP never does. */
export function inSourceRanges(list: BlockList, address: string): boolean {
  const plain = unmapAddress(address);
  const family = isIP(plain);
  if (family === 0) return false;
  return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

export class AccessPolicyStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'accessPolicy';
  private readonly list: BlockList;
  private readonly allow: boolean;

  constructor(config: MiddlewareConfigOf<'accessPolicy'>) {
    this.name = config.name;
    this.list = compileSourceRanges(config.rule.sourceRanges);
    this.allow = config.rule.action === 'ALLOW';
  }

  onRequest(r: MiddlewareRequest): StepResult {
    return inSourceRanges(this.list, r.clientAddress()) === this.allow ? null : DENIED;
  }
}
