// Integration tests share one local stack: start it once (the script is idempotent,
// so a stack that is already running is reused) and point every test at it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const stackScript = fileURLToPath(new URL('../stack.sh', import.meta.url));

export default function globalSetup() {
  // Pure unit tests need no servers: `CONVERGE_UNIT_ONLY=1 npm run jest -- <path>` skips the stack.
  if (process.env.CONVERGE_UNIT_ONLY === '1') return;
  execFileSync('bash', [stackScript, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
}
