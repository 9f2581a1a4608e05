// Raw bytes to a listener and everything it answered: for requests no HTTP client would send.
import net from 'node:net';

/**
 * Writes `bytes` (latin1) to 127.0.0.1:`port` and resolves with what came back once the peer
 * closed, or after `timeoutMs`; `closed` tells whether the peer ended the connection itself.
 */
export function rawExchange(
  port: number,
  bytes: string,
  timeoutMs = 4000,
): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes, 'latin1'));
    let answer = '';
    let closed = false;
    socket.setEncoding('latin1').on('data', (d: string) => {
      answer += d;
    });
    socket.on('error', () => {});
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, closed });
    });
    socket.on('end', () => {
      closed = true;
    });
  });
}
