#pragma once
// A filter driver attached over the disk (\Driver\DiskFilter): every read and write passes
// through it down the stack with a completion routine that
//   - keeps per-request statistics (count, bytes, issue-to-completion latency histogram), and
//   - keeps a write-through cache of recently read and written sectors (in pool memory),
//     starting a read-ahead of the sectors after each read that missed.
// Its fast I/O read routine answers a read entirely from the cache, with no IRP at all; a read
// it cannot answer goes the IRP path. The cache is a driver's, not a file system's: the shape
// of a caching filter, small and exact rather than a model of the Windows cache manager.
#include <cstdint>
#include <list>
#include <map>

#include "sw/io/io_manager.h"
#include "sw/ke/histogram.h"

namespace drivers {

class FilterDriver : public io::PnpDevice {
 public:
  struct Params {
    std::uint64_t cache_sectors = 64;  // 0 = no cache (statistics only)
    std::uint32_t read_ahead_sectors = 16;
    bool fast_io = true;
    unsigned dispatch_cycles = 80, completion_cycles = 60;
  };
  struct Stats {
    std::uint64_t reads = 0, writes = 0, bytes = 0, errors = 0;
    std::uint64_t cache_hits = 0, cache_misses = 0, read_aheads = 0, read_ahead_discarded = 0;
    ke::Histogram latency;  // issue to completion as seen by this layer
  };

  FilterDriver(io::IoManager& io, Params params);
  // DriverEntry: loads \Driver\DiskFilter (with the fast I/O read path if `params` cache and
  // allow it). Once per boot; every filter device shares the driver object.
  static io::DriverObject& driver_entry(io::IoManager& io, const Params& params);
  // AddDevice: creates this filter's device and attaches it over `disk`. False on failure.
  bool attach(io::DriverObject& driver, io::DeviceObject& disk);
  // PnP: an upper filter has no hardware of its own; it passes every PnP IRP down and, on
  // REMOVE_DEVICE, detaches and deletes its device (IoManager::dispatch_pnp).
  io::Status start(const io::ResourceList&, const io::ResourceList&) override {
    return io::Status::success;
  }
  // DriverEntry + AddDevice: attaches over `disk`'s stack. False on failure.
  const Stats& stats() const { return stats_; }
  io::DeviceObject* device() const { return device_; }

 private:
  static io::Status dispatch_pass(io::DeviceObject* d, io::Irp* irp);
  static io::Status dispatch_rw(io::DeviceObject* d, io::Irp* irp);
  static io::Status rw_done(io::DeviceObject* d, io::Irp* irp, void* context);
  static io::Status read_ahead_done(io::DeviceObject* d, io::Irp* irp, void* context);
  static bool fast_read(io::FileObject* file, std::uint64_t offset, std::uint32_t length,
                        std::uint64_t buffer, io::IoStatusBlock* status, io::DeviceObject* d);

  // Copies sectors between a buffer and the cache; `insert` adds missing ones (LRU eviction).
  // Each takes the cache spin lock.
  void cache_store(std::uint64_t lba, std::uint64_t sectors, std::uint64_t buffer);
  bool cache_load(std::uint64_t lba, std::uint64_t sectors, std::uint64_t buffer);
  bool cached(std::uint64_t lba);
  void cache_store_locked(std::uint64_t lba, std::uint64_t sectors, std::uint64_t buffer);
  void read_ahead(std::uint64_t lba);

  io::IoManager& io_;
  Params params_;
  io::DeviceObject* device_ = nullptr;
  io::DeviceObject* lower_ = nullptr;
  std::map<std::uint64_t, std::pair<std::uint64_t, std::list<std::uint64_t>::iterator>> cache_;
  std::list<std::uint64_t> lru_;    // most recent first
  std::uint64_t writes_epoch_ = 0;  // read-aheads older than a write are dropped
  bool read_ahead_busy_ = false;
  ke::SpinLock cache_lock_;  // guards cache_ and lru_
  Stats stats_;
};

}  // namespace drivers
