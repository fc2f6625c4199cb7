#pragma once
// The memory manager (Mm): the PFN database and its page lists, the system address space (the
// nonpaged pool, the paged pool, the page tables), process address spaces, the page fault
// handler (MmAccessFault), the pagefile, the modified page writer, the balance set manager's
// working-set trimming and the zero page thread (Windows Internals 7e, ch. 5). Plain C++ over
// the processor interface and the kernel; paging I/O goes through a PagingDevice, which the I/O
// manager implements with paging IRPs down a disk's stack (sw/io/paging.cpp).
//
// One concept per file: mm.cpp (the PFN database, address spaces, pools, MmGetPhysicalAddress),
// fault.cpp (MmAccessFault and the IRQL rule), pager.cpp (the pagefile, the modified page
// writer, the balance set manager, the zero page thread). Each public routine names its NT
// counterpart.
//
// The address space (x86 32-bit, two-level paging, 4 KiB pages):
//   [0, 0x40000000)           the identity window: RAM and device memory at VA = PA, supervisor
//                             only. The low RAM, the nonpaged pool and the page tables live
//                             here, so MmGetPhysicalAddress of nonpaged memory is its address.
//                             (Departure: x86 Windows maps the kernel above 0x80000000 and user
//                             space below; with small simulated RAM an identity window keeps
//                             every driver's physical buffer valid as it was.)
//   [0x40000000, 0x80000000)  user space: each process's own page tables
//   [0xD0000000, +4 MiB)      system PTEs: MmMapIoSpace's mappings
//   [0xE0000000, +paged_pool) the paged pool
//   device memory above RAM   identity-mapped like RAM (the APICs, PCI memory BARs)
// Page tables are never paged (Windows pages them; here they come from the frames and stay).
//
// An invalid PTE (P = 0) keeps the page's protection (W, U) and says where its contents are:
//   0                      no page: an access is an access violation (user) or a bug check
//   kCommitted             demand zero: a zeroed frame on the first touch
//   kCommitted|kPagefile   in the pagefile, slot in bits 12-31 (a hard fault reads it)
//   kCommitted|kTransition in a frame on the standby or modified list, frame in bits 12-31 (a
//                          soft fault takes it back), or in a paging read or write (the
//                          fault waits for it: a collided fault)
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hw/cpu/processor.h"
#include "sw/ke/kernel.h"
#include "sw/mm/pool.h"
#include "util/event_log.h"

