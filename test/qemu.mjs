// Skip reasons for what qemu-user answers itself instead of the kernel. scripts/arm64/test.sh sets
// PROCGUARD_QEMU_USER=1 when it runs the suites under qemu-user; natively (npm test) these are false.
export const qemuUser = process.env.PROCGUARD_QEMU_USER === '1';

// qemu-user answers /proc/self/stat itself with state '0' and zeroed fields, so the tree monitor cannot
// key its root there (checker error ERR_PROCFS_PARSE); the kernel's own file has them.
export const qemuNoTree = qemuUser && "qemu-user: its emulated /proc/self/stat (state '0') gives the tree monitor no root";
