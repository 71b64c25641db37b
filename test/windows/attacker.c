/* A same-user attacker for the Windows tests (built with mingw-w64 by scripts/windows/test-windows.sh).
 * It does what malware of the same user would do to a procguard process: open it with VM rights,
 * read and write its memory, open its threads with suspend/context rights. Every attempt is
 * reported as JSON on stdout; the tests assert the results against a hardened and a control target.
 *
 *   attacker wine                       {"wine":"8.0"} or {"wine":null}: ntdll's wine_get_version export
 *   attacker probe <pid> <hexaddr>      every access attempt below, nothing changed in the target
 *   attacker write <pid> <hexaddr> <hexbyte>   WriteProcessMemory of one byte (the tamper tests)
 *   attacker attach <pid> <ms>          DebugActiveProcess: {"attached":true} (then debug events are pumped
 *                                        for <ms> ms, then {"detached":true}) or {"attached":false,"error":5}
 *   attacker defaultdacl                 the mechanism harden()'s thread-dacl step relies on, alone: sets
 *                                        this process's token default DACL to the restricted one, creates
 *                                        a thread, and reopens it by id with suspend/context rights
 *   attacker loadaddon <path.node>       LoadLibraryW of a procguard addon in this process (no Node-API here):
 *                                        {"loaded":true,"bound":0,"text":"<why>"} from procguard_node_api_binding
 *   attacker launch <how> <exe> [args]   starts <exe> sandboxed as a browser sandboxes its children (<how>:
 *                                        a comma list of restricted = CreateRestrictedToken with restricting
 *                                        SIDs, low = the token's integrity set to low, job = in a new job
 *                                        object), sharing this process's stdio; prints {"pid":N,"restricted":
 *                                        {"ok":true},...} for each step (with what the token it made reads
 *                                        back: isRestricted, restrictedSids = the count or -error, integrity),
 *                                        then waits for the child to exit
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <tlhelp32.h>
#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *wine_version(void) {
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  if (!ntdll) return NULL;
  typedef const char *(__cdecl * fn_t)(void);
  fn_t fn = (fn_t)(void *)GetProcAddress(ntdll, "wine_get_version");
  return fn ? fn() : NULL;
}

/* {"ok":true} or {"ok":false,"error":5} for one OpenProcess attempt; returns the handle (or NULL). */
static HANDLE open_process(const char *name, DWORD access, DWORD pid, int comma) {
  HANDLE h = OpenProcess(access, FALSE, pid);
  if (h) printf("%s\"%s\":{\"ok\":true}", comma ? "," : "", name);
  else printf("%s\"%s\":{\"ok\":false,\"error\":%lu}", comma ? "," : "", name, GetLastError());
  return h;
}

static int probe(DWORD pid, ULONG_PTR addr) {
  printf("{\"pid\":%lu", pid);
  HANDLE h;
  h = open_process("vmRead", PROCESS_VM_READ, pid, 1);
  unsigned char buf[16];
  SIZE_T n = 0;
  int readOk = 0;
  if (h) {
    readOk = ReadProcessMemory(h, (LPCVOID)addr, buf, sizeof buf, &n) && n == sizeof buf;
    if (readOk) printf(",\"read\":{\"ok\":true,\"first\":%u}", buf[0]);
    else printf(",\"read\":{\"ok\":false,\"error\":%lu}", GetLastError());
    CloseHandle(h);
  }
  h = open_process("vmWrite", PROCESS_VM_WRITE | PROCESS_VM_OPERATION, pid, 1);
  if (h) {
    /* Writes back the byte just read: proves the right without changing the target. */
    if (readOk) {
      SIZE_T w = 0;
      BOOL ok = WriteProcessMemory(h, (LPVOID)addr, buf, 1, &w) && w == 1;
      if (ok) printf(",\"write\":{\"ok\":true}");
      else printf(",\"write\":{\"ok\":false,\"error\":%lu}", GetLastError());
    }
    CloseHandle(h);
  }
  h = open_process("vmOperation", PROCESS_VM_OPERATION, pid, 1);
  if (h) CloseHandle(h);
  h = open_process("createThread", PROCESS_CREATE_THREAD, pid, 1);
  if (h) CloseHandle(h);
  h = open_process("dupHandle", PROCESS_DUP_HANDLE, pid, 1);
  if (h) CloseHandle(h);
  h = open_process("suspendResume", PROCESS_SUSPEND_RESUME, pid, 1);
  if (h) CloseHandle(h);
  h = open_process("writeDac", WRITE_DAC, pid, 1);
  if (h) CloseHandle(h);
  h = open_process("queryLimited", PROCESS_QUERY_LIMITED_INFORMATION, pid, 1);
  if (h) CloseHandle(h);

  /* Threads: OpenThread with suspend/context rights, the entry point of thread hijacking. */
  int total = 0, opened = 0, suspended = 0, dacOpened = 0;
  DWORD firstErr = 0;
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap != INVALID_HANDLE_VALUE) {
    THREADENTRY32 te;
    te.dwSize = sizeof te;
    for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
      if (te.th32OwnerProcessID != pid) continue;
      total++;
      HANDLE t = OpenThread(THREAD_SUSPEND_RESUME | THREAD_SET_CONTEXT, FALSE, te.th32ThreadID);
      if (t) {
        opened++;
        if (SuspendThread(t) != (DWORD)-1) {
          suspended++;
          ResumeThread(t);
        }
        CloseHandle(t);
      } else if (!firstErr) {
        firstErr = GetLastError();
      }
      HANDLE d = OpenThread(WRITE_DAC, FALSE, te.th32ThreadID);
      if (d) {
        dacOpened++;
        CloseHandle(d);
      }
    }
    CloseHandle(snap);
  }
  printf(",\"threads\":{\"total\":%d,\"suspendContextOpened\":%d,\"suspended\":%d,\"writeDacOpened\":%d,\"firstError\":%lu}}\n",
         total, opened, suspended, dacOpened, firstErr);
  return 0;
}

