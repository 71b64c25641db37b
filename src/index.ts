/**
 * procguard: process hardening and runtime integrity for Electron and Node.js apps.
 *
 *   const { harden, Guard } = require('procguard');
 *   const guard = new Guard();
 *   guard.prepare();              // opens what hardening locks away
 *   guard.setHardening(harden()); // first thing in the main process
 *   await guard.start();
 */
export * from './types';
export * from './errors';
export { harden, hardeningState, HARDEN_STEP_IDS } from './harden';
export type { HardenOptions, DaclEntry, ProcessAccessRight } from './harden';
export { Guard } from './guard';
export type { GuardOptions } from './guard';
export { CodeMonitor } from './integrity/monitor';
export type { CodeMonitorOptions, CodeCheckResult } from './integrity/monitor';
export { classifyRegions } from './integrity/regions';
export { mainExecutableKey } from './integrity/main-exe';
export type { CodeRegion, RegionClass, JitSpan } from './integrity/regions';
export { KernelMonitor } from './kernel/monitor';
export type { KernelMonitorOptions } from './kernel/monitor';
export { takeSnapshot } from './kernel/snapshot';
export type { KernelSnapshot } from './kernel/snapshot';
export { diffSnapshots } from './kernel/diff';
export { auditLaunch } from './launch/audit';
export type { LaunchAuditOptions } from './launch/audit';
export { defaultPolicy } from './policy';
export type { Policy } from './policy';
export { parseMaps, readMaps } from './procfs/maps';
export type { MapsEntry } from './procfs/maps';
export { parseStatus } from './procfs/status';
export { parseCgroup } from './procfs/cgroup';
export { nativeAvailable } from './native';
export type { HashMode } from './native';
export { TreeMonitor } from './tree/monitor';
export type { ProcessTreeOptions, ProcessClaim } from './tree/monitor';
export type { TreeSandboxPolicy, SandboxRequirement } from './tree/policy';
export { parseStat } from './procfs/stat';
export { checkPortals, withPortalCheck, classifyPortalError, PORTAL_WARNING_PREFIX } from './portals/check';
export type { CheckPortalsOptions } from './portals/check';
export { predictPortals, sessionBusAddress } from './portals/predict';
export type { PortalEnvironment } from './portals/predict';
export { readYamaPtraceScope } from './portals/remaining';
export { createManifest, verifyApp, loadSigned, parseManifest, ManifestInvalidError, ManifestKeyError, ManifestInputError } from './manifest';
export type { Manifest, ManifestFile, Difference, VerifyReport, CreateOptions as ManifestCreateOptions } from './manifest';
export type { ManifestGuardOptions } from './manifest/runtime';
