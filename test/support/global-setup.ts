import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

/** Builds the bundles once per test run: the tests exercise the same files the product ships. */
export default function globalSetup(): void {
  execFileSync(process.execPath, [resolve(__dirname, "../../scripts/build.mjs")], { stdio: "inherit" });
}
