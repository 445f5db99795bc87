import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { DEFAULT_EVENT_BUS, detailType, EVENT_SOURCE, EventSink, RotationEvent, RotationLogger } from "./observability";

export interface EventBridgeSinkOptions {
  readonly client: EventBridgeClient;
  readonly eventBusName?: string;
  readonly log: RotationLogger;
}

/** Publishes milestones with PutEvents. A failed publish is logged and swallowed: events never fail a rotation. */
export class EventBridgeEventSink implements EventSink {
  private readonly eventBusName: string;

  constructor(private readonly options: EventBridgeSinkOptions) {
    this.eventBusName = options.eventBusName || DEFAULT_EVENT_BUS;
  }

  async publish(event: RotationEvent): Promise<void> {
    const fields = { token: event.token, tokenId: event.tokenId, step: "events", milestone: event.milestone };
    try {
      const result = await this.options.client.send(
        new PutEventsCommand({
          Entries: [{ Source: EVENT_SOURCE, DetailType: detailType(event.milestone), Detail: JSON.stringify(event), EventBusName: this.eventBusName }],
        }),
      );
      // PutEvents answers 200 with per-entry failures: those are failures too.
      const failed = result.Entries?.find((entry) => entry.ErrorCode);
      if (result.FailedEntryCount || failed) {
        this.options.log.warn("events: EventBridge refused the rotation event", { ...fields, errorCode: failed?.ErrorCode, errorMessage: failed?.ErrorMessage });
      }
    } catch (error) {
      this.options.log.warn("events: could not publish the rotation event", { ...fields, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
