/**
 * What AWS does and moto (5.2.5) does not, emulated where the tests need it (docs/aws-behaviour.md lists each one
 * and how the code handles it):
 *  - A Secrets Manager version is immutable: PutSecretValue with a ClientRequestToken that names an existing version
 *    with other content fails with ResourceExistsException (moto overwrites the version).
 */
import { GetSecretValueCommand, PutSecretValueCommandInput, SecretsManagerClient, SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";

/** A Secrets Manager client on moto that refuses, as AWS does, to change an existing version's content. */
export function faithfulSecretsManagerClient(config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  const client = new SecretsManagerClient(config);
  const probe = new SecretsManagerClient(config);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "PutSecretValueCommand") {
        const input = args.input as PutSecretValueCommandInput;
        if (input.ClientRequestToken) {
          const existing = await probe
            .send(new GetSecretValueCommand({ SecretId: input.SecretId, VersionId: input.ClientRequestToken }))
            .catch((error: { name?: string }) => (error.name === "ResourceNotFoundException" ? undefined : Promise.reject(error)));
          if (existing && existing.SecretString !== input.SecretString) {
            throw Object.assign(new Error("You can't modify an existing version, you can only create a new version."), { name: "ResourceExistsException" });
          }
        }
      }
      return next(args);
    },
    { step: "initialize", name: "awsVersionsAreImmutable" },
  );
  const destroy = client.destroy.bind(client);
  client.destroy = () => {
    probe.destroy();
    destroy();
  };
  return client;
}
