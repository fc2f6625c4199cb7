#include "sw/apps/paging_app.h"

#include <vector>

#include <fmt/format.h>

#include "util/event_log.h"

namespace apps {

PagingApp::PagingApp(ke::Kernel& kernel, mm::MemoryManager& mm, Params params)
    : kernel_(kernel), mm_(mm), params_(params) {
  kernel_.initialize_event(done_, "paging_done", ke::EventType::notification, false);
}

void PagingApp::main() {
  process_ = &mm_.create_process("paging.exe");
  const unsigned n = std::max(1u, params_.threads);
  const std::uint64_t slice = (params_.working_set / n + mm::kPageSize - 1) & ~(mm::kPageSize - 1);
  for (unsigned i = 0; i < params_.compute_threads; ++i)
    kernel_.create_thread(fmt::format("compute{}", i), 8, [this] {
      for (;;) {
        kernel_.cpu().consume(5000, 0.3);
        ++counts_.compute_chunks;
      }
    });
  running_ = n;
  counts_.start_ps = kernel_.cpu().now_ps();
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t base = mm_.allocate_virtual_memory(*process_, slice);
    kernel_.create_thread(fmt::format("pager{}", i), 8,
                          [this, i, base, slice] { worker(i, base, slice); });
  }
  kernel_.wait_for_single_object(done_, std::nullopt);
}

void PagingApp::worker(unsigned index, std::uint64_t base, std::uint64_t bytes) {
  // KeAttachProcess: this thread runs in the application's address space from now on.
  kernel_.attach_process(process_->directory);
  hw::Processor& cpu = kernel_.cpu();
  constexpr std::size_t kWords = mm::kPageSize / 4;
  std::vector<std::uint32_t> page(kWords);
  for (std::uint64_t pass = 0; params_.passes == 0 || pass < params_.passes; ++pass) {
    try {
      for (std::uint64_t va = base; va < base + bytes; va += mm::kPageSize) {
        for (std::size_t w = 0; w < kWords; ++w) page[w] = pattern(va + 4 * w, pass, index);
        cpu.write_block(va, page.data(), mm::kPageSize);
        ++counts_.pages_written;
      }
      for (std::uint64_t va = base; va < base + bytes; va += mm::kPageSize) {
        cpu.read_block(va, page.data(), mm::kPageSize);
        for (std::size_t w = 0; w < kWords; ++w) {
          if (page[w] != pattern(va + 4 * w, pass, index)) {
            if (counts_.mismatches++ == 0 && util::events().enabled())
              util::events().emit("app", "mismatch",
                                  {{"address", va + 4 * w}, {"read", page[w]}, {"pass", pass}});
          }
        }
        counts_.words_checked += kWords;
        ++counts_.pages_checked;
      }
    } catch (const ke::AccessViolation&) {
      // The memory manager could not bring a page in (a failed paging read): this pass's
      // request fails, as an application's would with STATUS_IN_PAGE_ERROR.
      ++counts_.access_violations;
    }
    if (index == 0) ++counts_.passes;
  }
  if (--running_ == 0) {
    counts_.end_ps = cpu.now_ps();
    kernel_.set_event(done_);
  }
}

}  // namespace apps

namespace apps {

PagedPoolInDpc::PagedPoolInDpc(ke::Kernel& kernel, mm::MemoryManager& mm,
                               drivers::OneShotDriver::Params device)
    : kernel_(kernel), mm_(mm), device_(kernel, device, [this] {
        // The bug: a DPC (DISPATCH_LEVEL) touching paged pool.
        kernel_.cpu().read32(buffer_);
        ++reads_;
        device_.arm(100'000);
      }) {}

void PagedPoolInDpc::main() {
  hw::Processor& cpu = kernel_.cpu();
  buffer_ = mm_.allocate_pool(mm::PoolType::paged, 64, 0x31677542);  // 'Bug1'
  cpu.write32(buffer_, 0x600d);
  if (util::events().enabled()) util::events().emit("app", "paged_buffer", {{"address", buffer_}});
  device_.start();
  device_.arm(100'000);
  kernel_.delay_execution(2'000'000'000);  // months of uptime, compressed: the DPCs work
  // Memory pressure: an application touching more memory than there are free pages. The
  // balance set manager trims working sets, the driver's page among them.
  mm::Process& p = mm_.create_process("pressure.exe");
  kernel_.attach_process(p.directory);
  const std::uint64_t bytes = (mm_.frames() + 64) * mm::kPageSize;
  const std::uint64_t base = mm_.allocate_virtual_memory(p, bytes);
  for (std::uint64_t va = base; va < base + bytes; va += mm::kPageSize) cpu.write32(va, 1);
}

}  // namespace apps
