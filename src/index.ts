/**
 * procguard: process hardening and runtime integrity for Electron and Node.js apps.
 *
 *   const { harden, Guard } = require('procguard');
 *   const guard = new Guard();
 *   guard.prepare();              // opens what hardening locks away
 *   guard.setHardening(harden()); // first thing in the main process
 *   await guard.start();
 *
 * This is the public API. The lower-level pieces the Guard is built from (the monitors, the
 * snapshots and parsers) are in `procguard/internals` (src/internals.ts; docs/api.md).
 */
export * from './types';
export * from './errors';
export { harden, hardeningState, HARDEN_STEP_IDS } from './harden';
export type { HardenOptions, HardeningState, DaclEntry, ProcessAccessRight } from './harden';
export { Guard } from './guard';
export type { GuardOptions } from './guard';
// Types the Guard's options are made of.
export type { KernelMonitorOptions } from './kernel/monitor';
export type { LaunchAuditOptions } from './launch/audit';
export type { DebuggerWatchOptions } from './kernel/debuggers';
export type { ProcessTreeOptions, ProcessClaim } from './tree/monitor';
export type { TreeSandboxPolicy, SandboxRequirement } from './tree/policy';
export type { JitSpan } from './integrity/regions';
export type { HashMode } from './native';
export type { LoggerLike } from './logging';
export { defaultPolicy, classifyAll, overallSeverity, severityRank, runAction } from './policy';
export type { Policy, PolicyActions, PolicyContext, DefaultPolicyOptions } from './policy';
export { nativeAvailable } from './native';
export { checkPortals, withPortalCheck, PORTAL_WARNING_PREFIX } from './portals/check';
export type { CheckPortalsOptions } from './portals/check';
export { createManifest, verifyApp, loadSigned, parseManifest, ManifestInvalidError, ManifestKeyError, ManifestInputError } from './manifest';
export type { Manifest, ManifestFile, Difference, VerifyReport, CreateOptions as ManifestCreateOptions } from './manifest';
export type { ManifestGuardOptions } from './manifest/runtime';
