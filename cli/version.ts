/** The CLI's version: the `version` of the package.json next to dist/ (the bundle is dist/cli.js). */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { name?: string; version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
