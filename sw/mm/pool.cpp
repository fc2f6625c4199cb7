#include "sw/mm/pool.h"

namespace mm {

Pool::Pool(std::uint64_t base, std::uint64_t size) : base_(base), size_(size) {
  if (size > 0) free_[base] = size;
}

std::uint64_t Pool::allocate(std::uint64_t bytes) {
  bytes = rounded(bytes);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < bytes) continue;
    const std::uint64_t address = it->first;
    const std::uint64_t left = it->second - bytes;
    free_.erase(it);
    if (left > 0) free_[address + bytes] = left;
    used_[address] = bytes;
    in_use_ += bytes;
    if (in_use_ > peak_) peak_ = in_use_;
    return address;
  }
  return 0;
}

std::uint64_t Pool::free(std::uint64_t address) {
  auto it = used_.find(address);
  if (it == used_.end()) return 0;
  std::uint64_t size = it->second;
  const std::uint64_t freed = size;
  in_use_ -= size;
  used_.erase(it);
  auto next = free_.lower_bound(address);
  if (next != free_.end() && address + size == next->first) {
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == address) {
      prev->second += size;
      return freed;
    }
  }
  free_[address] = size;
  return freed;
}

}  // namespace mm
