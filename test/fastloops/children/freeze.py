# Freezes one thread of another process with ptrace (same uid): PTRACE_SEIZE + PTRACE_INTERRUPT, wait
# for the stop, print "frozen"; on the stdin line "thaw": PTRACE_DETACH (the thread runs on), print "thawed".
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000
tid = int(sys.argv[1])
if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0 or libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
    print("error errno=%d" % ctypes.get_errno(), flush=True); sys.exit(2)
os.waitpid(tid, WALL)
print("frozen", flush=True)
for line in sys.stdin:
    if line.strip() == "thaw":
        if libc.ptrace(PTRACE_DETACH, tid, None, None) != 0:
            print("error detach errno=%d" % ctypes.get_errno(), flush=True); sys.exit(2)
        print("thawed", flush=True)
