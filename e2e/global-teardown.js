// Stops the demo server started by global-setup.js and removes its data directory.
const fs = require('node:fs');

module.exports = async () => {
  const child = globalThis.__vulnbridge;
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 10_000);
      child.on('exit', () => { clearTimeout(t); resolve(); });
    });
  }
  const dir = process.env.VULNBRIDGE_E2E_DIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
