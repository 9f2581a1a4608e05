// `node ../gatehouse/launcher/write-build-stamp.js`, run by every package's `build` script in the
// package's directory once tsc has written dist/ (see build-stamp.js).
import { writeStamp } from './build-stamp.js';

writeStamp(process.cwd());
