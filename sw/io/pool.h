#pragma once
// Physical memory for buffers in the simulated RAM (a minimal nonpaged pool): first fit over
// one window, freed blocks merged. Drivers' DMA buffers and the I/O manager's system buffers
// live here, so DMA really moves bytes software then reads through the CPU.
#include <cstdint>
#include <map>

namespace io {

class Pool {
 public:
  Pool(std::uint64_t base, std::uint64_t size);
  // Returns the address of `bytes` (rounded up to 16), or 0 if the pool is exhausted.
  std::uint64_t allocate(std::uint64_t bytes);  // ExAllocatePool
  void free(std::uint64_t address);             // ExFreePool
  std::uint64_t in_use() const { return in_use_; }
  std::uint64_t peak() const { return peak_; }

 private:
  std::map<std::uint64_t, std::uint64_t> free_;  // address -> size
  std::map<std::uint64_t, std::uint64_t> used_;
  std::uint64_t in_use_ = 0, peak_ = 0;
};

}  // namespace io
