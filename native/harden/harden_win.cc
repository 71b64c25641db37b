// Windows hardening.
//
// process-dacl: replace the process object's DACL with a protected one that grants only
// PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE | SYNCHRONIZE to the current user and
// to OWNER RIGHTS (S-1-3-4), then read it back with GetSecurityInfo and compare every ACE.
//
// thread-dacl: the process DACL alone leaves the threads open: a same-user process could
// OpenThread(THREAD_SUSPEND_RESUME | THREAD_SET_CONTEXT) and suspend the scanner or hijack a thread
// (SetThreadContext, QueueUserAPC) without any VM right. So every existing thread gets a protected
// DACL granting only THREAD_QUERY_LIMITED_INFORMATION | SYNCHRONIZE | READ_CONTROL, and the token's
// default DACL (TokenDefaultDacl), which the kernel gives every object created later without an
// explicit security descriptor (threads, child processes, unnamed and named kernel objects), is
// replaced by one granting only SYNCHRONIZE | READ_CONTROL. The default DACL applies to objects of
// every type, so it holds standard rights only: a specific bit means something else per type
// (0x0800 is THREAD_QUERY_LIMITED_INFORMATION on a thread but PROCESS_SUSPEND_RESUME on a process).
// READ_CONTROL stays so that a second harden() (from this process, which is not exempt from the
// DACL either) can read a thread's DACL back and report `already`; reading a DACL grants nothing.
//
// Why OWNER RIGHTS: the owner of an object is implicitly granted READ_CONTROL | WRITE_DAC
// unless the DACL has an OWNER RIGHTS entry. Without it, any process of the same user could
// open us with WRITE_DAC, put back a permissive DACL and reopen us with PROCESS_VM_READ.
// Handles opened before the change keep their rights (access is checked at open time).
//
// Why SetKernelObjectSecurity and not SetSecurityInfo: both end in NtSetSecurityObject on real
// Windows, and Microsoft documents SetKernelObjectSecurity for exactly these objects ("sets the
// security of a kernel object. For example, this can be a process, thread, or event"), with the
// SECURITY_INFORMATION bits, PROTECTED_DACL_SECURITY_INFORMATION ("the DACL cannot inherit ACEs")
// among them, and SetSecurityDescriptorControl as the documented way to set the inheritance
// control bits (SE_DACL_PROTECTED). So the protected flag travels inside the descriptor as well as
// in the request, and nothing between us and the kernel can drop it; SetSecurityInfo rebuilds the
// descriptor from a separate DACL pointer and Wine's version loses the flag there (measured under
// Wine 8.0; with SetKernelObjectSecurity the flag reads back under Wine too). On real Windows the
// flag's survival is documentation, not measurement. Process and thread objects have no parent to
// inherit ACEs from, so the flag is a statement of intent that the read-back checks, not what keeps
// other processes out: the ACEs do that.
//
// The default DACL: Microsoft's SECURITY_DESCRIPTOR_CONTROL documentation: "if an object's creator
// doesn't specify a DACL, the object receives the default DACL from the creator's access token";
// CreateThread/CreateProcess say the same of a NULL security-attributes argument.
//
// Run under Wine with the official node.exe by `npm run test:windows` (test/windows/); Wine
// deviations are listed in docs/platforms.md.
#include "platform/win32.h"
#include <aclapi.h>
#include <sddl.h>
#include <tlhelp32.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "harden.h"

