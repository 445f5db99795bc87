/**
 * The folder of this package (the one whose package.json is named openclaw-token-ops), found upwards from a module's
 * own folder: the same answer from the sources (infra/aws/), the compiled library (dist/lib/infra/aws/) and an
 * installed copy (node_modules/openclaw-token-ops/dist/lib/...), where relative paths would each differ.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const PACKAGE_NAME = "openclaw-token-ops";

export function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`no ${PACKAGE_NAME} package.json above ${from}`);
  }
}
