// The demo's credentials: a Basic user (bcrypt hash in the config, the password in the curl line)
// and a JWT secret made at each start, with a token signed by it for the curl line. HS256 is a
// few lines of node:crypto; the gateway verifies the token with jose, like any other.
import { createHmac, randomBytes } from 'node:crypto';

export interface DemoAuth {
  user: string;
  password: string;
  /** bcrypt of `password`, as `htpasswd -nbB demo demo` writes it. */
  hash: string;
  jwtSecret: string;
  jwtIssuer: string;
  /** Signed with `jwtSecret`, valid for a week. */
  token: string;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function demoAuth(now = Date.now()): DemoAuth {
  const jwtSecret = randomBytes(32).toString('base64url');
  const jwtIssuer = 'gatehouse-demo';
  const seconds = Math.floor(now / 1000);
  const signingInput = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    sub: 'demo-user',
    iss: jwtIssuer,
    role: 'reader',
    iat: seconds,
    exp: seconds + 7 * 24 * 3600,
  })}`;
  const signature = createHmac('sha256', jwtSecret).update(signingInput).digest('base64url');
  return {
    user: 'demo',
    password: 'demo',
    hash: '$2b$10$syhVS4Pz6VXhRRkYAi5RVupwHHQxMbY0W9973cmNAvTSW5nq/ukh6',
    jwtSecret,
    jwtIssuer,
    token: `${signingInput}.${signature}`,
  };
}
