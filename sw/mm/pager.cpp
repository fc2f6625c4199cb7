// The memory manager's system threads and the pagefile: the modified page writer
// (MiModifiedPageWriter), the balance set manager's working-set trimming
// (KeBalanceSetManager -> MmWorkingSetManager), the zero page thread (MmZeroPageThread).
#include <algorithm>

#include "sw/mm/mm.h"
#include "util/event_log.h"
#include "util/log.h"

namespace mm {
namespace {
constexpr std::uint32_t kPteFrameMask = ~std::uint32_t{0xfff};
// Thread priorities (Windows Internals 7e, ch. 5): the writer and the balance set manager run
// in the real-time range, above every workload thread; the zero page thread below them all.
constexpr int kWriterPriority = 17, kBalancePriority = 16, kZeroPriority = 1;
}  // namespace

void MemoryManager::start(PagingDevice* pagefile) {
  pagefile_ = pagefile;
  slots_.assign(pagefile != nullptr ? pagefile->slots() : 0, false);
  started_ = true;
  kernel_.create_thread("MiModifiedPageWriter", kWriterPriority, [this] { modified_writer(); });
  kernel_.create_thread("KeBalanceSetManager", kBalancePriority, [this] { balance_set_manager(); });
  if (config_.zero_thread) {
    kernel_.create_thread("MmZeroPageThread", kZeroPriority, [this] { zero_page_thread(); });
    kernel_.set_event(zero_event_);
  }
  emit("start", {{"pagefile", pagefile != nullptr ? pagefile->name() : std::string()},
                 {"slots", slots_.size()}});
}

std::int64_t MemoryManager::allocate_slot() {
  // The lowest free slot: the same run puts the same page in the same place.
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]) {
      slots_[i] = true;
      ++slots_used_;
      return static_cast<std::int64_t>(i);
    }
  }
  return -1;
}

void MemoryManager::free_slot(std::int64_t slot) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= slots_.size() || !slots_[slot]) return;
  slots_[slot] = false;
  --slots_used_;
}

std::size_t MemoryManager::trim(std::size_t want, bool force) {
  std::vector<std::uint64_t> flush;
  struct Taken {
    std::uint32_t frame;
    bool dirty;
  };
  std::vector<Taken> taken;
  ke::Irql old = lock();
  for (auto& proc : processes_) {
    auto& ws = proc->working_set;
    for (std::size_t n = ws.size(); n > 0 && (want == 0 || taken.size() < want); --n) {
      const std::uint64_t va = ws.front();
      ws.pop_front();
      cpu().consume(config_.costs.trim_page);
      const std::uint64_t at = pte_address(proc->directory, va, false);
      const std::uint32_t v = at != 0 ? read_pte(at) : 0;
      if (!(v & pte::kValid)) continue;
      if ((v & pte::kAccessed) && !force) {
        // Touched since the last look: a second chance, and the bit cleared to age it.
        write_pte(at, v & ~pte::kAccessed);
        flush.push_back(va);
        ws.push_back(va);
        continue;
      }
      const std::uint32_t f = frame_of(v & kPteFrameMask);
      // In transition until every processor's TLB has let go of it: then to its list.
      write_pte(at,
                (v & kPteFrameMask) | pte::kCommitted | pte::kTransition | (v & pte::kProtection));
      pfn_[f].busy = true;
      taken.push_back({f, (v & pte::kDirty) != 0});
      flush.push_back(va);
    }
  }
  unlock(old);
  if (!flush.empty()) {
    if (kernel_.processor_count() > 1) ++stats_.tb_flushes;
    kernel_.flush_tb(flush);
  }
  old = lock();
  for (const Taken& t : taken) {
    Pfn& p = pfn_[t.frame];
    list_remove(t.frame);
    // A page written since its copy in the pagefile was made has no copy any more.
    if (t.dirty && p.slot >= 0) {
      free_slot(p.slot);
      p.slot = -1;
    }
    list_insert(t.frame, p.slot >= 0 ? PageState::standby : PageState::modified);
    end_busy(t.frame);
  }
  ++stats_.trims;
  stats_.pages_trimmed += taken.size();
  if (!taken.empty()) kernel_.set_event(pages_event_);
  if (list_count(PageState::modified) > config_.modified_threshold ||
      (list_count(PageState::modified) > 0 && available_pages() < config_.low_pages))
    kernel_.set_event(writer_event_);
  unlock(old);
  if (!taken.empty())
    emit("trim", {{"pages", taken.size()},
                  {"standby", list_count(PageState::standby)},
                  {"modified", list_count(PageState::modified)},
                  {"available", available_pages()}});
  return taken.size();
}

