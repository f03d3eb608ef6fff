/**
 * Runs the built functions with twilio-run as a child process, without a fork per request and without live reload
 * (so a request costs ~1 ms and module-level caches survive, as in a warm deployed instance). The environment comes
 * only from a generated env file: neither the shell's variables nor a developer's .env leak into `context`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';

export interface FunctionsServer {
  url: string;
  port: number;
  /** Everything the process printed (function log lines included), for assertions on logs. */
  output: string[];
  /** The twilio-run process id (benches read its CPU time). */
  pid?: number;
  stop(): Promise<void>;
}

export interface FunctionsServerOptions {
  port: number;
  env: Record<string, string>;
  root?: string;
  /** Print the server's output as it comes (npm start). */
  echo?: boolean;
  readyTimeoutMs?: number;
  /** Folder of built functions, relative to root or absolute (default dist/functions; tests build their own). */
  functionsFolder?: string;
  /** Node options for the twilio-run process (benches preload a heap sampler), and variables for it. */
  nodeArgs?: string[];
  processEnv?: Record<string, string>;
}

const ROOT = join(__dirname, '..', '..');

function envFile(env: Record<string, string>): string {
  for (const [key, value] of Object.entries(env)) {
    if (/[\r\n]/.test(value)) throw new Error(`env value for ${key} must be a single line`);
  }
  return Object.entries(env)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join('\n');
}

async function waitUntilListening(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`twilio-run exited with code ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`twilio-run did not start listening on ${url} within ${timeoutMs} ms`);
}

/** twilio-run joins --functions-folder to its cwd even when it is absolute, so pass it relative to root. */
function functionsFolderArg(root: string, folder: string): string {
  return isAbsolute(folder) ? relative(root, folder) : folder;
}

export async function startFunctionsServer(options: FunctionsServerOptions): Promise<FunctionsServer> {
  const root = options.root ?? ROOT;
  const dir = mkdtempSync(join(tmpdir(), 'flex-sync-functions-'));
  const envPath = join(dir, '.env');
  writeFileSync(envPath, envFile(options.env), { mode: 0o600 });
  // FUNCTIONS_CPU_PROF_DIR=<dir> writes a V8 CPU profile of the functions process there when it stops (profiling
  // a bench: `FUNCTIONS_CPU_PROF_DIR=/tmp/prof npm run bench -- sync-job`, then open the .cpuprofile in DevTools).
  const profileDir = process.env.FUNCTIONS_CPU_PROF_DIR;
  const args = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '-r', join(__dirname, 'exit-on-sigterm.cjs')] : []),
    ...(options.nodeArgs ?? []),
    join(root, 'node_modules', 'twilio-run', 'bin', 'twilio-run.js'),
    'start',
    '--port',
    String(options.port),
    '--functions-folder',
    functionsFolderArg(root, options.functionsFolder ?? process.env.FUNCTIONS_DIST ?? 'dist/functions'),
    '--assets-folder',
    'assets',
    '--no-fork-process',
    '--no-live',
    '--env',
    envPath,
  ];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', FORCE_COLOR: '0', ...options.processEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output.push(...text.split('\n').filter((line) => line !== ''));
    if (options.echo) process.stdout.write(text);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = `http://127.0.0.1:${options.port}`;
  // Never leave an orphan twilio-run behind if this process ends without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilListening(url, child, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output.slice(-20).join('\n')}`, { cause: error });
  }
  return { url, port: options.port, output, pid: child.pid, stop };
}