namespace pg {
namespace {

constexpr DWORD kLimitedAccess = PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE | SYNCHRONIZE;
// Existing threads: wait on them, ask which process they belong to, read their DACL back.
constexpr DWORD kThreadAccess = THREAD_QUERY_LIMITED_INFORMATION | SYNCHRONIZE | READ_CONTROL;
// The token's default DACL: standard rights only (see the top of the file).
constexpr DWORD kDefaultAccess = SYNCHRONIZE | READ_CONTROL;
const char* const kOwnerRights = "S-1-3-4";

struct Ace {
  bool allow = true;
  std::vector<BYTE> sid;  // a self-relative SID, copied
  DWORD mask = 0;
  std::string text;  // SID as text, for the report
};

std::string Hex(DWORD v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(v));
  return buf;
}

std::string WinErr(const char* what, DWORD e) {
  return std::string(what) + " failed (error " + std::to_string(e) + ")";
}

bool Skipped(const HardenOptions& o, const char* id) {
  for (const auto& s : o.skip)
    if (s == id) return true;
  return false;
}

std::string SidText(PSID sid) {
  LPSTR s = nullptr;
  if (!ConvertSidToStringSidA(sid, &s)) return "?";
  std::string out(s);
  LocalFree(s);
  return out;
}

// The SID of the user this process runs as, from its token.
bool CurrentUserSid(std::vector<BYTE>* out, DWORD* err) {
  HANDLE tok = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
    *err = GetLastError();
    return false;
  }
  DWORD len = 0;
  GetTokenInformation(tok, TokenUser, nullptr, 0, &len);
  std::vector<BYTE> buf(len ? len : 1);
  bool ok = len != 0 && GetTokenInformation(tok, TokenUser, buf.data(), len, &len);
  if (!ok) *err = GetLastError();
  CloseHandle(tok);
  if (!ok) return false;
  PSID sid = reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid;
  DWORD sl = GetLengthSid(sid);
  out->assign(sl, 0);
  if (!CopySid(sl, out->data(), sid)) {
    *err = GetLastError();
    return false;
  }
  return true;
}

// Resolves the requested entries ("USER" or string SIDs) to binary SIDs. An empty request
// means the default: the user and OWNER RIGHTS with the limited mask.
// The current user and OWNER RIGHTS, both allowed `mask`.
std::vector<AceSpec> UserAndOwner(DWORD mask) {
  AceSpec user;
  user.allow = true;
  user.sid = "USER";
  user.mask = mask;
  AceSpec owner = user;
  owner.sid = kOwnerRights;
  return {user, owner};
}

bool ResolveSpecs(const std::vector<AceSpec>& specs, std::vector<Ace>* out, DWORD* err, std::string* why) {
  for (const AceSpec& s : specs) {
    Ace a;
    a.allow = s.allow;
    a.mask = s.mask;
    if (s.sid == "USER") {
      if (!CurrentUserSid(&a.sid, err)) {
        *why = WinErr("reading the user SID from the process token", *err);
        return false;
      }
    } else {
      PSID p = nullptr;
      if (!ConvertStringSidToSidA(s.sid.c_str(), &p)) {
        *err = GetLastError();
        *why = WinErr(("ConvertStringSidToSid(" + s.sid + ")").c_str(), *err);
        return false;
      }
      DWORD sl = GetLengthSid(p);
      a.sid.assign(sl, 0);
      BOOL copied = CopySid(sl, a.sid.data(), p);
      LocalFree(p);
      if (!copied) {
        *err = GetLastError();
        *why = WinErr("CopySid", *err);
        return false;
      }
    }
    a.text = SidText(a.sid.data());
    out->push_back(std::move(a));
  }
  return true;
}

bool ResolveAces(const HardenOptions& o, std::vector<Ace>* out, DWORD* err, std::string* why) {
  return ResolveSpecs(o.dacl.empty() ? UserAndOwner(kLimitedAccess) : o.dacl, out, err, why);
}

std::string Describe(const std::vector<Ace>& aces) {
  std::string d;
  for (const Ace& a : aces) {
    if (!d.empty()) d += "; ";
    d += (a.allow ? "allow " : "deny ") + a.text + " " + Hex(a.mask);
  }
  return d;
}

