#include "sw/mm/mm.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/event_log.h"
#include "util/log.h"

namespace mm {

const char* to_string(PageState s) {
  switch (s) {
    case PageState::free:
      return "free";
    case PageState::zeroed:
      return "zeroed";
    case PageState::standby:
      return "standby";
    case PageState::modified:
      return "modified";
    case PageState::active:
      return "active";
    case PageState::page_table:
      return "page_table";
  }
  return "?";
}

MemoryManager::MemoryManager(ke::Kernel& kernel, MmConfig config)
    : kernel_(kernel), config_(std::move(config)), paged_(kPagedPoolBase, config_.paged_pool_size) {
  kernel_.initialize_event(writer_event_, "mm_modified_writer", ke::EventType::synchronization,
                           false);
  kernel_.initialize_event(balance_event_, "mm_balance_set", ke::EventType::synchronization, false);
  kernel_.initialize_event(zero_event_, "mm_zero_pages", ke::EventType::synchronization, false);
  kernel_.initialize_event(pages_event_, "mm_free_pages", ke::EventType::notification, false);
}

MemoryManager::~MemoryManager() = default;

void MemoryManager::emit(std::string_view ev, std::initializer_list<util::EventField> fields) {
  if (util::events().enabled()) util::events().emit("mm", ev, fields);
}

// ---- the PFN database's lists

void MemoryManager::list_insert(std::uint32_t f, PageState to) {
  Pfn& p = pfn_[f];
  p.state = to;
  ++counts_[static_cast<unsigned>(to)];
  if (to == PageState::active || to == PageState::page_table) return;  // on no list
  List& l = lists_[static_cast<unsigned>(to)];
  p.next = kNone;
  p.prev = l.tail;
  if (l.tail != kNone) pfn_[l.tail].next = f;
  l.tail = f;
  if (l.head == kNone) l.head = f;
}

void MemoryManager::list_remove(std::uint32_t f) {
  Pfn& p = pfn_[f];
  --counts_[static_cast<unsigned>(p.state)];
  if (p.state == PageState::active || p.state == PageState::page_table) return;
  List& l = lists_[static_cast<unsigned>(p.state)];
  (p.prev != kNone ? pfn_[p.prev].next : l.head) = p.next;
  (p.next != kNone ? pfn_[p.next].prev : l.tail) = p.prev;
  p.next = p.prev = kNone;
}

std::uint32_t MemoryManager::list_pop(PageState from) {
  const std::uint32_t f = lists_[static_cast<unsigned>(from)].head;
  if (f != kNone) list_remove(f);
  return f;
}

ke::Irql MemoryManager::lock() {
  return kernel_.acquire_spin_lock(pfn_lock_);
}

void MemoryManager::unlock(ke::Irql old) {
  kernel_.release_spin_lock(pfn_lock_, old);
}

std::uint32_t MemoryManager::take_frame(bool& needs_zero) {
  cpu().consume(config_.costs.list);
  needs_zero = false;
  std::uint32_t f = list_pop(PageState::zeroed);
  if (f == kNone) {
    f = list_pop(PageState::free);
    needs_zero = f != kNone;
  }
  if (f == kNone) {
    // Repurpose the oldest standby page: its owner's PTE now says the pagefile has it.
    f = list_pop(PageState::standby);
    if (f != kNone) {
      release_standby(f);
      needs_zero = true;
      ++stats_.repurposed;
    }
  }
  if (available_pages() < config_.low_pages) wake_helpers();
  return f;
}

void MemoryManager::release_standby(std::uint32_t f) {
  Pfn& p = pfn_[f];
  const std::uint32_t v = read_pte(p.pte);
  write_pte(p.pte, static_cast<std::uint32_t>(p.slot) << kPageShift | pte::kCommitted |
                       pte::kPagefile | (v & pte::kProtection));
  p.slot = -1;
  p.process = nullptr;
}

void MemoryManager::wake_helpers() {
  if (!started_) return;
  kernel_.set_event(balance_event_);
  if (list_count(PageState::modified) > 0) kernel_.set_event(writer_event_);
}

void MemoryManager::wait_for_pages() {
  // Called with the lock held and no page to take: wait for the trimmer and the writer.
  ++stats_.waits_for_pages;
  kernel_.clear_event(pages_event_);
  wake_helpers();
}

ke::Event& MemoryManager::busy_event(std::uint32_t f) {
  auto& e = busy_events_[f];
  if (!e) {
    e = std::make_unique<ke::Event>();
    kernel_.initialize_event(*e, fmt::format("mm_page_{:#x}", frame_address(f)),
                             ke::EventType::notification, false);
  }
  return *e;
}

void MemoryManager::end_busy(std::uint32_t f) {
  pfn_[f].busy = false;
  auto it = busy_events_.find(f);
  if (it != busy_events_.end()) kernel_.set_event(*it->second);
}

void MemoryManager::wait_busy(std::uint32_t f, ke::Irql old) {
  ++stats_.collided;
  ke::Event& e = busy_event(f);
  kernel_.clear_event(e);
  unlock(old);
  kernel_.wait_for_single_object(e, std::nullopt);
}

// ---- page tables

std::uint64_t MemoryManager::new_page_table() {
  bool needs_zero = false;
  ke::Irql old = lock();
  std::uint32_t f = take_frame(needs_zero);
  while (f == kNone) {
    wait_for_pages();
    unlock(old);
    kernel_.wait_for_single_object(pages_event_, std::nullopt);
    old = lock();
    f = take_frame(needs_zero);
  }
  list_insert(f, PageState::page_table);
  unlock(old);
  const std::uint64_t pa = frame_address(f);
  if (needs_zero) cpu().fill_block(pa, 0, kPageSize);
  return pa;
}

std::uint64_t MemoryManager::pte_address(std::uint64_t directory, std::uint64_t va, bool create) {
  const std::uint64_t pde_at = directory + ((va >> 22) & 0x3ff) * 4;
  std::uint32_t pde = read_pte(pde_at);
  if (!(pde & pte::kValid)) {
    if (!create) return 0;
    const std::uint64_t table = new_page_table();
    pde = static_cast<std::uint32_t>(table) | pte::kValid | pte::kWrite |
          (va >= kUserBase && va < kUserEnd ? pte::kOwner : 0);
    write_pte(pde_at, pde);
  }
  return (pde & ~std::uint32_t{0xfff}) + ((va >> kPageShift) & 0x3ff) * 4;
}

void MemoryManager::commit(std::uint64_t directory, std::uint64_t va, std::uint64_t bytes,
                           bool user) {
  const std::uint64_t end = va + bytes;
  for (std::uint64_t page = va & ~(kPageSize - 1); page < end; page += kPageSize) {
    const std::uint64_t at = pte_address(directory, page, true);
    if (read_pte(at) == 0) write_pte(at, pte::kCommitted | pte::kWrite | (user ? pte::kOwner : 0));
  }
}

void MemoryManager::make_valid(std::uint32_t f, std::uint64_t pte_at, std::uint32_t old_pte,
                               Process& p, std::uint64_t va) {
  cpu().consume(config_.costs.map);
  Pfn& pfn = pfn_[f];
  pfn.pte = pte_at;
  pfn.va = va & ~(kPageSize - 1);
  pfn.process = &p;
  write_pte(pte_at, static_cast<std::uint32_t>(frame_address(f)) | pte::kValid |
                        (old_pte & pte::kProtection));
  p.working_set.push_back(pfn.va);
  p.peak_working_set = std::max<std::uint64_t>(p.peak_working_set, p.working_set.size());
}

// ---- initialization

void MemoryManager::initialize(Pool& nonpaged) {
  nonpaged_ = &nonpaged;
  const std::uint64_t n = config_.frames_size / kPageSize;
  pfn_.assign(n, Pfn{});
  for (std::uint32_t f = 0; f < n; ++f) list_insert(f, PageState::free);

  // The system page directory: the identity window, the paged pool's tables (made now, so a
  // process's copy of the system half never goes stale), every PTE written a page table at a
  // time.
  auto system = std::make_unique<Process>();
  system->name = "System";
  system->system = true;
  const std::uint64_t pd = new_page_table();
  system->directory = pd;
  std::vector<std::uint32_t> table(1024);
  std::map<std::uint64_t, std::vector<std::uint32_t>> tables;  // 4 MiB region -> its PTEs
  const std::uint64_t pool_end = kPagedPoolBase + config_.paged_pool_size;
  for (const auto& [base, size] : config_.identity) {
    if ((base < kUserEnd && kUserBase < base + size) ||
        (base < pool_end && kPagedPoolBase < base + size)) {
      util::Logger("mm").error(
          "memory-space window [{:#x}, {:#x}) lies in user space or the "
          "paged pool: not mapped, its accesses fault",
          base, base + size);
      continue;
    }
    for (std::uint64_t a = base & ~(kPageSize - 1); a < base + size; a += kPageSize) {
      auto& t = tables[a >> 22];
      if (t.empty()) t.assign(1024, 0);
      t[(a >> kPageShift) & 0x3ff] = static_cast<std::uint32_t>(a) | pte::kValid | pte::kWrite;
    }
  }
  tables[kSystemPteBase >> 22].assign(1024, 0);
  system_ptes_.assign(kSystemPteSize / kPageSize, false);
  for (std::uint64_t a = kPagedPoolBase; a < kPagedPoolBase + config_.paged_pool_size;
       a += 1ull << 22) {
    auto& t = tables[a >> 22];
    if (t.empty()) t.assign(1024, 0);
  }
  for (const auto& [region, ptes] : tables) {
    const std::uint64_t pt = new_page_table();
    cpu().write_block(pt, ptes.data(), kPageSize);
    cpu().write32(pd + region * 4, static_cast<std::uint32_t>(pt) | pte::kValid | pte::kWrite);
  }
  processes_.push_back(std::move(system));

  kernel_.set_page_fault_handler([this](const hw::PageFault& f) { access_fault(f); });
  // Paging on, processor by processor (those not started yet turn it on as they start).
  kernel_.ipi_generic_call([this, pd] {
    cpu().load_cr3(pd);
    cpu().set_paging(true);
  });
  emit("init", {{"frames", n},
                {"directory", pd},
                {"paged_pool", config_.paged_pool_size},
                {"free", available_pages()}});
}

// ---- processes

Process& MemoryManager::create_process(const std::string& name) {
  auto p = std::make_unique<Process>();
  p->name = name;
  p->directory = new_page_table();
  // The system half: every PDE outside user space, as the system directory has it.
  std::vector<std::uint32_t> pdes(1024);
  cpu().read_block(system_process().directory, pdes.data(), kPageSize);
  for (std::uint64_t i = kUserBase >> 22; i < kUserEnd >> 22; ++i) pdes[i] = 0;
  cpu().write_block(p->directory, pdes.data(), kPageSize);
  processes_.push_back(std::move(p));
  emit("process", {{"name", name}, {"directory", processes_.back()->directory}});
  return *processes_.back();
}

std::uint64_t MemoryManager::allocate_virtual_memory(Process& process, std::uint64_t bytes) {
  bytes = (bytes + kPageSize - 1) & ~(kPageSize - 1);
  if (bytes == 0 || process.system || process.next_va + bytes > kUserEnd) return 0;
  const std::uint64_t va = process.next_va;
  process.next_va += bytes;
  commit(process.directory, va, bytes, true);
  return va;
}

Process& MemoryManager::current_process() {
  const std::uint64_t cr3 = cpu().cr3();
  for (auto& p : processes_)
    if (p->directory == cr3) return *p;
  return system_process();
}

std::uint64_t MemoryManager::get_physical_address(std::uint64_t va) {
  if (!cpu().paging()) return va;
  const std::uint64_t at = pte_address(cpu().cr3(), va, false);
  if (at == 0) return kNoPhysicalAddress;
  const std::uint32_t v = read_pte(at);
  if (!(v & pte::kValid)) return kNoPhysicalAddress;
  return (v & ~std::uint32_t{0xfff}) | (va & (kPageSize - 1));
}

bool MemoryManager::is_address_valid(std::uint64_t va) {
  return get_physical_address(va) != kNoPhysicalAddress;
}

// ---- system PTEs

std::uint64_t MemoryManager::map_io_space(std::uint64_t pa, std::uint64_t bytes) {
  const std::uint64_t first = pa & ~(kPageSize - 1);
  const std::size_t pages = (pa + bytes - first + kPageSize - 1) / kPageSize;
  if (pages == 0 || !cpu().paging()) return pa;
  std::size_t run = 0;
  for (std::size_t i = 0; i < system_ptes_.size(); ++i) {
    run = system_ptes_[i] ? 0 : run + 1;
    if (run < pages) continue;
    const std::size_t start = i + 1 - pages;
    const std::uint64_t va = kSystemPteBase + start * kPageSize;
    for (std::size_t k = 0; k < pages; ++k) {
      system_ptes_[start + k] = true;
      write_pte(pte_address(system_process().directory, va + k * kPageSize, false),
                static_cast<std::uint32_t>(first + k * kPageSize) | pte::kValid | pte::kWrite);
    }
    return va + (pa - first);
  }
  return 0;
}

void MemoryManager::unmap_io_space(std::uint64_t va, std::uint64_t bytes) {
  const std::uint64_t first = va & ~(kPageSize - 1);
  if (first < kSystemPteBase || first >= kSystemPteBase + kSystemPteSize) return;
  std::vector<std::uint64_t> pages;
  for (std::uint64_t a = first; a < va + bytes && a < kSystemPteBase + kSystemPteSize;
       a += kPageSize) {
    write_pte(pte_address(system_process().directory, a, false), 0);
    system_ptes_[(a - kSystemPteBase) / kPageSize] = false;
    pages.push_back(a);
  }
  // Another processor may hold these translations: a shootdown, or it keeps reading the old
  // page through its TLB.
  if (kernel_.processor_count() > 1) ++stats_.tb_flushes;
  kernel_.flush_tb(pages);
  emit("unmap", {{"address", first}, {"pages", pages.size()}});
}

// ---- pools

std::uint64_t MemoryManager::allocate_pool(PoolType type, std::uint64_t bytes, std::uint32_t tag) {
  const bool paged = type == PoolType::paged && nonpaged_ != nullptr && cpu().paging();
  Pool& pool = paged ? paged_ : *nonpaged_;
  const std::uint64_t a = pool.allocate(bytes);
  if (a == 0) return 0;
  // The paged pool's pages are committed demand-zero: a frame only on the first touch.
  if (paged) commit(system_process().directory, a, bytes, false);
  const std::uint64_t size = Pool::rounded(bytes);
  auto& t = type == PoolType::paged ? tags_[tag].second : tags_[tag].first;
  ++t.allocs;
  t.bytes += size;
  pool_tag_of_[a] = tag;
  return a;
}

void MemoryManager::free_pool(std::uint64_t address, std::uint32_t tag) {
  auto it = pool_tag_of_.find(address);
  if (it == pool_tag_of_.end()) return;
  const bool paged = paged_.contains(address);
  const std::uint64_t size = (paged ? paged_ : *nonpaged_).free(address);
  // A tag that differs is counted against the allocation's own (ExFreePoolWithTag would
  // bug-check BAD_POOL_CALLER; Driver Verifier's pool tracking is issue 28's).
  (void)tag;
  auto& t = paged ? tags_[it->second].second : tags_[it->second].first;
  ++t.frees;
  t.bytes -= std::min(t.bytes, size);
  pool_tag_of_.erase(it);
}

// ---- pageable code

MemoryManager::PageableRoutine& MemoryManager::declare_pageable_routine(const std::string& name,
                                                                        const std::string& driver) {
  auto r = std::make_unique<PageableRoutine>();
  r->name = name;
  r->driver = driver;
  r->code = allocate_pool(PoolType::paged, kPageSize, 0x45474150);  // 'PAGE'
  r->id = static_cast<std::uint32_t>(pageable_.size() + 1);
  pageable_.push_back(std::move(r));
  return *pageable_.back();
}

void MemoryManager::call_pageable(PageableRoutine& routine, const std::function<void()>& body) {
  auto& running = pageable_running_[kernel_.current_thread()];
  // Left as it was however the routine ends (an access violation unwinds through it).
  running.push_back(&routine);
  struct Entered {
    std::vector<PageableRoutine*>& running;
    ~Entered() { running.pop_back(); }
  } entered{running};
  const ke::Kernel::DriverCode code(kernel_, routine.driver);
  // The call's first instruction fetch: through the MMU, so a routine whose page was trimmed
  // faults here (and, at DISPATCH_LEVEL, stops the machine naming the routine).
  cpu().read32(routine.code);
  body();
}

MemoryManager::PageableRoutine* MemoryManager::running_pageable() {
  auto it = pageable_running_.find(kernel_.current_thread());
  return it == pageable_running_.end() || it->second.empty() ? nullptr : it->second.back();
}

void MemoryManager::paged_code(const char* routine) {
  const ke::Irql irql = kernel_.irql();
  if (irql <= ke::kApcLevel) return;
  util::Logger("mm").error("PAGED_CODE() in {} at IRQL {}", routine, irql);
  // A checked build's assertion failure in kernel mode: an unhandled breakpoint.
  kernel_.bug_check(ke::kIrqlNotLessOrEqual, 0, irql, 0, kernel_.running_routine().id);
}

}  // namespace mm
