/**
 * A function folder run as Lambda runs it, on this machine: AWS's Runtime Interface Emulator
 * (the Go module, built by install-rie.sh) starts the Node.js runtime interface client
 * (aws-lambda-ric from npm, with its native Runtime API client) as the runtime's bootstrap,
 * in the folder as LAMBDA_TASK_ROOT with the handler `index.handler`. Invocations go to the
 * emulator's invoke endpoint; its log (START/END/REPORT and the rapid INIT/INVOKE lines) is
 * kept for the timings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** USER_HZ: Linux reports process times in these. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface EmulatorOptions {
  readonly rieBin: string;
  /** aws-lambda-ric's folder (index.mjs and its native rapid-client.node). */
  readonly ricDir: string;
  /** The function's code: LAMBDA_TASK_ROOT, and the runtime's working directory. */
  readonly taskRoot: string;
  readonly handler: string;
  /** The function's environment (what the stack sets), and the emulator's settings. */
  readonly env: Record<string, string>;
}

export interface Timings {
  /** The rapid `INIT REPORT(durationMs: ...)`: the runtime process started and the handler module imported. */
  readonly initMs: number | undefined;
  /** Each invocation's `INVOKE RTDONE(... duration: ...)`, in order: the handler's own time. */
  readonly invokeMs: number[];
}

export class Emulator {
  private log = '';
  private constructor(
    private readonly child: ChildProcess,
    private readonly url: string,
  ) {
    const keep = (chunk: Buffer): void => {
      this.log += chunk.toString('utf8').replaceAll('\0', '');
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(options: EmulatorOptions): Promise<Emulator> {
    const ricEntry = join(options.ricDir, 'index.mjs');
    if (!existsSync(join(options.ricDir, 'rapid-client.node'))) {
      throw new Error(
        `${options.ricDir} has no rapid-client.node: aws-lambda-ric's native part was not built (run scripts/setup.sh; it needs cmake, make and a C++ compiler)`,
      );
    }
    const [invokePort, runtimeApiPort] = [await freePort(), await freePort()];
    const args = [
      `--runtime-interface-emulator-address=127.0.0.1:${invokePort}`,
      `--runtime-api-address=127.0.0.1:${runtimeApiPort}`,
      // Its own log level; LOG_LEVEL in the environment is the function's.
      '--log-level=info',
      // The bootstrap: Node with the runtime interface client; the last argument is the handler.
      process.execPath,
      ricEntry,
      options.handler,
    ];
    const child = spawn(options.rieBin, args, {
      cwd: options.taskRoot,
      env: { ...options.env, LAMBDA_TASK_ROOT: options.taskRoot },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const emulator = new Emulator(child, `http://127.0.0.1:${invokePort}/2015-03-31/functions/function/invocations`);
    await emulator.waitListening(invokePort);
    return emulator;
  }

  /** One synchronous invocation; the function's result, parsed. */
  async invoke<T>(event: unknown): Promise<T> {
    const res = await fetch(this.url, { method: 'POST', body: JSON.stringify(event), signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`invoke answered ${res.status}: ${text}\n--- emulator log ---\n${this.tail()}`);
    const parsed = JSON.parse(text) as T & { errorType?: string; errorMessage?: string };
    if (parsed.errorType !== undefined)
      throw new Error(`the function failed: ${parsed.errorType}: ${parsed.errorMessage}\n--- emulator log ---\n${this.tail()}`);
    return parsed;
  }

  timings(): Timings {
    const init = /INIT REPORT\(durationMs: ([\d.]+)\)/.exec(this.log);
    const invokeMs = [...this.log.matchAll(/INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([\d.]+)ms\)/g)].map((m) =>
      Number(m[1]),
    );
    return { initMs: init ? Number(init[1]) : undefined, invokeMs };
  }

  /**
   * CPU time (user + system, every thread) the runtime process has used so far: on a busy
   * machine the wall-clock timings stretch with the load, this much less. Linux only.
   */
  runtimeCpuMs(): number | undefined {
    const pid = this.child.pid;
    if (pid === undefined) return undefined;
    try {
      // The emulator's children, whichever of its threads started them.
      const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
        readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean),
      );
      let ticks = 0;
      for (const child of children) {
        // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
        const fields = readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      }
      return children.length > 0 ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
    } catch {
      return undefined;
    }
  }

  /** The emulator's REPORT lines, as Lambda writes them to CloudWatch. */
  reports(): string[] {
    return this.log.split('\n').filter((line) => line.startsWith('REPORT RequestId:'));
  }

  tail(lines = 40): string {
    return this.log.split('\n').slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private async waitListening(port: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`the emulator exited (${this.child.exitCode}):\n${this.tail()}`);
      // Any HTTP answer means it listens (a GET on the invoke path is not an invocation).
      const up = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) }).then(
        () => true,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the emulator did not listen on ${port} within 15 s:\n${this.tail()}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