// An ACL with the entries in the given order (the TypeScript layer already put deny first).
bool BuildAcl(const std::vector<Ace>& aces, std::vector<BYTE>* buf, DWORD* err) {
  DWORD size = sizeof(ACL);
  for (const Ace& a : aces) {
    DWORD header = a.allow ? sizeof(ACCESS_ALLOWED_ACE) : sizeof(ACCESS_DENIED_ACE);
    size += header - sizeof(DWORD) + GetLengthSid(const_cast<BYTE*>(a.sid.data()));
  }
  size = (size + sizeof(DWORD) - 1) & ~static_cast<DWORD>(sizeof(DWORD) - 1);
  buf->assign(size, 0);
  PACL acl = reinterpret_cast<PACL>(buf->data());
  if (!InitializeAcl(acl, size, ACL_REVISION)) {
    *err = GetLastError();
    return false;
  }
  for (const Ace& a : aces) {
    PSID sid = const_cast<BYTE*>(a.sid.data());
    BOOL ok = a.allow ? AddAccessAllowedAce(acl, ACL_REVISION, a.mask, sid)
                      : AddAccessDeniedAce(acl, ACL_REVISION, a.mask, sid);
    if (!ok) {
      *err = GetLastError();
      return false;
    }
  }
  return true;
}

// A DACL as read back from an object.
struct Observed {
  bool present = false;      // false: a NULL DACL (full access for everyone)
  bool isProtected = false;  // SE_DACL_PROTECTED
  bool unknownType = false;  // an ACE that is neither access-allowed nor access-denied
  std::vector<Ace> aces;
  std::string text;
};

bool ParseAcl(PACL dacl, Observed* out, DWORD* err) {
  ACL_SIZE_INFORMATION info{};
  if (!GetAclInformation(dacl, &info, sizeof info, AclSizeInformation)) {
    *err = GetLastError();
    return false;
  }
  for (DWORD i = 0; i < info.AceCount; i++) {
    LPVOID p = nullptr;
    if (!GetAce(dacl, i, &p)) {
      *err = GetLastError();
      return false;
    }
    const ACE_HEADER* h = static_cast<const ACE_HEADER*>(p);
    if (!out->text.empty()) out->text += "; ";
    if (h->AceType != ACCESS_ALLOWED_ACE_TYPE && h->AceType != ACCESS_DENIED_ACE_TYPE) {
      out->text += "ACE type " + std::to_string(h->AceType);
      out->unknownType = true;
      continue;
    }
    // ACCESS_ALLOWED_ACE and ACCESS_DENIED_ACE have the same layout.
    auto* a = static_cast<ACCESS_ALLOWED_ACE*>(p);
    PSID sid = reinterpret_cast<PSID>(&a->SidStart);
    Ace got;
    got.allow = h->AceType == ACCESS_ALLOWED_ACE_TYPE;
    got.mask = a->Mask;
    got.sid.assign(static_cast<BYTE*>(sid), static_cast<BYTE*>(sid) + GetLengthSid(sid));
    got.text = SidText(sid);
    out->text += (got.allow ? "allow " : "deny ") + got.text + " " + Hex(got.mask);
    out->aces.push_back(std::move(got));
  }
  return true;
}

// Reads the DACL of a kernel object (a handle with READ_CONTROL, or a pseudo-handle).
bool ReadDacl(HANDLE h, Observed* out, DWORD* err) {
  *out = Observed();
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD rc = GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, &dacl, nullptr, &sd);
  if (rc != ERROR_SUCCESS) {
    *err = rc;
    return false;
  }
  SECURITY_DESCRIPTOR_CONTROL ctl = 0;
  DWORD rev = 0;
  out->isProtected = GetSecurityDescriptorControl(sd, &ctl, &rev) && (ctl & SE_DACL_PROTECTED) != 0;
  bool ok = true;
  if (dacl == nullptr) out->text = "no DACL (full access for everyone)";
  else {
    out->present = true;
    ok = ParseAcl(dacl, out, err);
  }
  LocalFree(sd);
  return ok;
}