namespace mm {

constexpr std::uint64_t kPageSize = 4096;
constexpr unsigned kPageShift = 12;
constexpr std::uint64_t kUserBase = 0x40000000, kUserEnd = 0x80000000;
constexpr std::uint64_t kPagedPoolBase = 0xE0000000;
// System PTEs: mappings made on request (MmMapIoSpace), one page table's worth.
constexpr std::uint64_t kSystemPteBase = 0xD0000000, kSystemPteSize = 4ull << 20;

namespace pte {
constexpr std::uint32_t kValid = 1u << 0, kWrite = 1u << 1, kOwner = 1u << 2;
constexpr std::uint32_t kAccessed = 1u << 5, kDirty = 1u << 6;
constexpr std::uint32_t kCommitted = 1u << 9, kPagefile = 1u << 10, kTransition = 1u << 11;
constexpr std::uint32_t kProtection = kWrite | kOwner;
}  // namespace pte

// POOL_TYPE.
enum class PoolType : std::uint8_t { nonpaged, paged };

// The device the pagefile is on: a slot is one page at slot * kPageSize in the pagefile. Each
// call blocks the calling thread (PASSIVE_LEVEL) until the transfer ends; false: it failed.
class PagingDevice {
 public:
  virtual ~PagingDevice() = default;
  virtual std::uint64_t slots() const = 0;
  // IoPageRead: the slot into the frame at physical address `frame`.
  virtual bool read(std::uint64_t slot, std::uint64_t frame, std::uint64_t va) = 0;
  // IoAsynchronousPageWrite (waited for): the frame into the slot.
  virtual bool write(std::uint64_t slot, std::uint64_t frame, std::uint64_t va) = 0;
  virtual std::string name() const = 0;
};

// Cycles the memory manager charges for its own work (the PTE and PFN accesses it makes
// through the CPU are extra).
struct MmCosts {
  unsigned fault = 200;     // KiTrap0E to MmAccessFault and back, the PTE's examination
  unsigned list = 20;       // a PFN list operation
  unsigned map = 40;        // making a PTE valid, the working-set entry
  unsigned trim_page = 60;  // one working-set entry examined by the trimmer
};

struct MmConfig {
  std::uint64_t ram_base = 0, ram_size = 0;
  // The physical RAM the PFN database manages: frames for page tables, the paged pool and
  // process pages. Below it: the low RAM and the nonpaged pool.
  std::uint64_t frames_base = 0, frames_size = 0;
  // Memory-space ranges mapped VA = PA (supervisor, writable): RAM and device memory.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> identity;
  std::uint64_t paged_pool_size = 16ull << 20;
  // The balance set manager trims working sets when free + zeroed + standby pages fall below
  // this; the modified page writer runs when the modified list grows past its threshold.
  unsigned low_pages = 32;
  unsigned modified_threshold = 64;
  unsigned write_cluster = 8;                           // pages the modified writer takes per round
  std::uint64_t balance_period_ps = 1'000'000'000'000;  // the balance set manager's wake-up: 1 s
  bool zero_thread = true;
  MmCosts costs;
};

// MmGetPhysicalAddress's answer for an invalid address.
constexpr std::uint64_t kNoPhysicalAddress = ~std::uint64_t{0};

// A process's address space (EPROCESS's Pcb.DirectoryTableBase and its working set).
struct Process {
  std::string name;
  std::uint64_t directory = 0;  // the page directory's physical address (CR3)
  // The working set: its valid pages, in the order they became valid (the trimmer's FIFO with a
  // second chance for pages whose accessed bit is set).
  std::deque<std::uint64_t> working_set;
  std::uint64_t peak_working_set = 0;
  std::uint64_t next_va = kUserBase;  // NtAllocateVirtualMemory's next range (no reuse)
  bool system = false;
};

// The page lists of the PFN database (MMPFNLIST), and the frames on none of them.
enum class PageState : std::uint8_t {
  free,
  zeroed,
  standby,
  modified,
  active,      // valid in a working set, or in a paging read or write, or being trimmed
  page_table,  // a page directory or page table
};
constexpr unsigned kPageStates = 6;
const char* to_string(PageState s);

// Pool usage by tag, like the debugger's !poolused.
struct PoolTagStats {
  std::uint64_t allocs = 0, frees = 0, bytes = 0;  // bytes: in use now
};

struct MmStats {
  std::uint64_t faults = 0;  // page faults the handler saw
  std::uint64_t demand_zero = 0, soft = 0, hard = 0, collided = 0, protection = 0;
  std::uint64_t access_violations = 0;
  std::uint64_t paging_reads = 0, paging_writes = 0, paging_read_errors = 0;
  std::uint64_t writer_runs = 0, trims = 0, pages_trimmed = 0, pages_zeroed = 0;
  std::uint64_t repurposed = 0;       // standby pages taken for another page
  std::uint64_t waits_for_pages = 0;  // faults that waited for a free page
  std::uint64_t tb_flushes = 0;       // flushes of other processors' TLBs (shootdowns)
  std::uint64_t hard_fault_ps = 0;    // time faulting threads spent in hard faults, summed
};

class MemoryManager {
 public:
  MemoryManager(ke::Kernel& kernel, MmConfig config);
  ~MemoryManager();
  MemoryManager(const MemoryManager&) = delete;
  MemoryManager& operator=(const MemoryManager&) = delete;

  // MmInitSystem, on the boot processor at PASSIVE_LEVEL: the PFN database, the system page
  // directory (the identity window and the paged pool's page tables), paging on every
  // processor, the fault handler. `nonpaged`: the nonpaged pool's allocator.
  void initialize(Pool& nonpaged);
  // Phase 1: the pagefile and the system threads (modified page writer, balance set manager,
  // zero page thread). Without a pagefile nothing is ever written out: a dirty page stays
  // resident, and a fault that finds no frame waits for one.
  void start(PagingDevice* pagefile);

  // --- pools (ExAllocatePoolWithTag / ExFreePoolWithTag): 0 when exhausted
  std::uint64_t allocate_pool(PoolType type, std::uint64_t bytes, std::uint32_t tag);
  void free_pool(std::uint64_t address, std::uint32_t tag);
  const std::map<std::uint32_t, std::pair<PoolTagStats, PoolTagStats>>& pool_tags() const {
    return tags_;  // tag -> (nonpaged, paged)
  }
  std::uint64_t paged_pool_in_use() const { return paged_.in_use(); }

