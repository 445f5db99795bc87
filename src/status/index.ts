export { computeTokenStatus, StatusPhase } from "./token-status";
export type { LastTraffic, TokenStatusDependencies, TokenStatusOptions, TokenStatusRow } from "./token-status";
export { renderStatusTable, shortDate, statusRowsToJson } from "./table";
export type { TokenStatusJson } from "./table";