// Exactly the wanted entries, in order.
bool SameAces(const Observed& o, const std::vector<Ace>& want) {
  if (!o.present || o.unknownType || o.aces.size() != want.size()) return false;
  for (size_t i = 0; i < want.size(); i++) {
    const Ace& g = o.aces[i];
    const Ace& w = want[i];
    if (g.allow != w.allow || g.mask != w.mask ||
        !EqualSid(const_cast<BYTE*>(g.sid.data()), const_cast<BYTE*>(w.sid.data())))
      return false;
  }
  return true;
}

bool IsOwnerRights(const Ace& a) { return a.text == kOwnerRights; }

// Restricted: no allow entry grants anything outside `allowed`, and OWNER RIGHTS has an entry (so
// the owner's implicit READ_CONTROL | WRITE_DAC is gone). A thread created after harden() carries
// the token's default DACL, not the one set on existing threads: both pass this test.
bool Restricted(const Observed& o, DWORD allowed) {
  if (!o.present || o.unknownType) return false;
  bool owner = false;
  for (const Ace& a : o.aces) {
    if (a.allow && (a.mask & ~allowed) != 0) return false;
    owner = owner || IsOwnerRights(a);
  }
  return owner;
}

// Sets a protected DACL on a kernel object (handle with WRITE_DAC) with SetKernelObjectSecurity,
// whose descriptor carries SE_DACL_PROTECTED itself (see the top of the file).
bool ApplyDacl(HANDLE h, const std::vector<Ace>& aces, DWORD* err) {
  std::vector<BYTE> aclBuf;
  if (!BuildAcl(aces, &aclBuf, err)) return false;
  SECURITY_DESCRIPTOR sd;
  if (!InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(&sd, TRUE, reinterpret_cast<PACL>(aclBuf.data()), FALSE) ||
      !SetSecurityDescriptorControl(&sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED) ||
      !SetKernelObjectSecurity(h, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, &sd)) {
    *err = GetLastError();
    return false;
  }
  return true;
}

StepResult Failed(StepResult r, DWORD err, const std::string& detail) {
  r.status = StepStatus::Failed;
  r.err = static_cast<int>(err);
  r.detail = detail;
  return r;
}

StepResult ProcessDacl(const HardenOptions& o) {
  StepResult r;
  r.id = "process-dacl";
  if (Skipped(o, "process-dacl")) {
    r.status = StepStatus::Skipped;
    r.detail = "skipped by options";
    return r;
  }
  std::vector<Ace> want;
  DWORD err = 0;
  std::string why;
  if (!ResolveAces(o, &want, &err, &why)) return Failed(r, err, why);
  Observed now;
  if (!ReadDacl(GetCurrentProcess(), &now, &err)) return Failed(r, err, WinErr("GetSecurityInfo", err));
  if (SameAces(now, want) && now.isProtected) {
    r.status = StepStatus::Already;
    r.verified = 1;
    r.detail = "the protected process DACL is already in force: " + now.text;
    return r;
  }
  if (o.dryRun) {
    r.status = StepStatus::Skipped;
    r.detail = "dry run: would set the protected process DACL " + Describe(want) + " (now: " + now.text + ")";
    return r;
  }
  if (!ApplyDacl(GetCurrentProcess(), want, &err))
    return Failed(r, err, WinErr("SetKernelObjectSecurity on the process", err));
  r.status = StepStatus::Applied;
  if (!ReadDacl(GetCurrentProcess(), &now, &err)) {
    r.verified = -1;
    r.detail =
        "set the protected process DACL " + Describe(want) + "; " + WinErr("read back with GetSecurityInfo", err);
    return r;
  }
  r.verified = (SameAces(now, want) && now.isProtected) ? 1 : 0;
  r.detail = "set the protected process DACL " + Describe(want) + "; read back " + now.text +
             (now.isProtected ? " (protected)" : " (NOT protected)");
  return r;
}

