import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const PROJECT_ROOT = resolve(__dirname, "..");

export interface PulumiResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The real Pulumi CLI on this project's program, with a throw-away local file backend and a stack config file
 * outside the repository, so that the local run and the tests leave nothing behind in the work tree.
 */
export class PulumiWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), "openclaw-pulumi-"));
  /** Encrypts this throw-away stack's secrets; it lives as long as the workspace. */
  private readonly passphrase = randomBytes(24).toString("base64url");
  readonly configFile: string;
  /** Everything every command printed, to check that no token value ever appears in it. */
  transcript = "";

  constructor(
    readonly stack: string,
    private readonly extraEnv: Record<string, string>,
  ) {
    mkdirSync(join(this.dir, "backend"));
    // `stack init` writes the stack's config file (with the passphrase salt) next to Pulumi.yaml; a copy of the
    // project file here makes it write it here, and every other command reads it with --config-file.
    copyFileSync(join(PROJECT_ROOT, "Pulumi.yaml"), join(this.dir, "Pulumi.yaml"));
    this.configFile = join(this.dir, `Pulumi.${stack}.yaml`);
  }

  /**
   * Logs in to the throw-away backend and creates the stack, leaving its config file outside the repository. With
   * `baseConfig` (a Pulumi.<stack>.yaml of the project), the stack starts from that file's configuration.
   */
  async init(baseConfig?: string): Promise<void> {
    await this.ok(["login", this.env.PULUMI_BACKEND_URL as string], { stackScoped: false });
    await this.ok(["stack", "init", this.stack], { stackScoped: false, cwd: this.dir });
    if (baseConfig) {
      const salt = readFileSync(this.configFile, "utf8");
      writeFileSync(this.configFile, readFileSync(baseConfig, "utf8"));
      appendFileSync(this.configFile, `\n${salt.match(/^encryptionsalt: .*$/m)?.[0] ?? ""}\n`);
    }
  }

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...this.extraEnv,
      PULUMI_BACKEND_URL: `file://${join(this.dir, "backend")}`,
      PULUMI_HOME: join(this.dir, "home"),
      PULUMI_CONFIG_PASSPHRASE: this.passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    };
  }

  /** Runs `pulumi <args>` in the project; `--stack` and `--config-file` are added where they apply. */
  run(args: readonly string[], options: { stackScoped?: boolean; stdin?: string; cwd?: string } = {}): Promise<PulumiResult> {
    const scoped = options.stackScoped ?? true;
    const full = [...args, "--non-interactive", ...(scoped ? ["--stack", this.stack, "--config-file", this.configFile] : [])];
    return new Promise((resolvePromise, reject) => {
      // Secrets go in on stdin, never as arguments (visible to every process on the machine).
      const child = spawn("pulumi", full, { cwd: options.cwd ?? PROJECT_ROOT, env: this.env, stdio: ["pipe", "pipe", "pipe"] });
      child.stdin.end(options.stdin ?? "");
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) => {
        this.transcript += `\n$ pulumi ${full.join(" ")}\n${stdout}\n${stderr}`;
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
    });
  }

  /** Like run, but a non-zero exit fails with the command's output. */
  async ok(args: readonly string[], options?: { stackScoped?: boolean; stdin?: string; cwd?: string }): Promise<PulumiResult> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(`pulumi ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    }
    return result;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
