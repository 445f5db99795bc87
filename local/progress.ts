import { styleText } from "node:util";

/**
 * What the local run tells a person while it works: one line per step, with its duration. Emphasis only on a
 * terminal, honouring NO_COLOR and FORCE_COLOR (node:util styleText checks both).
 */
export class Progress {
  private started = Date.now();

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
    return styleText("bold", text, { stream: process.stdout });
  }
}