std::size_t MemoryManager::trim_system() {
  // Every page of the paged pool leaves (the identity window's pages are never in a working set).
  return trim(0, true);
}

std::size_t MemoryManager::flush_modified_list() {
  std::size_t written = 0;
  while (list_count(PageState::modified) > 0) {
    const std::uint64_t before = list_count(PageState::modified);
    if (!write_modified_pages()) break;
    written += before - std::min(before, list_count(PageState::modified));
  }
  return written;
}

std::size_t MemoryManager::purge_standby_list() {
  std::size_t purged = 0;
  const ke::Irql old = lock();
  for (std::uint32_t f = list_pop(PageState::standby); f != kNone;
       f = list_pop(PageState::standby)) {
    release_standby(f);
    list_insert(f, PageState::free);
    ++purged;
  }
  unlock(old);
  if (purged > 0) {
    kernel_.set_event(zero_event_);
    emit("purge_standby", {{"pages", purged}});
  }
  return purged;
}

bool MemoryManager::write_modified_pages() {
  if (pagefile_ == nullptr) return false;
  struct Write {
    std::uint32_t frame;
    std::int64_t slot;
  };
  std::vector<Write> batch;
  ke::Irql old = lock();
  while (batch.size() < std::max(1u, config_.write_cluster)) {
    const std::uint32_t f = lists_[static_cast<unsigned>(PageState::modified)].head;
    if (f == kNone) break;
    const std::int64_t slot = allocate_slot();
    if (slot < 0) {
      static bool told = false;
      if (!told) util::Logger("mm").warn("the pagefile is full: modified pages stay in memory");
      told = true;
      break;
    }
    list_remove(f);
    list_insert(f, PageState::active);  // off the lists while its write runs
    pfn_[f].busy = true;
    pfn_[f].slot = slot;
    batch.push_back({f, slot});
  }
  unlock(old);
  bool all_ok = true;
  std::vector<bool> ok(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Pfn& p = pfn_[batch[i].frame];
    emit("paging_write", {{"address", p.va}, {"slot", batch[i].slot}});
    ++stats_.paging_writes;
    ok[i] = pagefile_->write(static_cast<std::uint64_t>(batch[i].slot),
                             frame_address(batch[i].frame), p.va);
    all_ok = all_ok && ok[i];
  }
  old = lock();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::uint32_t f = batch[i].frame;
    list_remove(f);
    if (!ok[i]) {
      free_slot(batch[i].slot);
      pfn_[f].slot = -1;
    }
    list_insert(f, ok[i] ? PageState::standby : PageState::modified);
    end_busy(f);
  }
  if (!batch.empty()) kernel_.set_event(pages_event_);
  unlock(old);
  if (!batch.empty()) emit("paging_write_done", {{"pages", batch.size()}, {"ok", all_ok}});
  return !batch.empty() && all_ok;
}

void MemoryManager::modified_writer() {
  for (;;) {
    kernel_.wait_for_single_object(writer_event_, std::nullopt);
    ++stats_.writer_runs;
    // Until the list is back under half its threshold and memory is not short.
    while (write_modified_pages()) {
      if (list_count(PageState::modified) <= config_.modified_threshold / 2 &&
          available_pages() >= config_.low_pages)
        break;
    }
  }
}

void MemoryManager::balance_set_manager() {
  for (;;) {
    const ke::Status s = kernel_.wait_for_single_object(balance_event_, config_.balance_period_ps);
    const std::uint64_t available = available_pages();
    if (available < config_.low_pages) {
      // Low memory: age and trim until twice the threshold is available, then force it.
      const std::size_t want = 2 * config_.low_pages - available;
      const std::size_t got = trim(want, false);
      if (got < want) trim(want - got, true);
    } else if (s == ke::Status::timeout && available < frames() / 4) {
      // The periodic pass while memory is getting short: pages not touched for a period leave.
      trim(0, false);
    }
  }
}

void MemoryManager::zero_page_thread() {
  for (;;) {
    kernel_.wait_for_single_object(zero_event_, std::nullopt);
    for (;;) {
      ke::Irql old = lock();
      const std::uint32_t f = list_pop(PageState::free);
      if (f == kNone) {
        unlock(old);
        break;
      }
      list_insert(f, PageState::active);  // its own while it is zeroed
      unlock(old);
      cpu().fill_block(frame_address(f), 0, kPageSize);
      ++stats_.pages_zeroed;
      old = lock();
      list_remove(f);
      list_insert(f, PageState::zeroed);
      unlock(old);
    }
  }
}

}  // namespace mm
