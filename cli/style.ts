/**
 * Colour and emphasis, only where the stream is a terminal: node:util styleText checks the stream's TTY and
 * honours NO_COLOR, NODE_DISABLE_COLORS and FORCE_COLOR, so scripts and pipes get plain text.
 */
import { styleText } from "node:util";

export type Style = Parameters<typeof styleText>[0];

export function paint(stream: NodeJS.WritableStream, format: Style, text: string): string {
  return styleText(format, text, { stream: stream as NodeJS.WriteStream });
}
