// libFuzzer target: a register-level script (`iocosim script`) from arbitrary bytes. Parsing
// may only ever end in a ScriptError (bad input, exit 2), never a crash or a sanitizer report.
// Built with IOCOSIM_FUZZ=ON (clang); scripts/fuzz.sh runs it for a bounded time.
#include <cstdint>
#include <string>

#include "platform/script.h"

int sc_main(int, char*[]) {
  return 0;  // libsystemc wants one; libFuzzer's main drives this program
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    platform::parse_script_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz.scr");
  } catch (const platform::ScriptError&) {
  }
  return 0;
}
