// Moved to local/ (the local stack uses it too); re-exported for the tests.
export * from "../../local/pulumi-workspace";
