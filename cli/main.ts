// The operator CLI's executable (package.json "bin": openclaw-tokens -> dist/cli.js).
import { runCli } from "./run";

runCli(process.argv.slice(2), process.env, process).then((code) => {
  process.exitCode = code;
});