// Thread ids of this process (a Toolhelp snapshot: every thread of the system, filtered).
bool OwnThreads(std::vector<DWORD>* out, DWORD* err) {
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE) {
    *err = GetLastError();
    return false;
  }
  const DWORD pid = GetCurrentProcessId();
  THREADENTRY32 te;
  te.dwSize = sizeof te;
  for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te))
    if (te.th32OwnerProcessID == pid) out->push_back(te.th32ThreadID);
  CloseHandle(snap);
  return true;
}

// The token's default DACL, read back.
bool ReadDefaultDacl(Observed* out, DWORD* err) {
  *out = Observed();
  HANDLE tok = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
    *err = GetLastError();
    return false;
  }
  DWORD len = 0;
  GetTokenInformation(tok, TokenDefaultDacl, nullptr, 0, &len);
  std::vector<BYTE> buf(len ? len : 1);
  bool ok = len != 0 && GetTokenInformation(tok, TokenDefaultDacl, buf.data(), len, &len);
  if (!ok) *err = GetLastError();
  CloseHandle(tok);
  if (!ok) return false;
  PACL dacl = reinterpret_cast<TOKEN_DEFAULT_DACL*>(buf.data())->DefaultDacl;
  if (dacl == nullptr) {
    out->text = "no default DACL";
    return true;
  }
  out->present = true;
  out->isProtected = true;  // a default DACL has no descriptor of its own
  return ParseAcl(dacl, out, err);
}

bool SetDefaultDacl(const std::vector<Ace>& aces, DWORD* err) {
  std::vector<BYTE> aclBuf;
  if (!BuildAcl(aces, &aclBuf, err)) return false;
  HANDLE tok = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_DEFAULT | TOKEN_QUERY, &tok)) {
    *err = GetLastError();
    return false;
  }
  TOKEN_DEFAULT_DACL d;
  d.DefaultDacl = reinterpret_cast<PACL>(aclBuf.data());
  bool ok = SetTokenInformation(tok, TokenDefaultDacl, &d, sizeof d) != FALSE;
  if (!ok) *err = GetLastError();
  CloseHandle(tok);
  return ok;
}

// The second line for threads born after harden(): each new thread sets its own DACL from
// DLL_THREAD_ATTACH, which the loader runs in the new thread before its start routine. The token's
// default DACL is the first line (it applies when the thread object is created, so no window); this
// one also covers a runtime that ignores the default DACL for threads (Wine does: measured, the
// threads a hardened node.exe started afterwards opened with THREAD_SUSPEND_RESUME) and threads
// created with an explicit security descriptor. Under the loader lock it only calls
// SetKernelObjectSecurity (NtSetSecurityObject) on the thread's own pseudo-handle with a descriptor
// built once in harden(), so it loads nothing and allocates nothing.
struct AttachSd {
  std::vector<BYTE> acl;
  SECURITY_DESCRIPTOR sd;
};
std::atomic<AttachSd*> g_attachSd{nullptr};  // set once, never freed: new threads may read it any time

