// The operator CLI's executable (package.json "bin": openclaw-tokens -> dist/cli.js).
import { runCli } from "./run";

runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then((code) => {
  process.exitCode = code;
});
