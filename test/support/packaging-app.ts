import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cookieFrom } from './token-cookies.js';

/** A scratch app running in its own Node process, listening on 127.0.0.1. */
export interface ScratchApp {
  url: string;
  stop(): Promise<void>;
}

export interface ScratchResponse {
  status: number;
  body: any;
  /** The pindb cookie the response sets, as `name=value` to send back ('' when it clears it). */
  cookie: string | undefined;
}

/** Runs `node <file>` in `dir` and resolves once it prints `listening <port>`; rejects, with its output, if it exits first. */
export function startScratchApp(dir: string, file: string, env: Record<string, string>): Promise<ScratchApp> {
  const child: ChildProcess = spawn(process.execPath, [file], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const listening = /^listening (\d+)$/m.exec(stdout);
      if (listening) resolve({ url: `http://127.0.0.1:${listening[1]}`, stop });
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => reject(new Error(`node ${file} in ${dir} exited (${signal ?? `code ${code}`}) before listening:\n${stdout}${stderr}`)));
  });
}

/** One HTTP request to a scratch app, with a JSON body for anything but GET. */
export async function callScratchApp(
  app: ScratchApp,
  method: 'GET' | 'POST',
  path: string,
  { body, cookie }: { body?: unknown; cookie?: string } = {},
): Promise<ScratchResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cookie) headers.cookie = cookie;
  const response = await fetch(app.url + path, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(body ?? {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text, so a failed assertion shows it
  }
  return { status: response.status, body: parsed, cookie: cookieFrom(response) };
}