bool ArmThreadAttach(const std::vector<Ace>& aces, DWORD* err) {
  if (g_attachSd.load()) return true;
  auto* a = new AttachSd;
  if (!BuildAcl(aces, &a->acl, err) || !InitializeSecurityDescriptor(&a->sd, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(&a->sd, TRUE, reinterpret_cast<PACL>(a->acl.data()), FALSE) ||
      !SetSecurityDescriptorControl(&a->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED)) {
    if (*err == 0) *err = GetLastError();
    delete a;
    return false;
  }
  AttachSd* expected = nullptr;
  if (!g_attachSd.compare_exchange_strong(expected, a)) delete a;
  return true;
}

// What a pass over the threads found.
struct ThreadPass {
  size_t total = 0, restricted = 0, protectedNow = 0, set = 0, gone = 0, failed = 0;
  DWORD firstErr = 0;
  std::string firstFailure;
};

// Reads every thread's DACL back and, unless `readOnly`, sets the protected DACL on the ones that
// are not restricted yet. A thread that exits between the snapshot and OpenThread is `gone`.
ThreadPass PassThreads(const std::vector<DWORD>& tids, const std::vector<Ace>& want, bool readOnly) {
  ThreadPass p;
  const DWORD self = GetCurrentThreadId();
  for (DWORD tid : tids) {
    p.total++;
    // This thread through its pseudo-handle (full access whatever the DACL); the others by id,
    // which is access-checked like any other process's OpenThread.
    HANDLE h = tid == self ? GetCurrentThread() : OpenThread(READ_CONTROL | (readOnly ? 0 : WRITE_DAC), FALSE, tid);
    if (h == nullptr) {
      DWORD e = GetLastError();
      if (!readOnly && e == ERROR_ACCESS_DENIED) h = OpenThread(READ_CONTROL, FALSE, tid);  // restricted already?
      if (h == nullptr) {
        if (e == ERROR_INVALID_PARAMETER) p.gone++;  // exited
        else if (!p.failed++) {
          p.firstErr = e;
          p.firstFailure = WinErr(("OpenThread(" + std::to_string(tid) + ")").c_str(), e);
        }
        continue;
      }
    }
    Observed now;
    DWORD err = 0;
    bool read = ReadDacl(h, &now, &err);
    if (read && !Restricted(now, kThreadAccess) && !readOnly) {
      if (ApplyDacl(h, want, &err)) {
        p.set++;
        read = ReadDacl(h, &now, &err);
      } else if (!p.failed++) {
        p.firstErr = err;
        p.firstFailure = WinErr(("SetKernelObjectSecurity on thread " + std::to_string(tid)).c_str(), err);
      }
    } else if (!read && !p.failed++) {
      p.firstErr = err;
      p.firstFailure = WinErr(("GetSecurityInfo on thread " + std::to_string(tid)).c_str(), err);
    }
    if (read && Restricted(now, kThreadAccess)) {
      p.restricted++;
      if (now.isProtected) p.protectedNow++;
    }
    if (tid != self) CloseHandle(h);
  }
  return p;
}

std::string Summary(const ThreadPass& p) {
  std::string s = std::to_string(p.restricted) + " of " + std::to_string(p.total - p.gone) + " threads restricted (" +
                  std::to_string(p.protectedNow) + " protected)";
  if (p.gone) s += ", " + std::to_string(p.gone) + " exited meanwhile";
  if (p.failed) s += ", " + std::to_string(p.failed) + " failed: " + p.firstFailure;
  return s;
}

StepResult ThreadDacl(const HardenOptions& o) {
  StepResult r;
  r.id = "thread-dacl";
  if (Skipped(o, "thread-dacl")) {
    r.status = StepStatus::Skipped;
    r.detail = "skipped by options";
    return r;
  }
  std::vector<Ace> threadAces, defaultAces;
  DWORD err = 0;
  std::string why;
  if (!ResolveSpecs(UserAndOwner(kThreadAccess), &threadAces, &err, &why) ||
      !ResolveSpecs(UserAndOwner(kDefaultAccess), &defaultAces, &err, &why))
    return Failed(r, err, why);
  std::vector<DWORD> tids;
  if (!OwnThreads(&tids, &err)) return Failed(r, err, WinErr("CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD)", err));
  Observed dflt;
  if (!ReadDefaultDacl(&dflt, &err)) return Failed(r, err, WinErr("GetTokenInformation(TokenDefaultDacl)", err));
  const std::string wantText = "threads: " + Describe(threadAces) + "; token default DACL: " + Describe(defaultAces);

  ThreadPass before = PassThreads(tids, threadAces, true);
  const bool defaultOk = SameAces(dflt, defaultAces);
  if (defaultOk && before.failed == 0 && before.restricted == before.total - before.gone &&
      ArmThreadAttach(threadAces, &err)) {
    r.status = StepStatus::Already;
    r.verified = 1;
    r.detail = "the thread DACLs are already in force: " + Summary(before) + "; token default DACL " + dflt.text;
    return r;
  }
  if (o.dryRun) {
    r.status = StepStatus::Skipped;
    r.detail = "dry run: would set " + wantText + " (now: " + Summary(before) + "; default DACL " + dflt.text + ")";
    return r;
  }
  // The default DACL and the attach hook first: a thread started while we walk the list is then
  // created restricted.
  if (!defaultOk && !SetDefaultDacl(defaultAces, &err))
    return Failed(r, err, WinErr("SetTokenInformation(TokenDefaultDacl)", err));
  if (!ArmThreadAttach(threadAces, &err))
    return Failed(r, err, WinErr("building the new-thread security descriptor", err));
  tids.clear();
  if (!OwnThreads(&tids, &err)) return Failed(r, err, WinErr("CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD)", err));
  ThreadPass after = PassThreads(tids, threadAces, false);
  bool defaultRead = ReadDefaultDacl(&dflt, &err);
  r.status = after.restricted == 0 && after.set == 0 ? StepStatus::Failed : StepStatus::Applied;
  if (r.status == StepStatus::Failed) r.err = static_cast<int>(after.firstErr);
  r.verified =
      defaultRead && SameAces(dflt, defaultAces) && after.failed == 0 && after.restricted == after.total - after.gone
          ? 1
          : 0;
  r.detail = "set " + wantText + "; read back: " + Summary(after) + "; token default DACL " +
             (defaultRead ? dflt.text : WinErr("GetTokenInformation(TokenDefaultDacl)", err));
  return r;
}

StepResult Unsupported(const char* id, const char* why) {
  StepResult r;
  r.id = id;
  r.status = StepStatus::Unsupported;
  r.detail = why;
  return r;
}

}  // namespace

