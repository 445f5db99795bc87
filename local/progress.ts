/** What the local run tells a person while it works: one line per step, with its duration. */
export class Progress {
  private started = Date.now();
  private readonly color = process.stdout.isTTY === true;

  step(text: string): void {
    this.started = Date.now();
    process.stdout.write(`${this.bold("==>")} ${text}\n`);
  }

  detail(text: string): void {
    process.stdout.write(`    ${text}\n`);
  }

  done(text = "done"): void {
    process.stdout.write(`    ${text} (${((Date.now() - this.started) / 1000).toFixed(1)}s)\n`);
  }

  warn(text: string): void {
    process.stdout.write(`${this.bold("!!")} ${text}\n`);
  }

  private bold(text: string): string {
    return this.color ? `\u001b[1m${text}\u001b[0m` : text;
  }
}
