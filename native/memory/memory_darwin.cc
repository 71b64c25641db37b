// macOS part of the macOS/FreeBSD memory implementation (memory_posix.cc has the shared part and
// the header comment): safe reads with mach_vm_read_overwrite(mach_task_self(), ...), which copies
// through the kernel and returns KERN_INVALID_ADDRESS / KERN_PROTECTION_FAILURE for a bad range
// instead of faulting (a range with a hole fails as a whole: the caller then retries 4 KiB at a
// time), and the address space walk with mach_vm_region_recurse and proc_pidinfo.
#if !defined(__APPLE__)
#error "memory_darwin.cc is for macOS (binding.gyp selects it for OS=='mac')"
#endif
#include <libproc.h>
#include <mach/mach.h>
#include <mach/mach_vm.h>
#include <errno.h>
#include <unistd.h>

#include <cstring>

#include "memory_posix.h"

namespace pg {
namespace posix {

bool CopyChunk(uintptr_t addr, void* out, size_t len, int* err) {
  mach_vm_size_t got = 0;
  kern_return_t kr =
      mach_vm_read_overwrite(mach_task_self(), static_cast<mach_vm_address_t>(addr), static_cast<mach_vm_size_t>(len),
                             static_cast<mach_vm_address_t>(reinterpret_cast<uintptr_t>(out)), &got);
  if (kr != KERN_SUCCESS || got != len) {
    if (err) *err = kr == KERN_PROTECTION_FAILURE ? EACCES : EFAULT;
    return false;
  }
  return true;
}

bool CopyRun(uintptr_t addr, void* out, size_t len, int* err) { return len > 0 && CopyChunk(addr, out, len, err); }

bool WalkMappings(std::vector<Mapping>* all, int* err) {
  // mach_vm_region_recurse descends into submaps (the dyld shared cache is one), so each leaf
  // entry comes with its own protection; mach_vm_region would report the submap as one block.
  mach_vm_address_t addr = 0;
  natural_t depth = 0;
  for (;;) {
    mach_vm_size_t size = 0;
    vm_region_submap_info_data_64_t info;
    mach_msg_type_number_t count = VM_REGION_SUBMAP_INFO_COUNT_64;
    kern_return_t kr = mach_vm_region_recurse(mach_task_self(), &addr, &size, &depth,
                                              reinterpret_cast<vm_region_recurse_info_t>(&info), &count);
    if (kr == KERN_INVALID_ADDRESS) break;  // past the last region
    if (kr != KERN_SUCCESS) {
      if (err) *err = EIO;
      return false;
    }
    if (info.is_submap) {
      ++depth;
      continue;
    }
    Mapping m;
    m.start = static_cast<uintptr_t>(addr);
    m.end = static_cast<uintptr_t>(addr + size);
    m.r = (info.protection & VM_PROT_READ) != 0;
    m.w = (info.protection & VM_PROT_WRITE) != 0;
    m.x = (info.protection & VM_PROT_EXECUTE) != 0;
    m.file = info.external_pager != 0;
    if (m.x) {
      // Path, file offset and vnode identity (what proc_regionfilename(3) reads, plus the stat).
      struct proc_regionwithpathinfo rp;
      std::memset(&rp, 0, sizeof rp);
      int n =
          proc_pidinfo(getpid(), PROC_PIDREGIONPATHINFO, static_cast<uint64_t>(addr), &rp, static_cast<int>(sizeof rp));
      if (n == static_cast<int>(sizeof rp) && rp.prp_prinfo.pri_address <= addr &&
          addr < rp.prp_prinfo.pri_address + rp.prp_prinfo.pri_size && rp.prp_vip.vip_path[0] != '\0') {
        m.file = true;
        m.path.assign(rp.prp_vip.vip_path, strnlen(rp.prp_vip.vip_path, sizeof rp.prp_vip.vip_path));
        m.offset = static_cast<int64_t>(rp.prp_prinfo.pri_offset + (addr - rp.prp_prinfo.pri_address));
        m.hasFileId = true;
        m.dev = static_cast<uint64_t>(rp.prp_vip.vip_vi.vi_stat.vst_dev);
        m.ino = static_cast<uint64_t>(rp.prp_vip.vip_vi.vi_stat.vst_ino);
      } else if (m.file) {
        m.offset = static_cast<int64_t>(info.offset);
      }
    }
    m.anonymous = !m.file;
    all->push_back(std::move(m));
    addr += size;
  }
  return true;
}

}  // namespace posix
}  // namespace pg
