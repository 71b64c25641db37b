// Windows hardening: replace the process object's DACL with a protected one that grants only
// PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE | SYNCHRONIZE to the current user and
// to OWNER RIGHTS (S-1-3-4), then read it back with GetSecurityInfo and compare every ACE.
//
// Why OWNER RIGHTS: the owner of an object is implicitly granted READ_CONTROL | WRITE_DAC
// unless the DACL has an OWNER RIGHTS entry. Without it, any process of the same user could
// open us with WRITE_DAC, put back a permissive DACL and reopen us with PROCESS_VM_READ.
// Handles opened before the change keep their rights (access is checked at open time).
//
// Compile-checked with mingw-w64 (scripts/check-windows.sh); not run here.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <cstdio>
#include <string>
#include <vector>

#include "harden.h"

namespace pg {
namespace {

constexpr DWORD kLimitedAccess = PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE | SYNCHRONIZE;
const char* const kOwnerRights = "S-1-3-4";

struct Ace {
  bool allow = true;
  std::vector<BYTE> sid;  // a self-relative SID, copied
  DWORD mask = 0;
  std::string text;       // SID as text, for the report
};

std::string Hex(DWORD v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(v));
  return buf;
}

std::string WinErr(const char* what, DWORD e) { return std::string(what) + " failed (error " + std::to_string(e) + ")"; }

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
bool ResolveAces(const HardenOptions& o, std::vector<Ace>* out, DWORD* err, std::string* why) {
  std::vector<AceSpec> specs = o.dacl;
  if (specs.empty()) {
    AceSpec user;
    user.allow = true;
    user.sid = "USER";
    user.mask = kLimitedAccess;
    AceSpec owner = user;
    owner.sid = kOwnerRights;
    specs = {user, owner};
  }
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

// Reads the process DACL back and compares it, ACE by ACE, with `want`.
// Returns false only when the read itself failed.
bool ReadBack(const std::vector<Ace>& want, bool* matches, bool* isProtected, std::string* got, DWORD* err) {
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD rc = GetSecurityInfo(GetCurrentProcess(), SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                             nullptr, &dacl, nullptr, &sd);
  if (rc != ERROR_SUCCESS) {
    *err = rc;
    return false;
  }
  SECURITY_DESCRIPTOR_CONTROL ctl = 0;
  DWORD rev = 0;
  *isProtected = GetSecurityDescriptorControl(sd, &ctl, &rev) && (ctl & SE_DACL_PROTECTED) != 0;
  *matches = false;
  got->clear();
  if (dacl == nullptr) {
    *got = "no DACL (full access for everyone)";
    LocalFree(sd);
    return true;
  }
  ACL_SIZE_INFORMATION info{};
  if (!GetAclInformation(dacl, &info, sizeof info, AclSizeInformation)) {
    *err = GetLastError();
    LocalFree(sd);
    return false;
  }
  bool same = info.AceCount == want.size();
  for (DWORD i = 0; i < info.AceCount; i++) {
    LPVOID p = nullptr;
    if (!GetAce(dacl, i, &p)) {
      same = false;
      continue;
    }
    const ACE_HEADER* h = static_cast<const ACE_HEADER*>(p);
    bool allow;
    DWORD mask;
    PSID sid;
    if (h->AceType == ACCESS_ALLOWED_ACE_TYPE) {
      auto* a = static_cast<ACCESS_ALLOWED_ACE*>(p);
      allow = true;
      mask = a->Mask;
      sid = reinterpret_cast<PSID>(&a->SidStart);
    } else if (h->AceType == ACCESS_DENIED_ACE_TYPE) {
      auto* a = static_cast<ACCESS_DENIED_ACE*>(p);
      allow = false;
      mask = a->Mask;
      sid = reinterpret_cast<PSID>(&a->SidStart);
    } else {
      if (!got->empty()) *got += "; ";
      *got += "ACE type " + std::to_string(h->AceType);
      same = false;
      continue;
    }
    if (!got->empty()) *got += "; ";
    *got += (allow ? "allow " : "deny ") + SidText(sid) + " " + Hex(mask);
    if (same && i < want.size()) {
      const Ace& w = want[i];
      same = w.allow == allow && w.mask == mask && EqualSid(sid, const_cast<BYTE*>(w.sid.data()));
    }
  }
  *matches = same;
  LocalFree(sd);
  return true;
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
  if (!ResolveAces(o, &want, &err, &why)) {
    r.status = StepStatus::Failed;
    r.err = static_cast<int>(err);
    r.detail = why;
    return r;
  }
  bool matches = false, prot = false;
  std::string got;
  if (!ReadBack(want, &matches, &prot, &got, &err)) {
    r.status = StepStatus::Failed;
    r.err = static_cast<int>(err);
    r.detail = WinErr("GetSecurityInfo", err);
    return r;
  }
  if (matches && prot) {
    r.status = StepStatus::Already;
    r.verified = 1;
    r.detail = "the protected process DACL is already in force: " + got;
    return r;
  }
  if (o.dryRun) {
    r.status = StepStatus::Skipped;
    r.detail = "dry run: would set the protected process DACL " + Describe(want) + " (now: " + got + ")";
    return r;
  }
  std::vector<BYTE> aclBuf;
  if (!BuildAcl(want, &aclBuf, &err)) {
    r.status = StepStatus::Failed;
    r.err = static_cast<int>(err);
    r.detail = WinErr("building the ACL", err);
    return r;
  }
  // PROTECTED_DACL_SECURITY_INFORMATION: nothing is inherited into this DACL.
  DWORD rc = SetSecurityInfo(GetCurrentProcess(), SE_KERNEL_OBJECT,
                             DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr, nullptr,
                             reinterpret_cast<PACL>(aclBuf.data()), nullptr);
  if (rc != ERROR_SUCCESS) {
    r.status = StepStatus::Failed;
    r.err = static_cast<int>(rc);
    r.detail = WinErr("SetSecurityInfo", rc);
    return r;
  }
  r.status = StepStatus::Applied;
  if (!ReadBack(want, &matches, &prot, &got, &err)) {
    r.verified = -1;
    r.detail = "set the protected process DACL " + Describe(want) + "; " + WinErr("read back with GetSecurityInfo", err);
    return r;
  }
  r.verified = (matches && prot) ? 1 : 0;
  r.detail = "set the protected process DACL " + Describe(want) + "; read back " + got +
             (prot ? " (protected)" : " (NOT protected)");
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

std::vector<StepResult> Harden(const HardenOptions& opts) {
  std::vector<StepResult> out;
  out.push_back(Unsupported("dumpable", "Windows has no dumpable flag; the process-dacl step denies handles with VM rights"));
  out.push_back(Unsupported("core-limit",
                            "Windows has no per-process core limit; Windows Error Reporting dumps are configured per "
                            "machine (LocalDumps registry key)"));
  out.push_back(Unsupported("deny-attach", "PT_DENY_ATTACH is macOS only"));
  out.push_back(Unsupported("trace-ctl", "procctl(PROC_TRACE_CTL) is FreeBSD only"));
  out.push_back(ProcessDacl(opts));
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
