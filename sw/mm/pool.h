#pragma once
// An allocator of address ranges, first fit over one window, freed blocks merged: the nonpaged
// pool's physical RAM (drivers' DMA buffers and the I/O manager's system buffers live there, so
// DMA really moves bytes software then reads through the CPU) and the paged pool's virtual
// addresses.
#include <cstdint>
#include <map>

namespace mm {

class Pool {
 public:
  Pool(std::uint64_t base, std::uint64_t size);
  // What an allocation of `bytes` takes: rounded up to 16, at least 16.
  static std::uint64_t rounded(std::uint64_t bytes) {
    return bytes == 0 ? 16 : (bytes + 15) & ~std::uint64_t{15};
  }
  // Returns the address of `bytes` (rounded()), or 0 if the pool is exhausted.
  std::uint64_t allocate(std::uint64_t bytes);  // ExAllocatePool
  // Frees an allocation; returns its (rounded) size, 0 if `address` is none.
  std::uint64_t free(std::uint64_t address);  // ExFreePool
  bool contains(std::uint64_t address) const { return address >= base_ && address - base_ < size_; }
  std::uint64_t base() const { return base_; }
  std::uint64_t size() const { return size_; }
  std::uint64_t in_use() const { return in_use_; }
  std::uint64_t peak() const { return peak_; }

 private:
  std::map<std::uint64_t, std::uint64_t> free_;  // address -> size
  std::map<std::uint64_t, std::uint64_t> used_;
  std::uint64_t in_use_ = 0, peak_ = 0;
  std::uint64_t base_ = 0, size_ = 0;
};

}  // namespace mm
