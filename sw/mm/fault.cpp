// MmAccessFault: what the trap handler does with a page fault (Windows Internals 7e, ch. 5,
// "Page fault handling"), and the rule it enforces first: resolving a fault may mean waiting for
// a paging read, and nothing at DISPATCH_LEVEL or above may wait, so a fault there stops the
// machine whether or not the page could have been brought in.
#include <fmt/format.h>

#include "sw/mm/mm.h"
#include "util/event_log.h"
#include "util/log.h"

namespace mm {
namespace {
constexpr std::uint32_t kStatusAccessViolation = 0xC0000005;
constexpr std::uint32_t kStatusInPageError = 0xC0000006;
constexpr std::uint32_t kStatusDeviceDataError = 0xC000009C;
constexpr std::uint32_t kPteFrameMask = ~std::uint32_t{0xfff};
}  // namespace

void MemoryManager::irql_fault(const hw::PageFault& fault, ke::Irql irql) {
  const ke::Kernel::RunningRoutine r = kernel_.running_routine();
  // A fault inside a pageable routine is charged to it only when no ISR or DPC interrupted it.
  const PageableRoutine* code = r.id == 0 ? running_pageable() : nullptr;
  const bool fetch = code != nullptr && (fault.address & ~(kPageSize - 1)) == code->code;
  // A driver's access: inside a routine a driver owns (its ISR, DPC or pageable routine).
  const std::string& owner = kernel_.running_driver();
  const bool driver = code != nullptr || (!owner.empty() && owner != "ntoskrnl");
  const std::string where =
      code != nullptr ? fmt::format("pageable routine '{}' of {}", code->name, code->driver)
                      : fmt::format("'{}' ({})", r.name, r.owner);
  util::Logger("mm").error(
      "page fault at {:#x} ({}) at IRQL {} in {}: a page fault at "
      "DISPATCH_LEVEL or above cannot wait for the page",
      fault.address, fault.present ? "protection" : "not present", irql, where);
  emit("fault_at_raised_irql", {{"address", fault.address},
                                {"irql", irql},
                                {"write", fault.write},
                                {"routine", code != nullptr ? code->name : r.name}});
  // P3: 0 read, 1 write, 8 execute. P4: where the access came from: the pageable routine's code
  // address, or the running ISR/DPC's number in the routine trace.
  const std::uint64_t p3 = fetch ? 8 : (fault.write ? 1 : 0);
  const std::uint64_t p4 = code != nullptr ? code->code : r.id;
  kernel_.bug_check(driver ? ke::kDriverIrqlNotLessOrEqual : ke::kIrqlNotLessOrEqual, fault.address,
                    irql, p3, p4);
}

void MemoryManager::invalid_access(const hw::PageFault& fault, bool user_space) {
  ++stats_.access_violations;
  emit("access_violation", {{"address", fault.address}, {"write", fault.write}});
  // User addresses: the caller's exception handler (a probe's __except) gets it. A kernel
  // address that was never valid: nobody can.
  if (user_space || fault.user)
    throw ke::AccessViolation{kStatusAccessViolation, fault.address, fault.write};
  kernel_.bug_check(ke::kPageFaultInNonpagedArea, fault.address, fault.write ? 1 : 0,
                    kernel_.running_routine().id, fault.present ? 0 : 2);
}

void MemoryManager::access_fault(const hw::PageFault& fault) {
  ++stats_.faults;
  const ke::Irql irql = kernel_.irql();
  if (irql >= ke::kDispatchLevel) irql_fault(fault, irql);
  cpu().consume(config_.costs.fault);
  const std::uint64_t va = fault.address;
  const bool user_space = va >= kUserBase && va < kUserEnd;
  Process& p = user_space ? current_process() : system_process();
  if (user_space && p.system) invalid_access(fault, true);
  const std::uint64_t at = pte_address(p.directory, va, false);
  if (at == 0) invalid_access(fault, user_space);

  // Until resolved: a fault that waited (for a page in transition, for a free page) looks at
  // the PTE again, which another thread may have changed meanwhile.
  for (;;) {
    ke::Irql old = lock();
    const std::uint32_t v = read_pte(at);
    if (v & pte::kValid) {
      const bool denied = (fault.write && !(v & pte::kWrite)) || (fault.user && !(v & pte::kOwner));
      unlock(old);
      if (!denied) return;  // another thread brought it in
      ++stats_.protection;
      if (user_space || fault.user) {
        ++stats_.access_violations;
        throw ke::AccessViolation{kStatusAccessViolation, va, fault.write};
      }
      kernel_.bug_check(ke::kAttemptedWriteToReadonlyMemory, va, v, kernel_.running_routine().id,
                        0);
    }
    if (v & pte::kTransition) {
      const std::uint32_t f = frame_of(v & kPteFrameMask);
      if (pfn_[f].busy) {
        wait_busy(f, old);  // in a paging read or write: wait for it, then look again
        continue;
      }
      // A soft fault: the page is still in its frame, on the standby or modified list.
      const PageState was = pfn_[f].state;
      list_remove(f);
      list_insert(f, PageState::active);
      make_valid(f, at, v, p, va);
      ++stats_.soft;
      unlock(old);
      emit("fault", {{"kind", "soft"}, {"address", va}, {"from", to_string(was)}});
      return;
    }
    if (!(v & pte::kCommitted)) {
      unlock(old);
      invalid_access(fault, user_space);
    }
    bool needs_zero = false;
    const std::uint32_t f = take_frame(needs_zero);
    if (f == kNone) {
      wait_for_pages();
      unlock(old);
      kernel_.wait_for_single_object(pages_event_, std::nullopt);
      continue;
    }
    if (v & pte::kPagefile) {
      hard_fault(fault, at, v, p, f, old);
      return;
    }
    // Demand zero: a zeroed frame (zeroed here if the zeroed list had none), mapped.
    list_insert(f, PageState::active);
    if (needs_zero) {
      pfn_[f].busy = true;
      write_pte(at, static_cast<std::uint32_t>(frame_address(f)) | pte::kCommitted |
                        pte::kTransition | (v & pte::kProtection));
      unlock(old);
      cpu().fill_block(frame_address(f), 0, kPageSize);
      ++stats_.pages_zeroed;
      old = lock();
      end_busy(f);
    }
    make_valid(f, at, v, p, va);
    ++stats_.demand_zero;
    unlock(old);
    emit("fault", {{"kind", "demand_zero"}, {"address", va}});
    return;
  }
}

void MemoryManager::hard_fault(const hw::PageFault& fault, std::uint64_t at, std::uint32_t v,
                               Process& p, std::uint32_t f, ke::Irql old) {
  const std::uint64_t va = fault.address;
  const std::int64_t slot = static_cast<std::int64_t>(v >> kPageShift);
  Pfn& pfn = pfn_[f];
  list_insert(f, PageState::active);
  pfn.busy = true;
  pfn.slot = slot;
  // In transition while the read runs: another thread touching the page waits for this read
  // (a collided fault) instead of reading it a second time.
  write_pte(at, static_cast<std::uint32_t>(frame_address(f)) | pte::kCommitted | pte::kTransition |
                    (v & pte::kProtection));
  unlock(old);
  const std::uint64_t start = cpu().now_ps();
  const ke::Thread* t = kernel_.current_thread();
  emit("paging_read", {{"address", va},
                       {"slot", slot},
                       {"frame", frame_address(f)},
                       {"thread", t != nullptr ? t->name : std::string()}});
  ++stats_.paging_reads;
  const bool ok = pagefile_ != nullptr && pagefile_->read(static_cast<std::uint64_t>(slot),
                                                          frame_address(f), va & ~(kPageSize - 1));
  emit("paging_read_done", {{"address", va},
                            {"slot", slot},
                            {"ok", ok},
                            {"thread", t != nullptr ? t->name : std::string()}});
  old = lock();
  if (!ok) {
    ++stats_.paging_read_errors;
    write_pte(at, v);  // still in the pagefile
    pfn.slot = -1;
    list_remove(f);
    list_insert(f, PageState::free);
    end_busy(f);
    unlock(old);
    if (!(va >= kUserBase && va < kUserEnd))
      kernel_.bug_check(ke::kKernelDataInpageError, at, kStatusDeviceDataError, v, va);
    throw ke::AccessViolation{kStatusInPageError, va, fault.write};
  }
  make_valid(f, at, v, p, va);
  end_busy(f);
  ++stats_.hard;
  stats_.hard_fault_ps += cpu().now_ps() - start;
  unlock(old);
  emit("fault", {{"kind", "hard"}, {"address", va}, {"slot", slot}});
}

}  // namespace mm
