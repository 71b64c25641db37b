/**
 * procguard/internals: the lower-level pieces the Guard is built from, for tools, tests and
 * benchmarks that need one of them alone (docs/api.md "Lower-level pieces"). Less stable than the
 * root API: a piece may change shape when the Guard's rooms change.
 */
export { CodeMonitor } from './integrity/monitor';
export type { CodeMonitorOptions, CodeCheckResult, CodeProgress } from './integrity/monitor';
export { classifyRegions } from './integrity/regions';
export type { CodeRegion, RegionClass, JitSpan } from './integrity/regions';
export { mainExecutableKey } from './integrity/main-exe';
export { KernelMonitor } from './kernel/monitor';
export type { KernelMonitorOptions } from './kernel/monitor';
export { takeSnapshot } from './kernel/snapshot';
export type { KernelSnapshot } from './kernel/snapshot';
export { diffSnapshots } from './kernel/diff';
export { auditLaunch } from './launch/audit';
export type { LaunchAuditOptions } from './launch/audit';
export { TreeMonitor } from './tree/monitor';
export type { ProcessTreeOptions, ProcessClaim } from './tree/monitor';
export { FindingsLedger } from './guard/ledger';
export { countBySubsystem } from './policy';
export { createFindingLogger } from './logging';
export type { FindingLogger, FindingLoggerOptions } from './logging';
export { parseMaps, readMaps } from './procfs/maps';
export type { MapsEntry } from './procfs/maps';
export { parseStatus } from './procfs/status';
export { parseCgroup } from './procfs/cgroup';
export { parseStat } from './procfs/stat';
export { classifyPortalError } from './portals/check';
export { predictPortals, sessionBusAddress } from './portals/predict';
export type { PortalEnvironment } from './portals/predict';
export { readYamaPtraceScope } from './portals/remaining';