static int write_byte(DWORD pid, ULONG_PTR addr, unsigned byte) {
  HANDLE h = OpenProcess(PROCESS_VM_WRITE | PROCESS_VM_OPERATION, FALSE, pid);
  if (!h) {
    printf("{\"open\":false,\"error\":%lu}\n", GetLastError());
    return 0;
  }
  unsigned char b = (unsigned char)byte;
  SIZE_T w = 0;
  BOOL ok = WriteProcessMemory(h, (LPVOID)addr, &b, 1, &w) && w == 1;
  if (ok) printf("{\"open\":true,\"written\":true}\n");
  else printf("{\"open\":true,\"written\":false,\"error\":%lu}\n", GetLastError());
  CloseHandle(h);
  return 0;
}

static int attach(DWORD pid, DWORD ms) {
  if (!DebugActiveProcess(pid)) {
    printf("{\"attached\":false,\"error\":%lu}\n", GetLastError());
    return 0;
  }
  DebugSetProcessKillOnExit(FALSE);
  printf("{\"attached\":true}\n");
  DWORD until = GetTickCount() + ms;
  DEBUG_EVENT ev;
  while ((LONG)(until - GetTickCount()) > 0) {
    if (!WaitForDebugEvent(&ev, 50)) continue;
    /* Exceptions are the target's own business (the initial breakpoint included). */
    DWORD status = ev.dwDebugEventCode == EXCEPTION_DEBUG_EVENT && ev.u.Exception.ExceptionRecord.ExceptionCode != EXCEPTION_BREAKPOINT
                       ? DBG_EXCEPTION_NOT_HANDLED
                       : DBG_CONTINUE;
    if (ev.dwDebugEventCode == CREATE_PROCESS_DEBUG_EVENT && ev.u.CreateProcessInfo.hFile) CloseHandle(ev.u.CreateProcessInfo.hFile);
    if (ev.dwDebugEventCode == LOAD_DLL_DEBUG_EVENT && ev.u.LoadDll.hFile) CloseHandle(ev.u.LoadDll.hFile);
    ContinueDebugEvent(ev.dwProcessId, ev.dwThreadId, status);
  }
  printf("{\"detached\":%s}\n", DebugActiveProcessStop(pid) ? "true" : "false");
  return 0;
}

static DWORD WINAPI idle(LPVOID arg) {
  WaitForSingleObject((HANDLE)arg, 10000);
  return 0;
}

