// What the browser tests share: Debian's chromium through playwright-core (or a skip where it is
// missing, outside CI), and the bikestream commands they start.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const SKIP = 77;  // ctest's SKIP_RETURN_CODE.

// playwright-core's chromium (from CONSOLE_NPM_DIR, where `npm ci` installed it) and the browser
// to drive (CHROMIUM, default /usr/bin/chromium). Exits with ctest's skip code when there is no
// browser, except under CI=true, where that is an error.
export function chromiumOrSkip() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    if (process.env.CI === 'true') throw new Error(`${executablePath} is missing: scripts/install-deps.sh installs chromium`);
    console.log(`SKIP: no ${executablePath} (apt-get install chromium, or run scripts/install-deps.sh)`);
    process.exit(SKIP);
  }
  const { chromium } = createRequire(path.join(process.env.CONSOLE_NPM_DIR, 'package.json'))('playwright-core');
  return { chromium, executablePath };
}

// Starts `binary` with `args` in `env`, adds it to `children`, and resolves with the first match
// of `pattern` in its stderr; `child.exited` resolves with its exit code.
export function start(binary, env, children, args, pattern) {
  const child = spawn(binary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  child.stderrText = '';
  child.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      child.stderrText += chunk;
      const match = child.stderrText.match(pattern);
      if (match) resolve({ child, match });
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${child.stderrText}`)));
  });
}