// DLL_THREAD_ATTACH: a thread created after harden() restricts its own DACL (see AttachSd).
void OnThreadAttach() {
  if (AttachSd* a = g_attachSd.load(std::memory_order_acquire))
    SetKernelObjectSecurity(GetCurrentThread(), DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                            &a->sd);
}

std::vector<StepResult> Harden(const HardenOptions& opts) {
  std::vector<StepResult> out;
  out.push_back(
      Unsupported("dumpable", "Windows has no dumpable flag; the process-dacl step denies handles with VM rights"));
  out.push_back(Unsupported("core-limit",
                            "Windows has no per-process core limit; Windows Error Reporting dumps are configured per "
                            "machine (LocalDumps registry key)"));
  out.push_back(Unsupported("deny-attach", "PT_DENY_ATTACH is macOS only"));
  out.push_back(Unsupported("trace-ctl", "procctl(PROC_TRACE_CTL) is FreeBSD only"));
  out.push_back(ProcessDacl(opts));
  out.push_back(ThreadDacl(opts));
  return out;
}

TracerState QueryTracer() {
  TracerState t;
  BOOL remote = FALSE;
  bool local = IsDebuggerPresent() != FALSE;
  bool checked = CheckRemoteDebuggerPresent(GetCurrentProcess(), &remote) != FALSE;
  if (local || (checked && remote)) {
    t.state = "attached";
    t.detail = std::string("debugger present (") + (local ? "IsDebuggerPresent" : "CheckRemoteDebuggerPresent") + ")";
  } else {
    t.state = "none";
    t.detail = checked ? "IsDebuggerPresent and CheckRemoteDebuggerPresent report no debugger"
                       : "IsDebuggerPresent reports no debugger (CheckRemoteDebuggerPresent failed)";
  }
  return t;
}

ProcessState QueryProcessState() {
  ProcessState s;
  s.dumpable = -1;
  s.coreKnown = false;
  return s;
}

}  // namespace pg

// The addon's DllMain (the CRT's entry point calls it): only thread attach matters here.
extern "C" BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID) {
  if (reason == DLL_THREAD_ATTACH) pg::OnThreadAttach();
  return TRUE;
}
