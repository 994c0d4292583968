// Starts `vulnbridge demo` on a free loopback port and a fresh data directory (or, with
// VULNBRIDGE_E2E_DATABASE_URL, a fresh schema in that PostgreSQL database), waits until it
// serves, and hands its URL and the administrator's and the reader's passwords to the tests.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

module.exports = async () => {
  const bin = process.env.VULNBRIDGE_BIN;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`VULNBRIDGE_BIN must name the vulnbridge binary (got ${bin}); run e2e/run.sh`);
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vulnbridge-e2e-'));
  const args = ['demo', '--data-dir', path.join(dir, 'data'), '--bind', `127.0.0.1:${port}`];
  // VULNBRIDGE_E2E_DATABASE_URL runs the same tests against PostgreSQL (the demo's own schema).
  if (process.env.VULNBRIDGE_E2E_DATABASE_URL) args.push('--database-url', process.env.VULNBRIDGE_E2E_DATABASE_URL);
  const child = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VULNBRIDGE_LOG: 'warn' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const ready = await new Promise((resolve) => {
    const deadline = setTimeout(() => resolve(false), 120_000);
    const check = setInterval(() => {
      if (out.includes('Press Ctrl-C')) {
        clearInterval(check);
        clearTimeout(deadline);
        resolve(true);
      }
    }, 100);
    child.on('exit', () => { clearInterval(check); clearTimeout(deadline); resolve(false); });
  });
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`vulnbridge demo did not start:\n${out}\n${err}`);
  }
  const login = (user) => {
    const m = out.match(new RegExp(`login\\s+${user}\\s+(\\S+)`));
    if (!m) throw new Error(`no password for ${user} in the demo's output:\n${out}`);
    return m[1];
  };
  process.env.VULNBRIDGE_E2E_URL = `http://127.0.0.1:${port}`;
  process.env.VULNBRIDGE_E2E_ADMIN = login('admin');
  process.env.VULNBRIDGE_E2E_READER = login('alice');
  const github = out.match(/GitHub\s+(http:\/\/\S+) \(simulated/);
  if (!github) throw new Error(`no GitHub simulator address in the demo's output:\n${out}`);
  process.env.VULNBRIDGE_E2E_GITHUB = github[1];
  // The repository the demo leaves unmapped, for configuring an integration in the UI.
  const unmapped = out.match(/acme\/(\S+) has no mapping yet: .*\(location (\S+), token (\S+)\)/);
  if (!unmapped) throw new Error(`no unmapped GitHub repository in the demo's output:\n${out}`);
  process.env.VULNBRIDGE_E2E_GITHUB_REPO = unmapped[1];
  process.env.VULNBRIDGE_E2E_GITHUB_LOCATION = unmapped[2];
  process.env.VULNBRIDGE_E2E_GITHUB_TOKEN = unmapped[3];
  fs.writeFileSync(path.join(dir, 'pid'), String(child.pid));
  process.env.VULNBRIDGE_E2E_DIR = dir;
  globalThis.__vulnbridge = child;
};