  // --- processes
  Process& system_process() { return *processes_.front(); }
  // PspCreateProcess's address space: a page directory sharing the system's half.
  Process& create_process(const std::string& name);
  // NtAllocateVirtualMemory(MEM_COMMIT, PAGE_READWRITE): `bytes` of demand-zero user memory.
  // 0 when the user space is full.
  std::uint64_t allocate_virtual_memory(Process& process, std::uint64_t bytes);
  // The process whose address space the running thread is in.
  Process& current_process();

  // MmGetPhysicalAddress: walks the current page tables (costed reads); kNoPhysicalAddress if
  // the page is not valid now.
  std::uint64_t get_physical_address(std::uint64_t va);
  // Whether the page of `va` is valid (resident) in the current address space.
  bool is_address_valid(std::uint64_t va);  // MmIsAddressValid

  // --- the trimmer: removes up to `pages` pages from the working sets (all if 0), oldest
  // first, a page whose accessed bit is set getting a second chance unless `force`. The pages
  // go to the standby or modified list. Returns how many left. PASSIVE_LEVEL.
  std::size_t trim(std::size_t pages, bool force);
  // Trims every pageable page of the system working set (Driver Verifier's force IRQL check).
  std::size_t trim_system();
  // NtSetSystemInformation(SystemMemoryListInformation, ...) as RAMMap uses it:
  // MemoryEmptyWorkingSets (every working set trimmed, accessed or not),
  // MemoryFlushModifiedList (the modified pages written to the pagefile now, waited for) and
  // MemoryPurgeStandbyList (standby pages given up: their next touch reads the pagefile).
  // PASSIVE_LEVEL. Each returns the pages it moved.
  std::size_t empty_working_sets() { return trim(0, true); }
  std::size_t flush_modified_list();
  std::size_t purge_standby_list();

  // MmMapIoSpace / MmUnmapIoSpace: `bytes` of physical memory at `pa` mapped at system PTEs
  // (the lowest free run), 0 if none are free; unmapping flushes every processor's TLB of them.
  std::uint64_t map_io_space(std::uint64_t pa, std::uint64_t bytes);
  void unmap_io_space(std::uint64_t va, std::uint64_t bytes);

  // The page fault handler (the kernel calls it from the trap handler).
  void access_fault(const hw::PageFault& fault);

  // --- pageable driver code (#pragma alloc_text(PAGE, ...)): a routine whose code is one page
  // of the paged pool. `call_pageable` enters it (the instruction fetch of its first byte
  // through the MMU, so a non-resident page faults, and at DISPATCH_LEVEL bug-checks with the
  // routine named) and runs `body`.
  struct PageableRoutine {
    std::string name, driver;
    std::uint64_t code = 0;  // its page in the paged pool
    std::uint32_t id = 0;    // for bug-check parameters: its number
  };
  PageableRoutine& declare_pageable_routine(const std::string& name, const std::string& driver);
  void call_pageable(PageableRoutine& routine, const std::function<void()>& body);
  // PAGED_CODE(): a checked build's assertion that IRQL <= APC_LEVEL.
  void paged_code(const char* routine);

  const MmStats& stats() const { return stats_; }
  std::uint64_t list_count(PageState s) const { return counts_[static_cast<unsigned>(s)]; }
  std::uint64_t frames() const { return pfn_.size(); }
  std::uint64_t available_pages() const {
    return list_count(PageState::free) + list_count(PageState::zeroed) +
           list_count(PageState::standby);
  }
  const std::vector<std::unique_ptr<Process>>& processes() const { return processes_; }
  const PagingDevice* pagefile() const { return pagefile_; }
  std::uint64_t pagefile_slots_used() const { return slots_used_; }
  const MmConfig& config() const { return config_; }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  struct Pfn {
    PageState state = PageState::free;
    std::uint32_t next = kNone, prev = kNone;  // links in its list
    std::uint64_t pte = 0;                     // physical address of the PTE mapping it
    std::uint64_t va = 0;                      // the page it holds
    Process* process = nullptr;                // the working set it belongs to
    std::int64_t slot = -1;                    // its copy in the pagefile
    bool busy = false;  // in a paging read or write, being zeroed or trimmed: faults wait
  };
  struct List {
    std::uint32_t head = kNone, tail = kNone;
  };

