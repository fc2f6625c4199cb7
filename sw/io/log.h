#pragma once
// The I/O manager's log channel, shared by its files.
#include "util/log.h"

namespace io::detail {

inline util::Logger& logger() {
  static util::Logger log("io");
  return log;
}

}  // namespace io::detail