static int default_dacl(void) {
  HANDLE tok = NULL;
  BYTE user[256];
  DWORD len = 0;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY | TOKEN_ADJUST_DEFAULT, &tok) ||
      !GetTokenInformation(tok, TokenUser, user, sizeof user, &len)) {
    printf("{\"error\":\"token %lu\"}\n", GetLastError());
    return 1;
  }
  PSID userSid = ((TOKEN_USER *)user)->User.Sid;
  SID_IDENTIFIER_AUTHORITY creator = SECURITY_CREATOR_SID_AUTHORITY;
  PSID ownerRights = NULL;
  AllocateAndInitializeSid(&creator, 1, SECURITY_CREATOR_OWNER_RIGHTS_RID, 0, 0, 0, 0, 0, 0, 0, &ownerRights);
  BYTE aclBuf[512];
  PACL acl = (PACL)aclBuf;
  InitializeAcl(acl, sizeof aclBuf, ACL_REVISION);
  AddAccessAllowedAce(acl, ACL_REVISION, SYNCHRONIZE | READ_CONTROL, userSid);
  AddAccessAllowedAce(acl, ACL_REVISION, SYNCHRONIZE | READ_CONTROL, ownerRights);
  TOKEN_DEFAULT_DACL d;
  d.DefaultDacl = acl;
  if (!SetTokenInformation(tok, TokenDefaultDacl, &d, sizeof d)) {
    printf("{\"error\":\"SetTokenInformation %lu\"}\n", GetLastError());
    return 1;
  }
  HANDLE stop = CreateEventA(NULL, TRUE, FALSE, NULL);
  DWORD tid = 0;
  HANDLE th = CreateThread(NULL, 0, idle, stop, 0, &tid);
  HANDLE t = OpenThread(THREAD_SUSPEND_RESUME | THREAD_SET_CONTEXT, FALSE, tid);
  DWORD e = t ? 0 : GetLastError();
  if (t) CloseHandle(t);
  /* The new thread's DACL as the kernel gave it, through the creation handle (full access). */
  PACL got = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  int aces = -1;
  DWORD firstMask = 0;
  if (GetSecurityInfo(th, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &got, NULL, &sd) == ERROR_SUCCESS) {
    aces = got ? got->AceCount : -1;
    void *ace = NULL;
    if (got && got->AceCount > 0 && GetAce(got, 0, &ace)) firstMask = ((ACCESS_ALLOWED_ACE *)ace)->Mask;
    LocalFree(sd);
  }
  SetEvent(stop);
  WaitForSingleObject(th, 10000);
  printf("{\"opened\":%s,\"error\":%lu,\"threadAces\":%d,\"firstMask\":%lu}\n", e ? "false" : "true", e, aces, firstMask);
  return 0;
}

/* JSON string of s (the addon's message holds Windows paths: backslashes). */
static void print_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static int load_addon(const char *path) {
  wchar_t wpath[MAX_PATH * 4];
  if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, MAX_PATH * 4)) return 2;
  HMODULE m = LoadLibraryW(wpath);
  if (!m) {
    printf("{\"loaded\":false,\"error\":%lu}\n", GetLastError());
    return 0;
  }
  typedef int (*binding_t)(const char **);
  binding_t binding = (binding_t)(void *)GetProcAddress(m, "procguard_node_api_binding");
  if (!binding) {
    printf("{\"loaded\":true,\"bound\":null,\"error\":%lu}\n", GetLastError());
    return 0;
  }
  const char *text = "";
  int bound = binding(&text);
  printf("{\"loaded\":true,\"bound\":%d,\"text\":", bound);
  print_json_string(text);
  printf("}\n");
  return 0;
}

static void step(const char *name, BOOL ok, int *comma) {
  printf("%s\"%s\":{\"ok\":%s", *comma ? "," : "", name, ok ? "true" : "false");
  if (!ok) printf(",\"error\":%lu", GetLastError());
  printf("}");
  *comma = 1;
}

/* The mandatory label S-1-16-<rid> set on a token. */
static BOOL set_integrity(HANDLE tok, DWORD rid) {
  char text[32];
  PSID sid = NULL;
  snprintf(text, sizeof text, "S-1-16-%lu", rid);
  if (!ConvertStringSidToSidA(text, &sid)) return FALSE;
  TOKEN_MANDATORY_LABEL tml;
  tml.Label.Attributes = SE_GROUP_INTEGRITY;
  tml.Label.Sid = sid;
  BOOL ok = SetTokenInformation(tok, TokenIntegrityLevel, &tml, sizeof tml + GetLengthSid(sid));
  LocalFree(sid);
  return ok;
}

