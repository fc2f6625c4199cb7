#include "sw/hal/window.h"

#include "util/log.h"

namespace hal {

void RegisterWindow::check(std::uint64_t offset, unsigned width) {
  if (contains(offset, width)) return;
  if (outside_++ == 0) {
    static util::Logger log("hal");
    log.error(
        "a {}-byte access at offset {:#x} is outside the register window [{:#x}, +{:#x}) "
        "in {} space",
        width, offset, base_, size_, space_ == hw::Space::io ? "I/O" : "memory");
  }
}

}  // namespace hal
