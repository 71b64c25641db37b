/* A stand-in addon that imports a function from a DLL that exists nowhere (pg-absent.dll; import
 * library made by test-windows.sh with dlltool): loading it fails as an addon whose dependency is
 * missing does. test/windows/hosts.test.mjs checks what NativeLoadError says then. */
extern void pg_absent_function(void);

__declspec(dllexport) void *napi_register_module_v1(void *env, void *exports) {
  (void)env;
  pg_absent_function();
  return exports;
}
