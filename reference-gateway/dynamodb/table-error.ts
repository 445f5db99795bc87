import { StateError } from "../errors";

/** A failed call on the table, as the server reports it (503 to the client, the details on stderr). */
export function registryTableError(table: string, what: string, cause: unknown): StateError {
  const name = (cause as { name?: string }).name ?? "Error";
  return new StateError(`cannot ${what} in DynamoDB table ${table}: ${name}: ${(cause as Error).message}`, {
    hint:
      name === "ResourceNotFoundException"
        ? "create the table (docs/self-hosted-openclaw.md, \"Fleet of fronts\") or pass the right --registry-table and AWS_REGION"
        : name === "AccessDeniedException"
          ? "grant the front's role the table actions listed in docs/self-hosted-openclaw.md, \"Fleet of fronts\""
          : "check the table, the region and the front's AWS credentials",
    cause,
  });
}
