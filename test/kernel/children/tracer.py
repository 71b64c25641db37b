# Same-uid ptrace tracer: PTRACE_SEIZE the given tid (the target keeps running), print "seized",
# then on the stdin line "detach": PTRACE_INTERRUPT, wait for the stop, PTRACE_DETACH, print "detached".
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000
tid = int(sys.argv[1])
if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
    print("error seize errno=%d" % ctypes.get_errno(), flush=True); sys.exit(2)
print("seized %d" % os.getpid(), flush=True)
for line in sys.stdin:
    if line.strip() == "detach":
        if libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
            print("error interrupt errno=%d" % ctypes.get_errno(), flush=True); sys.exit(2)
        os.waitpid(tid, WALL)
        if libc.ptrace(PTRACE_DETACH, tid, None, None) != 0:
            print("error detach errno=%d" % ctypes.get_errno(), flush=True); sys.exit(2)
        print("detached", flush=True)
