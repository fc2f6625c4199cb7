#pragma once
// The I/O manager's name for the nonpaged pool's allocator, which the memory manager owns.
#include "sw/mm/pool.h"

namespace io {
using Pool = mm::Pool;
}  // namespace io
