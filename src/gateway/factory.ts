import { Environment } from "../domain/environments";
import { Sensitive } from "../domain/sensitive";
import { BackendKind, GatewayBackend } from "./backend";
import { DocumentedApiGateway } from "./documented-api";
import { HttpOptions } from "./http";
import { OpenClawDevicesGateway } from "./openclaw/openclaw-devices";

/** Everything needed to talk to one environment's gateway, whichever kind it is. */
export interface BackendSettings {
  readonly kind: BackendKind;
  readonly url: string;
  readonly environment: Environment;
  readonly adminToken: Sensitive;
  readonly userAgent: string;
  /** Timeouts, retries and injected transport, passed through to the HTTP client. */
  readonly http?: Partial<Omit<HttpOptions, "baseUrl" | "userAgent">>;
}

/** The one place that maps a backend kind to its implementation. */
export function createBackend(settings: BackendSettings): GatewayBackend {
  switch (settings.kind) {
    case BackendKind.DocumentedApi:
      return new DocumentedApiGateway({
        ...settings.http,
        url: settings.url,
        environment: settings.environment,
        adminToken: settings.adminToken,
        userAgent: settings.userAgent,
      });
    case BackendKind.OpenClawDevices:
      return new OpenClawDevicesGateway({
        ...settings.http,
        url: settings.url,
        environment: settings.environment,
        adminToken: settings.adminToken,
        userAgent: settings.userAgent,
      });
  }
}
