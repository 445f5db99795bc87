import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * Builds dist/provider-runtime.js before any GatewayToken is registered, so that `pulumi up` and `preview` always
 * run the provider code of this checkout (the serialised shell loads that file). Takes a fraction of a second.
 */
export function buildProviderRuntime(): void {
  const root = resolve(__dirname, "..");
  execFileSync(process.execPath, [resolve(root, "scripts", "build.mjs"), "provider-runtime.js"], { cwd: root, stdio: "inherit" });
}
