// Moved to local/ (the local run shows the events too); re-exported for the tests.
export * from "../../local/event-queue";