  std::uint64_t frame_address(std::uint32_t f) const {
    return config_.frames_base + std::uint64_t{f} * kPageSize;
  }
  std::uint32_t frame_of(std::uint64_t pa) const {
    return static_cast<std::uint32_t>((pa - config_.frames_base) / kPageSize);
  }
  bool managed(std::uint64_t pa) const {
    return pa >= config_.frames_base && pa - config_.frames_base < config_.frames_size;
  }
  void list_insert(std::uint32_t f, PageState to);  // at the tail (MiInsertPageInList)
  void list_remove(std::uint32_t f);                // MiUnlinkPageFromList
  std::uint32_t list_pop(PageState from);           // from the head, kNone if empty
  // A standby page given up: its owner's PTE now says the pagefile has it (the frame is the
  // caller's to reuse).
  void release_standby(std::uint32_t f);

  // Under the PFN lock: a frame for a page (MiRemoveAnyPage), zeroed if `zeroed`, which may
  // need zeroing outside the lock (`needs_zero`). kNone if none is available now.
  std::uint32_t take_frame(bool& needs_zero);
  // Waits (lock released) until a frame may be available; wakes the writer and the trimmer.
  void wait_for_pages();
  void wake_helpers();
  ke::Irql lock();
  void unlock(ke::Irql old);

  // The physical address of the PTE of `va` in `directory` (0: no page table). With
  // `create`, a page table is made for it (user space).
  std::uint64_t pte_address(std::uint64_t directory, std::uint64_t va, bool create);
  std::uint32_t read_pte(std::uint64_t at) { return cpu().read32(at); }
  void write_pte(std::uint64_t at, std::uint32_t v) { cpu().write32(at, v); }
  void make_valid(std::uint32_t f, std::uint64_t pte_at, std::uint32_t old_pte, Process& p,
                  std::uint64_t va);
  std::uint64_t new_page_table();  // a zeroed frame for a page directory or table
  void commit(std::uint64_t directory, std::uint64_t va, std::uint64_t bytes, bool user);
  std::int64_t allocate_slot();
  void free_slot(std::int64_t slot);
  ke::Event& busy_event(std::uint32_t f);
  void end_busy(std::uint32_t f);
  void wait_busy(std::uint32_t f, ke::Irql old);  // releases the lock

  [[noreturn]] void irql_fault(const hw::PageFault& fault, ke::Irql irql);
  [[noreturn]] void invalid_access(const hw::PageFault& fault, bool user_space);
  // With the lock held and frame `f` taken: reads the page from the pagefile into it.
  void hard_fault(const hw::PageFault& fault, std::uint64_t pte_at, std::uint32_t pte, Process& p,
                  std::uint32_t f, ke::Irql old);

  void modified_writer();
  void balance_set_manager();
  void zero_page_thread();
  bool write_modified_pages();  // one round; false if nothing was written

  hw::Processor& cpu() { return kernel_.cpu(); }
  void emit(std::string_view ev, std::initializer_list<util::EventField> fields);

  ke::Kernel& kernel_;
  MmConfig config_;
  Pool* nonpaged_ = nullptr;
  Pool paged_;
  std::vector<Pfn> pfn_;
  std::array<List, kPageStates> lists_{};
  std::array<std::uint64_t, kPageStates> counts_{};
  std::vector<std::unique_ptr<Process>> processes_;
  std::map<std::uint64_t, std::uint32_t> pool_tag_of_;  // address -> tag
  std::map<std::uint32_t, std::pair<PoolTagStats, PoolTagStats>> tags_;
  std::vector<std::unique_ptr<PageableRoutine>> pageable_;
  // The pageable routines each thread has entered, innermost last.
  std::map<const ke::Thread*, std::vector<PageableRoutine*>> pageable_running_;
  PageableRoutine* running_pageable();
  std::vector<bool> system_ptes_;  // in use, by page of the system PTE range
  ke::SpinLock pfn_lock_;
  PagingDevice* pagefile_ = nullptr;
  std::vector<bool> slots_;
  std::uint64_t slots_used_ = 0;
  std::map<std::uint32_t, std::unique_ptr<ke::Event>> busy_events_;  // frame -> its waiters
  ke::Event writer_event_, balance_event_, zero_event_, pages_event_;
  bool started_ = false;
  MmStats stats_;
};

}  // namespace mm
