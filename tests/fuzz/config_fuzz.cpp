// libFuzzer target: a platform config (YAML) from arbitrary bytes. Loading and validating it
// may only ever end in a ConfigError (bad input, exit 2), never a crash, a hang or a sanitizer
// report. Built with IOCOSIM_FUZZ=ON (clang); scripts/fuzz.sh runs it for a bounded time.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "platform/config.h"

int sc_main(int, char*[]) {
  return 0;  // libsystemc wants one; libFuzzer's main drives this program
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // load_config reads a file (its errors name it): one per fuzzing process.
  static const std::string path =
      "/tmp/iocosim-fuzz-config-" + std::to_string(::getpid()) + ".yaml";
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    platform::Config c = platform::load_config(path);
    platform::validate(c);
  } catch (const platform::ConfigError&) {
  }
  return 0;
}
