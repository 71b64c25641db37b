#!/usr/bin/env python3
# A one-file FUSE file system spoken over /dev/fuse directly (no libfuse binding needed), for the
# tree code check's stalled-read test. It serves /code.bin (random bytes, argv[2] long) until it
# reads "stall" on stdin; from then on it answers nothing (OPEN and READ block forever, as with a
# FUSE daemon that hangs). Needs root (mount(2)). argv: <mountpoint> <size>
import ctypes, os, struct, sys, threading

mnt, size = sys.argv[1], int(sys.argv[2])
data = os.urandom(size)
stalled = threading.Event()

fd = os.open('/dev/fuse', os.O_RDWR)
libc = ctypes.CDLL(None, use_errno=True)
opts = f'fd={fd},rootmode=40000,user_id=0,group_id=0,allow_other'.encode()
if libc.mount(b'stallfs', mnt.encode(), b'fuse', 0, opts) != 0:
    sys.stderr.write(f'mount: {os.strerror(ctypes.get_errno())}\n')
    sys.exit(1)

ROOT, FILE = 1, 2
S_IFDIR, S_IFREG = 0o040000, 0o100000

def attr(node):
    if node == ROOT:
        return struct.pack('<QQQQQQIIIIIIIIII', ROOT, 0, 0, 0, 0, 0, 0, 0, 0, S_IFDIR | 0o755, 2, 0, 0, 0, 4096, 0)
    return struct.pack('<QQQQQQIIIIIIIIII', FILE, size, (size + 511) // 512, 0, 0, 0, 0, 0, 0, S_IFREG | 0o755, 1, 0, 0, 0, 4096, 0)

def reply(unique, err=0, body=b''):
    os.write(fd, struct.pack('<IiQ', 16 + len(body), -err, unique) + body)

def watch_stdin():
    for line in sys.stdin:
        if line.strip() == 'stall':
            stalled.set()
            print('stalled', flush=True)

threading.Thread(target=watch_stdin, daemon=True).start()
while True:
    try:
        req = os.read(fd, (1 << 20) + 4096)
    except OSError:
        break  # unmounted
    length, opcode, unique, node = struct.unpack_from('<IIQQ', req)
    arg = req[40:]
    if opcode == 26:  # INIT
        major, minor, readahead, flags = struct.unpack_from('<IIII', arg)
        reply(unique, 0, struct.pack('<IIIIHHIIHHII', 7, 31, readahead, 0, 16, 12, 1 << 17, 1, 32, 0, 0, 0) + b'\0' * 24)
        print('ready', flush=True)
    elif stalled.is_set():
        continue  # never answered: the caller waits
    elif opcode == 1:  # LOOKUP
        name = arg.split(b'\0', 1)[0]
        if node == ROOT and name == b'code.bin':
            reply(unique, 0, struct.pack('<QQQQII', FILE, 0, 3600, 3600, 0, 0) + attr(FILE))
        else:
            reply(unique, 2)  # ENOENT
    elif opcode == 3:  # GETATTR
        reply(unique, 0, struct.pack('<QII', 3600, 0, 0) + attr(node))
    elif opcode in (14, 27):  # OPEN, OPENDIR
        reply(unique, 0, struct.pack('<QII', 0, 2 if opcode == 14 else 0, 0))  # FOPEN_KEEP_CACHE
    elif opcode == 15:  # READ
        fh, off, n = struct.unpack_from('<QQI', arg)
        reply(unique, 0, data[off:off + n])
    elif opcode in (2, 42):  # FORGET, BATCH_FORGET: no reply
        continue
    elif opcode in (18, 29, 25):  # RELEASE, RELEASEDIR, FLUSH
        reply(unique)
    else:
        reply(unique, 38)  # ENOSYS
