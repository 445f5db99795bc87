import { inspect } from "node:util";

const REDACTED = "[REDACTED]";

/**
 * A token value (or other credential) that cannot leak by accident: logging, JSON-serialising, string
 * interpolation or util.inspect all print "[REDACTED]". Only `reveal()` returns the value, so every place
 * that really needs it is easy to find with grep.
 */
export class Sensitive {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