static int launch(const char *how, int argc, char **argv) {
  wchar_t cmd[8192] = L"";
  for (int i = 0; i < argc; i++) {
    wchar_t arg[2048];
    if (!MultiByteToWideChar(CP_UTF8, 0, argv[i], -1, arg, 2048)) return 2;
    if (wcslen(cmd) + wcslen(arg) + 4 >= 8192) return 2;
    /* Quoted only when it holds a space, as Chromium's broker writes its children's flags. */
    int quote = arg[0] == 0 || wcspbrk(arg, L" \t") != NULL;
    if (i) wcscat(cmd, L" ");
    if (quote) wcscat(cmd, L"\"");
    wcscat(cmd, arg);
    if (quote) wcscat(cmd, L"\"");
  }
  int comma = 0;
  printf("{");
  HANDLE tok = NULL;
  OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &tok);
  if (strstr(how, "restricted")) {
    /* Chromium's shape: privileges dropped, and restricting SIDs (every access is checked twice). */
    BYTE user[256];
    DWORD len = 0;
    GetTokenInformation(tok, TokenUser, user, sizeof user, &len);
    PSID everyone = NULL, users = NULL, restricted = NULL;
    ConvertStringSidToSidA("S-1-1-0", &everyone);
    ConvertStringSidToSidA("S-1-5-32-545", &users);
    ConvertStringSidToSidA("S-1-5-12", &restricted);
    SID_AND_ATTRIBUTES sids[4] = {{((TOKEN_USER *)user)->User.Sid, 0}, {everyone, 0}, {users, 0}, {restricted, 0}};
    HANDLE r = NULL;
    BOOL ok = CreateRestrictedToken(tok, DISABLE_MAX_PRIVILEGE, 0, NULL, 0, NULL, 4, sids, &r);
    step("restricted", ok, &comma);
    if (ok) printf(",\"isRestricted\":%s", IsTokenRestricted(r) ? "true" : "false");
    BYTE rs[1024];
    DWORD rl = 0;
    if (ok) {
      BOOL q = GetTokenInformation(r, TokenRestrictedSids, rs, sizeof rs, &rl);
      printf(",\"restrictedSids\":%ld", q ? (long)((TOKEN_GROUPS *)rs)->GroupCount : -(long)GetLastError());
    }
    if (ok) {
      CloseHandle(tok);
      tok = r;
    }
  }
  if (strstr(how, "low")) {
    HANDLE d = NULL;
    BOOL ok = DuplicateTokenEx(tok, TOKEN_ALL_ACCESS, NULL, SecurityImpersonation, TokenPrimary, &d) && set_integrity(d, SECURITY_MANDATORY_LOW_RID);
    step("low", ok, &comma);
    BYTE label[128];
    DWORD len = 0;
    if (ok && GetTokenInformation(d, TokenIntegrityLevel, label, sizeof label, &len)) {
      PSID sid = ((TOKEN_MANDATORY_LABEL *)label)->Label.Sid;
      printf(",\"integrity\":%lu", *GetSidSubAuthority(sid, *GetSidSubAuthorityCount(sid) - 1));
    }
    if (d) {
      CloseHandle(tok);
      tok = d;
    }
  }
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  BOOL created = strstr(how, "restricted") || strstr(how, "low")
                     ? CreateProcessAsUserW(tok, NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi)
                     : CreateProcessW(NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi);
  step("created", created, &comma);
  if (!created) {
    printf("}\n");
    return 1;
  }
  if (strstr(how, "job")) {
    HANDLE job = CreateJobObjectW(NULL, NULL);
    step("job", job && AssignProcessToJobObject(job, pi.hProcess), &comma);
  }
  /* This line first, then the child runs: the reader sees it before the child's own output. */
  printf(",\"pid\":%lu}\n", pi.dwProcessId);
  fflush(stdout);
  ResumeThread(pi.hThread);
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  return (int)code;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc >= 2 && strcmp(argv[1], "wine") == 0) {
    const char *v = wine_version();
    if (v) printf("{\"wine\":\"%s\"}\n", v);
    else printf("{\"wine\":null}\n");
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "attach") == 0) return attach(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
  if (argc >= 2 && strcmp(argv[1], "defaultdacl") == 0) return default_dacl();
  if (argc >= 3 && strcmp(argv[1], "loadaddon") == 0) return load_addon(argv[2]);
  if (argc >= 4 && strcmp(argv[1], "probe") == 0)
    return probe(strtoul(argv[2], NULL, 10), (ULONG_PTR)strtoull(argv[3], NULL, 16));
  if (argc >= 5 && strcmp(argv[1], "write") == 0)
    return write_byte(strtoul(argv[2], NULL, 10), (ULONG_PTR)strtoull(argv[3], NULL, 16), (unsigned)strtoul(argv[4], NULL, 16));
  if (argc >= 4 && strcmp(argv[1], "launch") == 0) return launch(argv[2], argc - 3, argv + 3);
  fprintf(stderr, "usage: attacker wine | probe <pid> <hexaddr> | write <pid> <hexaddr> <hexbyte> | loadaddon <path>\n");
  return 2;
}
