// Moved to local/ (the local run uses it too); re-exported for the tests.
export * from "../../local/consumer";
