import { TokenOpsError } from "../domain/errors";

/**
 * The secret or the gateway is in a state this project did not leave it in (edited by hand, token unknown to the
 * gateway, another environment's data). Reported with a metric; nothing is guessed and nothing is revoked.
 */
export class BadStateError extends TokenOpsError {
  override name = "BadStateError";
  constructor(secretName: string, detail: string, hint: string) {
    super("bad_state", `${secretName}: ${detail}`, { hint });
  }
}
