// Whether text from outside (a claim, an auth service's answer) can be a header value as it is:
// no control characters but tab, nothing above Latin-1. Otherwise the header is left out, so that
// such text can never inject a header line.
export function isHeaderSafe(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}
