#pragma once
// Duration histograms with the buckets Windows' DPC/ISR reports use (xperf/WPA "DPC/ISR
// duration"): 0-1, 1-2, 2-3, 3-4, 4-5, 5-10, 10-25, 25-50, 50-100, 100-250, >250 microseconds.
#include <algorithm>
#include <array>
#include <cstdint>

namespace ke {

class Histogram {
 public:
  static constexpr std::array<std::uint64_t, 10> kUpperUs = {1, 2, 3, 4, 5, 10, 25, 50, 100, 250};
  static constexpr std::size_t kBuckets = kUpperUs.size() + 1;

  void add(std::uint64_t ps) {
    // The first five buckets are a microsecond each: where most ISRs and DPCs fall.
    const std::uint64_t us = ps / 1'000'000;
    std::size_t b = us < 5 ? static_cast<std::size_t>(us) : 5;
    while (b < kUpperUs.size() && us >= kUpperUs[b]) ++b;
    ++buckets_[b];
    ++count_;
    sum_ps_ += ps;
    min_ps_ = count_ == 1 ? ps : std::min(min_ps_, ps);
    max_ps_ = std::max(max_ps_, ps);
  }
  std::uint64_t count() const { return count_; }
  std::uint64_t sum_ps() const { return sum_ps_; }
  std::uint64_t min_ps() const { return min_ps_; }
  std::uint64_t max_ps() const { return max_ps_; }
  double mean_ps() const {
    return count_ ? static_cast<double>(sum_ps_) / static_cast<double>(count_) : 0.0;
  }
  const std::array<std::uint64_t, kBuckets>& buckets() const { return buckets_; }

 private:
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0, sum_ps_ = 0, min_ps_ = 0, max_ps_ = 0;
};

}  // namespace ke
