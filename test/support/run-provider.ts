import { execFile } from "node:child_process";
import { resolve } from "node:path";

export type ProviderStep = { readonly op: "create"; readonly inputs: Record<string, unknown> } | { readonly op: "delete"; readonly name: string };

/**
 * Runs the provider runtime's bundle in a fresh Node process with its default dependencies (AWS clients configured
 * from `env`, as under Pulumi's provider shell), for steps like `pulumi up` and `pulumi destroy` would take.
 */
export function runProvider(env: Record<string, string>, steps: readonly ProviderStep[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_"))), ...env };
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [resolve(__dirname, "provider-process.js"), JSON.stringify(steps)], { env: childEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}
