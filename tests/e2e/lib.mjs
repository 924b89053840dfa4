// Shared by e2e.mjs and bench.mjs: start the real fairmark server, launch
// Debian's chromium through playwright-core.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export function chromiumPath() {
  const p = process.env.CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(p)) throw new Error(`no chromium at ${p}: install Debian's chromium (apt-get install chromium) or set CHROMIUM`);
  return p;
}

/** Launches headless chromium; `webgpu: false` drops --enable-unsafe-webgpu. */
export async function launch({ webgpu = true } = {}) {
  const args = CHROMIUM_ARGS.filter((a) => webgpu || a !== "--enable-unsafe-webgpu");
  return chromium.launch({ executablePath: chromiumPath(), args, headless: true });
}

/**
 * Starts fairmark-server on a free port and resolves to {url, stop}.
 * FAIRMARK_URL: use a server that is already running (debugging only).
 * FAIRMARK_SERVER_BIN: a pre-built binary instead of `cargo run --release`.
 */
export async function startServer({ log = () => {} } = {}) {
  if (process.env.FAIRMARK_URL) return { url: process.env.FAIRMARK_URL.replace(/\/$/, ""), stop: async () => {} };
  if (!existsSync(path.join(REPO, "www/pkg/fairmark.js")))
    throw new Error("www/pkg/fairmark.js is missing: build the browser package first with `bash scripts/build-web.sh`");
  const serverArgs = ["--bind", "127.0.0.1:0", "--www", "www", "--pkg", "www/pkg", "--models", "models"];
  let cmd, args;
  if (process.env.FAIRMARK_SERVER_BIN) {
    cmd = process.env.FAIRMARK_SERVER_BIN;
    args = serverArgs;
  } else {
    cmd = "cargo";
    args = ["run", "--quiet", "--release", "-p", "fairmark-server", "--", ...serverArgs];
  }
  const env = { ...process.env };
  if (!env.CARGO_TARGET_DIR) env.CARGO_TARGET_DIR = path.join(homedir(), ".cache/fairmark-target");
  log(`starting ${cmd} ${args.join(" ")}`);
  const child = spawn(cmd, args, { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"], detached: false });
  const timeoutS = Number(process.env.FAIRMARK_SERVER_TIMEOUT || 1800);
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`fairmark-server did not report its address within ${timeoutS} s:\n${out.slice(-2000)}`)), timeoutS * 1000);
    const onData = (d) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ""));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`fairmark-server exited with code ${code} before listening:\n${out.slice(-3000)}`));
    });
  });
  child.removeAllListeners("exit");
  // Keep draining the pipes so the server never blocks on a full buffer.
  child.stdout.resume();
  child.stderr.resume();
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    await new Promise((r) => {
      const t = setTimeout(() => {
        child.kill("SIGKILL");
        r();
      }, 5000);
      child.once("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  };
  return { url, stop };
}
