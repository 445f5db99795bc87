// Placeholder entry so that the build has every entry it lists; the operator CLI is written next.
process.stderr.write("openclaw-tokens: not built yet\n");
process.exitCode = 2;
