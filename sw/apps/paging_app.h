#pragma once
// The paging workload: threads of one application process writing a working set of demand-zero
// user memory page by page and checking every word they wrote, pass after pass. With a working
// set bigger than the RAM's page frames the memory manager trims, the modified page writer
// writes pages to the pagefile and hard faults read them back; a word that comes back wrong is
// a mismatch.
#include <cstdint>
#include <string>

#include "sw/drivers/oneshot/oneshot.h"
#include "sw/ke/kernel.h"
#include "sw/mm/mm.h"

namespace apps {

class PagingApp {
 public:
  struct Params {
    std::uint64_t working_set = 6ull << 20;  // bytes, split evenly between the threads
    unsigned threads = 2;
    std::uint64_t passes = 0;  // 0 = until the simulation ends
    unsigned compute_threads = 1;
  };
  struct Counts {
    std::uint64_t passes = 0, pages_written = 0, pages_checked = 0, words_checked = 0;
    std::uint64_t mismatches = 0, access_violations = 0, compute_chunks = 0;
    std::uint64_t start_ps = 0, end_ps = 0;  // the workers' first touch, the last one's end
  };
  PagingApp(ke::Kernel& kernel, mm::MemoryManager& mm, Params params);
  // The system thread: makes the process and its threads, waits for them (passes > 0).
  void main();
  const Counts& counts() const { return counts_; }
  // The word written at `va` in pass `pass` by thread `thread`.
  static std::uint32_t pattern(std::uint64_t va, std::uint64_t pass, unsigned thread) {
    return static_cast<std::uint32_t>(va >> 2) ^ static_cast<std::uint32_t>(pass * 0x9E3779B9u) ^
           (thread << 28);
  }

 private:
  void worker(unsigned index, std::uint64_t base, std::uint64_t bytes);

  ke::Kernel& kernel_;
  mm::MemoryManager& mm_;
  Params params_;
  mm::Process* process_ = nullptr;
  ke::Event done_;
  unsigned running_ = 0;
  Counts counts_;
};

}  // namespace apps

namespace apps {

// The classic driver bug (bugcheck rule paged-pool-in-dpc): a driver keeps data its DPC reads
// in paged pool. While the page stays resident every DPC works; once memory pressure trims it,
// the next DPC's read faults at DISPATCH_LEVEL and the machine stops with
// DRIVER_IRQL_NOT_LESS_OR_EQUAL (0xD1), P1 = the address, P2 = 2.
class PagedPoolInDpc {
 public:
  PagedPoolInDpc(ke::Kernel& kernel, mm::MemoryManager& mm, drivers::OneShotDriver::Params device);
  void main();
  std::uint64_t buffer() const { return buffer_; }
  std::uint64_t dpc_reads() const { return reads_; }

 private:
  ke::Kernel& kernel_;
  mm::MemoryManager& mm_;
  drivers::OneShotDriver device_;
  std::uint64_t buffer_ = 0, reads_ = 0;
};

}  // namespace apps
