// Generous time bounds in tests are multiplied by PROCGUARD_TEST_TIME_SCALE (default 1). The arm64
// run (scripts/arm64/test.sh) sets it to 10: under qemu-user every instruction is emulated and each
// child Node takes seconds to start. It only widens bounds; it never narrows them.
const raw = Number(process.env.PROCGUARD_TEST_TIME_SCALE);
export const timeScale = Number.isFinite(raw) && raw > 1 ? raw : 1;
/** `ms` scaled for this run. */
export const scaled = (ms) => Math.round(ms * timeScale);
